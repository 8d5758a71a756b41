"""Run a Pulumi Python program under the SDK's mocks runtime and collect what it registered."""

from __future__ import annotations

import datetime
import gc
import json
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.mocks import set_mocks
from pulumi.runtime.stack import massage, register_stack_transformation, run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from coe_provider.plan.openstack_answers import OpenStackAnswers, Placeholder
from coe_provider.plan.provider_answers import ProviderAnswers
from coe_provider.plan.recorder import PlanMocks, RecordedResource, RecordingMonitor

GC_THRESHOLD = 50_000
"""Allocations between the collector's young-generation passes while a program runs."""

PLAN_CLOCK = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
"""The instant certificates are issued at in a plan, so plans are reproducible."""


@dataclass
class ProgramRun:
    """Everything one run under the mocks runtime registered."""

    project: str
    """Pulumi project name."""

    stack: str
    """Stack name."""

    resources: list[RecordedResource]
    """Every registration, sorted by URN."""

    stack_outputs: dict[str, Any]
    """The stack's exports, in wire form (secrets still wrapped)."""

    placeholders: list[Placeholder]
    """Data-source calls answered with invented values."""


def config_from_stack_file(document: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Flatten a ``Pulumi.<stack>.yaml`` ``config`` block as the CLI hands it to a program."""
    raw = document.get("config") or {}
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            values[key] = "[secure value: not decrypted offline]"
            secret_keys.append(key)
        elif isinstance(value, str):
            values[key] = value
        else:
            values[key] = json.dumps(value)
    return values, secret_keys


@contextmanager
def program_environment(cwd: Path, import_path: Path | None) -> Iterator[None]:
    """Run from ``cwd`` with ``import_path`` first on ``sys.path``, as ``pulumi`` runs a
    Python program; both are restored afterwards."""
    previous_cwd, previous_path = Path.cwd(), list(sys.path)
    os.chdir(cwd)
    if import_path is not None:
        sys.path.insert(0, str(import_path))
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        sys.path[:] = previous_path


def run_function(
    program: Callable[[], Any],
    project: str = "coe",
    stack: str = "plan",
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    seed: str = "coe-plan",
    providers: ProviderAnswers | None = None,
    openstack: OpenStackAnswers | None = None,
) -> ProgramRun:
    """Run ``program`` as a Pulumi program under the mocks runtime and record it.

    ``providers`` and ``openstack`` answer for the tls/random and OpenStack resources; by
    default a plan's deterministic answers (randomness from ``seed``, certificates issued at
    :data:`PLAN_CLOCK`, addresses in construction order).
    """
    openstack = openstack if openstack is not None else OpenStackAnswers()
    providers = providers if providers is not None else ProviderAnswers(seed, PLAN_CLOCK)
    mocks = PlanMocks(providers, openstack)
    monitor = RecordingMonitor(mocks)
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_all_config(dict(config or {}), secret_keys or [])
    set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)

    def note_construction(args: pulumi.ResourceTransformationArgs) -> None:
        openstack.constructed(args.type_, args.name)
        return None

    register_stack_transformation(note_construction)
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()
    def program_then_exports() -> None:
        program()
        # Under mocks the root stack finished before the program ran; register its exports
        # now, as the engine would once the program returns.
        root = pulumi_settings.get_root_resource()
        if isinstance(root, pulumi.ComponentResource):
            root.register_outputs(massage(getattr(root, "outputs", {}), []))

    # A program allocates many small, long-lived objects (one Output graph per resource):
    # the default gen-0 threshold (700) makes the collector rescan them thousands of times.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, thresholds[1], thresholds[2])
    try:
        _sync_await(run_pulumi_func(program_then_exports))
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        stack_root = pulumi_settings.get_root_resource()
        if stack_root is not None:
            pulumi_settings.ROOT.set(None)
    for urn, addresses in openstack.reported.items():
        if urn in monitor.recorded:
            monitor.recorded[urn].outputs = addresses
    return ProgramRun(
        project=project, stack=stack,
        resources=sorted(monitor.recorded.values(), key=lambda r: r.urn),
        stack_outputs=monitor.stack_outputs,
        placeholders=sorted(openstack.placeholders, key=lambda p: (p.token, str(p.args))),
    )


def run_program_directory(
    program_dir: Path,
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str] | None = None,
    seed: str = "coe-plan",
    providers: ProviderAnswers | None = None,
    openstack: OpenStackAnswers | None = None,
) -> ProgramRun:
    """Run the ``__main__.py`` of a Pulumi Python project directory under the mocks runtime
    (``providers`` and ``openstack`` as for :func:`run_function`)."""
    from coe_provider.spec.yamlload import load_yaml_file

    project_file = program_dir / "Pulumi.yaml"
    project = "project"
    if project_file.exists():
        document = load_yaml_file(project_file)
        if isinstance(document, Mapping) and isinstance(document.get("name"), str):
            project = document["name"]
    main = program_dir / "__main__.py"
    if not main.exists():
        raise FileNotFoundError(f"{program_dir} has no __main__.py (a Pulumi Python program)")

    def program() -> None:
        with program_environment(program_dir, program_dir):
            runpy.run_path(str(main), run_name="__main__")

    return run_function(program, project=project, stack=stack, config=config,
                        secret_keys=secret_keys, seed=seed, providers=providers,
                        openstack=openstack)
