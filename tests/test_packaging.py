"""What a regular (not editable) install ships: every package of the source tree."""

from __future__ import annotations

import tomllib

from tests.conftest import REPO


def test_every_package_is_listed_for_setuptools() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    roots = {name: REPO / folder for name, folder in config["package-dir"].items()}
    found = {
        ".".join([name, *init.parent.relative_to(root).parts])
        for name, root in roots.items() for init in root.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
