"""The README's configuration reference matches the spec models and every driver's labels."""

from __future__ import annotations

from coe_provider.spec.reference import END, START, render_reference
from tests.conftest import REPO


def test_readme_reference_is_generated_from_the_models() -> None:
    readme = (REPO / "README.md").read_text()
    assert START in readme and END in readme
    section = START + readme.split(START, 1)[1].split(END, 1)[0] + END
    assert section == render_reference(), (
        "README.md is stale: run python3 -m coe_provider.spec.reference --write README.md")


def test_every_spec_field_is_documented() -> None:
    from coe_provider.spec.models import ClusterSpec, ClusterTemplate, NodeGroupSpec

    for model in (ClusterSpec, ClusterTemplate, NodeGroupSpec):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no docstring"
