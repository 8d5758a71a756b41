"""What ``coe import magnum`` writes: a template file, or a stack file's content."""

from __future__ import annotations

from typing import Any

import yaml

from coe_provider.magnum.convert import Imported
from coe_provider.spec.yamldump import SafeDumper


def template_file(imported: Imported, source: str) -> str:
    """A ``templateFile`` for clusters (the driver goes on each cluster)."""
    assert imported.cluster is not None
    return template_header(imported, source) + _dump(imported.cluster["template"])


def stack_file(imported: Imported, source: str, cloud: str | None = None) -> str:
    """``Pulumi.<stack>.yaml`` content with ``coe:clusters`` holding one cluster."""
    assert imported.cluster is not None
    config: dict[str, Any] = {}
    if cloud:
        config["openstack:cloud"] = cloud
    config["coe:clusters"] = {imported.name: imported.cluster}
    return stack_header(source) + _dump({"config": config})


def template_header(imported: Imported, source: str) -> str:
    """The comment a new template file starts with."""
    assert imported.cluster is not None
    return (f"# Imported from Magnum cluster template {source} by `coe import magnum`.\n"
            f"# Clusters use it with: driver: {imported.cluster['driver']}, "
            "templateFile: <this file>\n")


def stack_header(source: str) -> str:
    """The comment a new stack file (or a cluster added to one) starts with."""
    return f"# Imported from Magnum {source} by `coe import magnum`.\n"


def _dump(document: Any) -> str:
    return yaml.dump(document, Dumper=SafeDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True)
