"""Read the clusters of a stack: from ``pulumi.Config("coe")`` or from a YAML file."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pulumi

from coe_provider.spec.errors import SpecError
from coe_provider.spec.validation import ResolvedCluster, resolve_clusters
from coe_provider.spec.yamlload import YamlLoadError, load_yaml_file

Result = TypeVar("Result")

NAMESPACE = "coe"
"""Configuration namespace of the clusters: ``coe:clusters`` and ``coe:cluster``."""


def coe_settings_from_stack_config() -> dict[str, Any]:
    """The ``coe`` namespace of the running stack's configuration."""
    config = pulumi.Config(NAMESPACE)
    settings: dict[str, Any] = {}
    for key in ("clusters", "cluster"):
        try:
            value = config.get_object(key)
        except Exception as exc:  # the CLI hands objects as JSON; anything else is malformed
            raise SpecError.single(f"{NAMESPACE}:{key}", f"must be a mapping ({exc})") from None
        if value is not None:
            settings[key] = value
    return settings


def coe_settings_from_file(path: Path) -> dict[str, Any]:
    """The ``coe`` settings of a ``Pulumi.<stack>.yaml`` file or of a bare cluster file.

    A stack file holds them as ``config: {coe:clusters: ...}``; a cluster file holds
    ``clusters:`` (or ``cluster:``) at the top.
    """
    try:
        document = load_yaml_file(path)
    except YamlLoadError as exc:
        raise SpecError.single("", str(exc)) from None
    if not isinstance(document, Mapping):
        kind = type(document).__name__
        raise SpecError.single("", f"{path}: must hold a YAML mapping (got {kind})")
    if "config" in document:
        block = document["config"]
        if not isinstance(block, Mapping):
            raise SpecError.single("config", "must be a mapping of configuration keys")
        settings = {key.split(":", 1)[1]: value for key, value in block.items()
                    if isinstance(key, str) and key.startswith(f"{NAMESPACE}:")}
        if not settings:
            raise SpecError.single("config", f"no {NAMESPACE}: settings (set coe:clusters)")
        return settings
    return dict(document)


def load_clusters(settings: Mapping[str, Any], base_dir: Path) -> dict[str, ResolvedCluster]:
    """Validate every cluster; raise one :class:`SpecError` listing every problem."""
    return resolve_clusters(settings, base_dir)


def under_stack_config(config: Mapping[str, str], secret_keys: list[str],
                       call: Callable[[], Result]) -> Result:
    """Run ``call`` with ``config`` as the stack's configuration, as ``pulumi up`` would give it.

    Checks that read provider settings (``openstack:cloud``, ``openstack:authUrl``) then see
    the stack file's, outside a Pulumi program too. The SDK keeps the configuration in a
    context variable, so setting it in a copied context leaves the caller's untouched.
    """
    def run() -> Result:
        pulumi.runtime.set_all_config(dict(config), secret_keys)
        return call()
    return contextvars.copy_context().run(run)
