"""Shared fixtures: run programs under Pulumi's mocks runtime with the recording monitor."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coe_provider.plan.document import Plan, build_plan
from coe_provider.plan.recorder import RecordedResource
from coe_provider.plan.runner import (
    ProgramRun,
    config_from_stack_file,
    run_function,
    run_program_directory,
)
from coe_provider.plan.secrets import reveal
from coe_provider.spec.yamlload import load_yaml_file

REPO = Path(__file__).resolve().parent.parent
"""The repository root (the root Pulumi program lives here)."""

EXAMPLES = REPO / "examples"
"""Example programs."""

MINIMAL_TEMPLATE: dict[str, Any] = {
    "image": "ubuntu-24.04",
    "flavor": "m1.medium",
    "externalNetwork": "public",
}
"""The smallest valid template; labels that need a cloud are switched off per driver."""


@pytest.fixture(autouse=True)
def _plain_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """``coe``'s tables at their plain width (cliio.PLAIN_WIDTH) whoever runs the suite:
    pytest-xdist's workers (tests/run.sh) and some shells set COLUMNS=80, which wraps them."""
    monkeypatch.delenv("COLUMNS", raising=False)


class Recorded:
    """A program run with helpers to find resources and read their revealed inputs."""

    def __init__(self, run: ProgramRun) -> None:
        self.run = run
        self.plan: Plan = build_plan(run)

    @property
    def resources(self) -> list[RecordedResource]:
        """Every registration."""
        return self.run.resources

    def of_type(self, suffix: str) -> list[RecordedResource]:
        """Resources whose type token ends with ``suffix`` (e.g. ``compute/instance:Instance``)."""
        return [r for r in self.run.resources if r.type.endswith(suffix)]

    def named(self, suffix: str, name: str) -> RecordedResource:
        """The one resource of a type with a given name."""
        matches = [r for r in self.of_type(suffix) if r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources {suffix} named {name}"
        return matches[0]

    @staticmethod
    def inputs(resource: RecordedResource) -> dict[str, Any]:
        """Inputs with secrets unwrapped."""
        value: dict[str, Any] = reveal(resource.inputs)
        return value

    def output(self, name: str) -> Any:
        """A stack output, secrets unwrapped."""
        return reveal(self.run.stack_outputs.get(name))


def shell_functions(script: Path, *names: str) -> str:
    """The definitions of the named functions of a bash script (``name() {`` to ``}``)."""
    text = script.read_text()
    parts = []
    for name in names:
        start = text.index(f"\n{name}() {{\n") + 1
        parts.append(text[start:text.index("\n}\n", start) + 3])
    return "".join(parts)


def stack_config(path: Path) -> tuple[dict[str, str], list[str]]:
    """The flattened configuration of a stack file."""
    document = load_yaml_file(path)
    return config_from_stack_file(document)


@pytest.fixture
def run_root_program() -> Callable[[dict[str, Any]], Recorded]:
    """Run the repository's root program with a ``coe`` settings mapping as stack config."""

    def run(coe: dict[str, Any], extra: dict[str, Any] | None = None) -> Recorded:
        config, secret_keys = config_from_stack_file(
            {"config": {**{f"coe:{k}": v for k, v in coe.items()}, **(extra or {})}})
        return Recorded(run_program_directory(REPO, "test", config, secret_keys))

    return run


@pytest.fixture
def run_example() -> Callable[[str], Recorded]:
    """Run an example program with its (first) stack file."""

    def run(name: str) -> Recorded:
        directory = EXAMPLES / name
        stack_file = sorted(directory.glob("Pulumi.*.yaml"))
        stack_file = [p for p in stack_file if p.name != "Pulumi.yaml"]
        config, secret_keys = stack_config(stack_file[0])
        stack = stack_file[0].name.split(".")[1]
        return Recorded(run_program_directory(directory, stack, config, secret_keys))

    return run


@pytest.fixture
def run_program() -> Callable[[Callable[[], Any]], Recorded]:
    """Run a Python callable as a Pulumi program."""

    def run(program: Callable[[], Any]) -> Recorded:
        return Recorded(run_function(program))

    return run


def cluster_settings(driver: str, labels: dict[str, Any] | None = None,
                     **fields: Any) -> dict[str, Any]:
    """A ``coe`` settings mapping with one cluster named ``c1``.

    The minimal template has no route to the API from outside (no floating IP, no bastion),
    so the readiness gate is off unless a test turns it on (tests/test_health_gate.py)."""
    cluster: dict[str, Any] = {
        "driver": driver,
        "template": {**copy.deepcopy(MINIMAL_TEMPLATE), "labels": labels or {}},
        "masterCount": 1,
        "nodeGroups": [{"name": "default-worker", "count": 2}],
        "waitForReady": False,
    }
    for key, value in fields.items():
        if key == "template":
            cluster["template"].update(value)
        else:
            cluster[key] = value
    return {"clusters": {"c1": cluster}}
