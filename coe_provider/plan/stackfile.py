"""A stack file as ``coe`` reads it: its configuration, the program it runs with, and its
offline plan (``coe plan``, ``coe audit`` and ``coe validate`` share these)."""

from __future__ import annotations

import re
import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from coe_provider.cliio import EXIT_FAILED, fail, read_json
from coe_provider.spec.errors import SpecError
from coe_provider.spec.yamlload import YamlLoadError, load_yaml_file

if TYPE_CHECKING:
    from coe_provider.plan.document import Plan
    from coe_provider.plan.openstack_answers import OpenStackAnswers
    from coe_provider.plan.runner import ProgramRun

# The plan runner and its provider answers load only when a plan runs, so `coe validate`
# starts faster.

STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>.+)\.ya?ml$")
"""``Pulumi.<stack>.yaml``: a stack's configuration file."""

ROOT_PROJECT = "coe-provider"
"""Project name of the repository's root program (its ``Pulumi.yaml``)."""

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
"""The folder that holds the ``coe_provider`` package (the repository, when editable)."""


def stack_name(file: Path) -> str:
    """``Pulumi.<stack>.yaml`` -> ``<stack>``; any other file -> its stem."""
    match = STACK_FILE.match(file.name)
    return match.group("stack") if match else file.stem


def read_stack_config(file: Path) -> tuple[dict[str, str], list[str]]:
    """The flattened configuration of a stack file (or of a bare cluster file)."""
    try:
        document = load_yaml_file(file)
    except YamlLoadError as exc:
        raise SpecError.single("", str(exc)) from None
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise SpecError.single(
            "", f"{file}: must hold a YAML mapping (got {type(document).__name__})")
    if "config" not in document and {"clusters", "cluster"} & set(document):
        document = {"config": {f"coe:{key}": value for key, value in document.items()}}
    if not isinstance(document.get("config") or {}, Mapping):
        raise SpecError.single("config", "must be a mapping of configuration keys")
    from coe_provider.plan.runner import config_from_stack_file

    return config_from_stack_file(document)


def root_program_directory() -> Path | None:
    """The repository's root Pulumi program (next to the package), when installed editable."""
    return PACKAGE_ROOT if (PACKAGE_ROOT / "__main__.py").is_file() else None


def program_directory(file: Path, program: Path | None) -> Path | None:
    """``--program``; else the stack file's own project when it has a program; else the root."""
    if program is not None:
        return program.resolve()
    here = file.resolve().parent
    if STACK_FILE.match(file.name) and (here / "__main__.py").is_file():
        return here
    return root_program_directory()


def project_name(directory: Path | None) -> str:
    """The ``name`` in a program's ``Pulumi.yaml``, as the runner reads it.

    ``None`` stands for the root program run from the installed package: ``coe-provider``.
    """
    if directory is None:
        return ROOT_PROJECT
    try:
        document = load_yaml_file(directory / "Pulumi.yaml")
    except YamlLoadError:
        return "project"
    if isinstance(document, Mapping) and isinstance(document.get("name"), str):
        return str(document["name"])
    return "project"


def run_stack_file(file: Path, program: Path | None = None,
                   openstack: OpenStackAnswers | None = None) -> ProgramRun:
    """Run a program with a stack file's configuration under the mocks runtime.

    The program runs from the stack file's directory, as ``pulumi`` runs a project from the
    directory that holds its stack files; relative paths in the configuration (such as
    ``templateFile``) resolve there. Without a root program directory (a non-editable
    install) the root program's entry point runs directly. ``openstack`` answers for the
    OpenStack resources (default: a fresh plan's).
    """
    from coe_provider.plan.runner import (
        program_environment,
        run_function,
        run_program_directory,
    )

    config, secret_keys = read_stack_config(file)
    stack = stack_name(file)
    directory = program_directory(file, program)
    here = file.resolve().parent
    if directory == here:
        return run_program_directory(directory, stack, config, secret_keys,
                                     openstack=openstack)
    if directory is not None and not (directory / "__main__.py").is_file():
        raise FileNotFoundError(f"{directory} has no __main__.py (a Pulumi Python program)")

    def entry_point() -> None:
        with program_environment(here, directory):
            if directory is None:
                from coe_provider.program import main

                main()
            else:
                runpy.run_path(str(directory / "__main__.py"), run_name="__main__")

    return run_function(entry_point, project=project_name(directory), stack=stack,
                        config=config, secret_keys=secret_keys, openstack=openstack)


def plan_stack_file(file: Path, program: Path | None = None,
                    state: Path | None = None) -> Plan:
    """The plan of a stack file (see :func:`run_stack_file`); ``state`` is a previous plan
    or a ``pulumi stack export``: ignored inputs keep their stored values and existing ports,
    load balancers and floating IPs their addresses."""
    from coe_provider.plan.document import build_plan
    from coe_provider.plan.state import PriorState, stack_mismatch

    if state is None:
        return build_plan(run_stack_file(file, program))
    document = read_json(state)
    other = stack_mismatch(document, stack_name(file), project_name(program_directory(
        file, program)))
    if other:
        fail(EXIT_FAILED, f"error: {state} is the state {other} ({file}); give the previous "
                          "plan (or pulumi stack export) of this stack")
    prior = PriorState.of(document)
    return build_plan(run_stack_file(file, program, prior.openstack_answers()), prior.inputs)
