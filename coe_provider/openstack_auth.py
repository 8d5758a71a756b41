"""Where the cloud's Keystone URL and region come from, for software running on the nodes.

The cloud controller manager on a node needs the Keystone URL the operator's ``pulumi up``
talks to. It is found, in order: an explicit value, the provider's stack configuration
(``openstack:authUrl`` / ``openstack:region``), ``OS_AUTH_URL`` / ``OS_REGION_NAME``, and the
``clouds.yaml`` entry named by ``openstack:cloud`` or ``OS_CLOUD``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pulumi
import yaml

CLOUDS_YAML_PATHS = (
    Path("clouds.yaml"),
    Path.home() / ".config" / "openstack" / "clouds.yaml",
    Path("/etc/openstack/clouds.yaml"),
)
"""Where openstacksdk looks for clouds.yaml, in its order."""


def _cloud_entry() -> dict[str, Any]:
    cloud = pulumi.Config("openstack").get("cloud") or os.environ.get("OS_CLOUD")
    if not cloud:
        return {}
    for path in CLOUDS_YAML_PATHS:
        if path.is_file():
            document = yaml.safe_load(path.read_text()) or {}
            entry = (document.get("clouds") or {}).get(cloud)
            if isinstance(entry, dict):
                return entry
    return {}


def keystone_url(explicit: str | None) -> str | None:
    """The Keystone URL nodes should use, or None when nothing names one."""
    if explicit:
        return explicit
    configured = pulumi.Config("openstack").get("authUrl") or os.environ.get("OS_AUTH_URL")
    if configured:
        return configured
    auth = _cloud_entry().get("auth") or {}
    return auth.get("auth_url") if isinstance(auth, dict) else None


def region_name(explicit: str | None) -> str:
    """The region nodes should use (``RegionOne`` when nothing names one)."""
    return (
        explicit
        or pulumi.Config("openstack").get("region")
        or os.environ.get("OS_REGION_NAME")
        or _cloud_entry().get("region_name")
        or "RegionOne"
    )
