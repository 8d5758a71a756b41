"""The package's shape: no import circle, commands and provider processes that import only
what they use, and pickled provider paths that states recorded by earlier releases name."""

from __future__ import annotations

import ast
import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dill
import pytest

from tests.conftest import REPO

PACKAGES = {"coe_provider": REPO / "coe_provider", "coe_provider_drivers": REPO / "drivers"}
"""Import name -> source folder (the drivers install as coe_provider_drivers)."""

RECORDED_GATE_PROVIDER = (
    "gASVNQAAAAAAAACMGGNvZV9wcm92aWRlci5oZWFsdGguZ2F0ZZSMEVJlYWRpbmVzc1Byb3ZpZGVylJOUKYGULg==")
"""The readiness gate's ``__provider`` input as the previous release pickled it: ``coe plan
examples/k8s-ha/Pulumi.prod.yaml`` at ec8d179, resource prod-ready (what ``pulumi up`` stores
in the state, and what the dynamic provider host unpickles with dill)."""

HEAVY = ("pulumi_openstack", "coe_provider_drivers")
"""What a command that builds nothing must not import."""


def module_name(package: str, root: Path, path: Path) -> str:
    """Dotted module name of a source file."""
    parts = [package, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(tree: ast.AST, module: str) -> Iterator[str]:
    """Every name an import statement in ``tree`` may load: module level, in functions and
    under ``if TYPE_CHECKING`` alike (a circle held apart by a deferred import is a circle);
    ``from a import b`` yields ``a`` and ``a.b`` (b may be a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                parent = module.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(packages: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package modules it imports (ast-based: no code runs)."""
    files = {module_name(package, root, path): path
             for package, root in packages.items() for path in root.rglob("*.py")}
    return {module: {name for name in imported_names(ast.parse(path.read_text()), module)
                     if name in files and name != module}
            for module, path in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_package_has_no_import_circle() -> None:
    graph = import_graph(PACKAGES)
    assert len(graph) > 80  # the walk found the package
    assert "coe_provider.health.gate" in graph["coe_provider.cluster.base"]
    assert circles(graph) == []


def test_the_circle_check_finds_a_circle_hidden_in_a_function(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import c\n")
    (package / "c.py").write_text("def later():\n    from pkg import a\n")
    assert circles(import_graph({"pkg": package})) == [["pkg.a", "pkg.b", "pkg.c"]]


def loaded_modules(code: str) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter; which of :data:`HEAVY` it imported."""
    probe = (f"{code}\nimport json, sys\nprint(json.dumps({{name: any(m == name or "
             f"m.startswith(name + '.') for m in sys.modules) for name in {HEAVY!r}}}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=REPO, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


LIGHT_ENTRY_POINTS = {
    "coe --help": ("import sys\nfrom coe_provider.cli import main\nsys.argv = ['coe', '--help']"
                   "\ntry:\n    main()\nexcept SystemExit:\n    pass"),
    "coe status and coe cleanup (their modules)": (
        "import coe_provider.cli, coe_provider.health.command, coe_provider.health.status, "
        "coe_provider.health.outputs, coe_provider.cleanup.command, "
        "coe_provider.cleanup.operator"),
    "the cleanup's delete step": "import coe_provider.cleanup.__main__",
    "the gate's provider process (unpickling the provider)": (
        f"import base64, dill\ndill.loads(base64.b64decode({RECORDED_GATE_PROVIDER!r}))"),
    "the package's public names": "from coe_provider import ClusterSpec, SpecError",
    "the cleanup's provider process (unpickling the provider)": (
        "import base64, dill\nfrom pulumi.dynamic.dynamic import serialize_provider\n"
        "from coe_provider.cleanup.resource import CloudCleanupProvider\n"
        "dill.loads(base64.b64decode(serialize_provider(CloudCleanupProvider())))"),
}


@pytest.mark.parametrize("code", LIGHT_ENTRY_POINTS.values(), ids=LIGHT_ENTRY_POINTS.keys())
def test_commands_that_build_nothing_do_not_import_the_drivers(code: str) -> None:
    assert loaded_modules(code) == dict.fromkeys(HEAVY, False)


def test_the_heavy_check_sees_a_driver_import() -> None:
    # The same probe reports them when they are imported: the test above can fail.
    assert loaded_modules("from coe_provider import CoeCluster\n"
                          "import coe_provider_drivers.k8s_ubuntu") == dict.fromkeys(HEAVY, True)


def test_the_package_keeps_its_public_names() -> None:
    import coe_provider
    from coe_provider.cluster.base import CoeCluster
    from coe_provider.spec.models import ClusterSpec

    assert coe_provider.CoeCluster is CoeCluster
    assert coe_provider.ClusterSpec is ClusterSpec
    assert set(coe_provider.__all__) <= set(dir(coe_provider))
    for name in coe_provider.__all__:
        assert getattr(coe_provider, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = coe_provider.nothing


def test_a_gate_provider_recorded_by_the_previous_release_still_loads() -> None:
    from coe_provider.health.gate import ReadinessProvider

    provider = dill.loads(base64.b64decode(RECORDED_GATE_PROVIDER))
    assert type(provider) is ReadinessProvider


def test_the_gate_provider_is_pickled_by_reference() -> None:
    # As the engine stores it (pulumi.dynamic serializes with dill, recurse=True): a reference
    # to the module path, never a copy of the class, so a state keeps naming the path.
    from pulumi.dynamic.dynamic import serialize_provider

    from coe_provider.health.gate import ReadinessProvider

    pickled = base64.b64decode(serialize_provider(ReadinessProvider()))
    assert b"coe_provider.health.gate" in pickled and b"ReadinessProvider" in pickled
    assert b"_wait" not in pickled  # no method bodies: not a copy of the class
    assert pickled == base64.b64decode(RECORDED_GATE_PROVIDER)


def test_the_cleanup_provider_is_pickled_by_reference() -> None:
    # The state names the cleanup's provider by module path too: it must stay a reference.
    from pulumi.dynamic.dynamic import serialize_provider

    from coe_provider.cleanup.resource import CloudCleanupProvider

    pickled = base64.b64decode(serialize_provider(CloudCleanupProvider()))
    assert b"coe_provider.cleanup.resource" in pickled and b"CloudCleanupProvider" in pickled
    assert type(dill.loads(pickled)) is CloudCleanupProvider
