"""Where the cloud's Keystone URL and region come from, for software running on the nodes.

The cloud controller manager on a node needs the Keystone URL the operator's ``pulumi up``
talks to. It is found, in order: an explicit value, the provider's stack configuration
(``openstack:authUrl`` / ``openstack:region``), ``OS_AUTH_URL`` / ``OS_REGION_NAME``, and the
``clouds.yaml`` entry named by ``openstack:cloud`` or ``OS_CLOUD``.

clouds.yaml is read with openstacksdk's own loader, so it is found where the OpenStack
provider and the ``openstack`` client find it (``OS_CLIENT_CONFIG_FILE`` first, then the
working directory, ``~/.config/openstack`` and ``/etc/openstack``), with ``secure.yaml`` and
vendor profiles merged in.
"""

from __future__ import annotations

import os
from typing import Any

import pulumi


def cloud_name() -> str | None:
    """The clouds.yaml entry the stack uses (``openstack:cloud``, else ``OS_CLOUD``)."""
    return pulumi.Config("openstack").get("cloud") or os.environ.get("OS_CLOUD") or None


def _load_cloud() -> tuple[dict[str, Any], str | None]:
    """The named cloud's merged configuration (empty when none is named or found), and why
    it could not be read, if it could not."""
    name = cloud_name()
    if not name:
        return {}, None
    # openstacksdk takes a quarter of a second to import: only a named cloud needs it.
    from openstack import exceptions as openstack_exceptions
    from openstack.config import loader

    try:
        region = loader.OpenStackConfig().get_one(cloud=name, validate=False)
    except openstack_exceptions.ConfigException as error:
        return {}, str(error).rstrip(".")
    except Exception as error:  # a clouds.yaml of the wrong shape fails inside the loader
        return {}, f"clouds.yaml could not be read ({type(error).__name__}: {error})"
    return dict(region.config), None


def _cloud_entry() -> dict[str, Any]:
    """The named cloud's merged configuration, or an empty one when none is named or found."""
    return _load_cloud()[0]


def keystone_url(explicit: str | None) -> str | None:
    """The Keystone URL nodes should use, or None when nothing names one."""
    if explicit:
        return explicit
    configured = pulumi.Config("openstack").get("authUrl") or os.environ.get("OS_AUTH_URL")
    if configured:
        return configured
    auth = _cloud_entry().get("auth") or {}
    url = auth.get("auth_url") if isinstance(auth, dict) else None
    return str(url) if url else None


def missing_url_rule(setting: str) -> str:
    """Why no Keystone URL was found, for the check that needs one (``setting`` needs it)."""
    rule = (f"{setting} needs the Keystone URL: set this label, openstack:authUrl, "
            "OS_AUTH_URL, or a clouds.yaml entry named by openstack:cloud")
    name = cloud_name()
    if name:
        problem = _load_cloud()[1] or "no auth_url"
        rule += (f" (cloud {name!r}: {problem}; clouds.yaml is read from $OS_CLIENT_CONFIG_FILE, "
                 "./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)")
    return rule


def region_name(explicit: str | None) -> str:
    """The region nodes should use (``RegionOne`` when nothing names one)."""
    return (
        explicit
        or pulumi.Config("openstack").get("region")
        or os.environ.get("OS_REGION_NAME")
        or _cloud_entry().get("region_name")
        or "RegionOne"
    )
