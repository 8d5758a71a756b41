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
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi

from coe_provider.spec.models import ClusterOpenStack

OFFLINE_PLACEHOLDER = "https://keystone.invalid:5000/v3"
"""The Keystone URL an offline plan uses when nothing names one (``.invalid`` never
resolves, RFC 2606): ``coe plan`` needs no cloud and no credentials."""


class _Placeholder:
    """Whether an offline plan runs, and whether it stood in a placeholder URL. A plain
    object with a lock, not a context variable: the program's callbacks run on other
    threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.allowed = False
        self.used = False


_PLACEHOLDER = _Placeholder()


@contextmanager
def offline_keystone() -> Iterator[_Placeholder]:
    """Within, :func:`keystone_url` answers :data:`OFFLINE_PLACEHOLDER` where nothing names
    a URL; the yielded object's ``used`` says afterwards whether it did. Only ``coe plan``
    (and ``coe audit`` of a stack file) use this: ``coe validate`` and ``pulumi up`` keep
    requiring the real URL."""
    with _PLACEHOLDER.lock:
        _PLACEHOLDER.allowed, _PLACEHOLDER.used = True, False
    try:
        yield _PLACEHOLDER
    finally:
        with _PLACEHOLDER.lock:
            _PLACEHOLDER.allowed = False



def cloud_name(cluster: ClusterOpenStack | None = None) -> str | None:
    """The clouds.yaml entry the cluster's provider uses: its own ``openstack.cloud``, else the
    stack's (``openstack:cloud``, else ``OS_CLOUD``)."""
    if cluster is not None and cluster.cloud:
        return cluster.cloud
    return pulumi.Config("openstack").get("cloud") or os.environ.get("OS_CLOUD") or None


def _load_cloud(cluster: ClusterOpenStack | None = None) -> tuple[dict[str, Any], str | None]:
    """The named cloud's merged configuration (empty when none is named or found), and why
    it could not be read, if it could not."""
    name = cloud_name(cluster)
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


def _cloud_entry(cluster: ClusterOpenStack | None = None) -> dict[str, Any]:
    """The named cloud's merged configuration, or an empty one when none is named or found."""
    return _load_cloud(cluster)[0]


def _stack_setting(key: str, cluster: ClusterOpenStack | None) -> str | None:
    """``openstack:<key>``, which only the stack's default provider reads."""
    return None if cluster is not None else pulumi.Config("openstack").get(key)


def keystone_url(explicit: str | None, cluster: ClusterOpenStack | None = None) -> str | None:
    """The Keystone URL nodes should use, or None when nothing names one; ``cluster`` is the
    cluster's own provider, if it has one."""
    if explicit:
        return explicit
    configured = _stack_setting("authUrl", cluster) or os.environ.get("OS_AUTH_URL")
    if configured:
        return configured
    auth = _cloud_entry(cluster).get("auth") or {}
    url = auth.get("auth_url") if isinstance(auth, dict) else None
    if url:
        return str(url)
    with _PLACEHOLDER.lock:
        if _PLACEHOLDER.allowed:
            _PLACEHOLDER.used = True
            return OFFLINE_PLACEHOLDER
    return None


def missing_url_rule(setting: str, cluster: ClusterOpenStack | None = None) -> str:
    """Why no Keystone URL was found, for the check that needs one (``setting`` needs it)."""
    rule = (f"{setting} needs the Keystone URL: set this label, openstack:authUrl, "
            "OS_AUTH_URL, or a clouds.yaml entry named by openstack:cloud")
    name = cloud_name(cluster)
    if name:
        problem = _load_cloud(cluster)[1] or "no auth_url"
        rule += (f" (cloud {name!r}: {problem}; clouds.yaml is read from $OS_CLIENT_CONFIG_FILE, "
                 "./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)")
    return rule


def region_name(explicit: str | None, cluster: ClusterOpenStack | None = None) -> str:
    """The region nodes should use (``RegionOne`` when nothing names one)."""
    return (
        explicit
        or (cluster.region if cluster is not None else None)
        or _stack_setting("region", cluster)
        or os.environ.get("OS_REGION_NAME")
        or _cloud_entry(cluster).get("region_name")
        or "RegionOne"
    )
