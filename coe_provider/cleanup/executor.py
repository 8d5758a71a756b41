"""Find, delete and wait for one cluster's cloud objects with openstacksdk.

Order: refuse while a node of the cluster is still bound to a server (the cloud provider could
recreate what is deleted; the cluster's bastion does not count); delete the provider's floating
IPs; delete the balancers with cascade (listeners, pools, members and monitors go with them) and
wait until they are gone; delete ports the balancers left in the cluster network; then delete
the CSI volumes (with their snapshots), or detach and keep them. Every wait is bounded; a
timeout names what is stuck.

What carries the cluster's tag but is in use elsewhere is kept, untouched, and listed with the
reason: a floating IP attached to anything but a balancer this cleanup deletes and that it was
allocated for, and a volume attached to a server that is not one of the cluster's nodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coe_provider.cleanup import selection
from coe_provider.cleanup.target import CleanupTarget
from coe_provider.openstack import settings as provider_settings
from coe_provider.openstack.settings import arguments_from_environment

DEFAULT_TIMEOUT = 600.0
"""Seconds the balancer and volume deletions may take together."""

DEFAULT_INTERVAL = 2.0
"""Seconds between polls while waiting."""


class CleanupError(RuntimeError):
    """The cleanup cannot go on; the message says what to look at."""


@dataclass(frozen=True)
class CloudObject:
    """One object the cleanup handles."""

    kind: str
    """``load balancer``, ``floating IP``, ``port`` or ``volume``."""

    id: str
    """Its OpenStack ID."""

    name: str
    """Its name (the address for a floating IP)."""

    reason: str = ""
    """Why it was kept (empty for a deleted object)."""

    def __str__(self) -> str:
        return f"{self.kind} {self.name or '-'} ({self.id})"


@dataclass
class CleanupReport:
    """What the cleanup deleted (or would delete) and what it kept."""

    target: CleanupTarget
    """Whose objects."""

    deleted: list[CloudObject] = field(default_factory=list)
    """Deleted objects (with ``dry_run``: objects that would be deleted)."""

    kept: list[CloudObject] = field(default_factory=list)
    """Objects carrying the cluster's tag that stay, each with its reason."""

    dry_run: bool = False
    """Nothing was changed."""

    def lines(self) -> list[str]:
        """Human-readable summary, one object per line."""
        verb = "would delete" if self.dry_run else "deleted"
        keep = "would keep" if self.dry_run else "kept"
        head = f"cluster {self.target.cluster} (cloud resource tag {self.target.tag})"
        lines = [f"{head}: {verb} {len(self.deleted)} object(s), {len(self.kept)} kept"]
        lines += [f"  {verb}: {item}" for item in self.deleted]
        lines += [f"  {keep}: {item}: {item.reason}" for item in self.kept]
        return lines

    def as_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        def rows(items: list[CloudObject]) -> list[dict[str, str]]:
            return [{"kind": i.kind, "id": i.id, "name": i.name,
                     **({"reason": i.reason} if i.reason else {})} for i in items]
        return {"cluster": self.target.cluster, "tag": self.target.tag,
                "dryRun": self.dry_run, "deleted": rows(self.deleted), "kept": rows(self.kept)}


def connect(target: CleanupTarget) -> Any:
    """An openstacksdk connection as the OpenStack provider makes one: its stack settings
    (stored with the cleanup command) over clouds.yaml / ``OS_*``."""
    return provider_settings.connect(target.cloud, target.region, arguments_from_environment())


def _obj(kind: str, item: Any, name_field: str = "name", reason: str = "") -> CloudObject:
    return CloudObject(kind, str(item.id), str(getattr(item, name_field, None) or ""), reason)


RETAINED = "retainVolumesOnDelete (detached)"
"""Why a CSI volume of the cluster is kept when the cluster asks for it."""


class Cleanup:
    """The cleanup of one cluster over one connection."""

    def __init__(self, conn: Any, target: CleanupTarget, timeout: float = DEFAULT_TIMEOUT,
                 interval: float = DEFAULT_INTERVAL,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.conn = conn
        self.target = target
        self._deadline = clock() + timeout
        self._timeout = timeout
        self._interval = interval
        self._clock = clock
        self._sleep = sleep

    def run(self, dry_run: bool = False) -> CleanupReport:
        """Do (or, with ``dry_run``, list) the whole cleanup."""
        tag, report = self.target.tag, CleanupReport(self.target, dry_run=dry_run)
        cluster_ports = self._refuse_live_nodes()
        balancers = selection.select(self.conn.load_balancer.load_balancers(),
                                     selection.is_cluster_balancer, tag)
        floating_ips, kept_ips = self._floating_ips(balancers)
        volumes, kept_volumes = self._volumes(cluster_ports)
        report.deleted += [_obj("floating IP", f, "floating_ip_address") for f in floating_ips]
        report.deleted += [_obj("load balancer", b) for b in balancers]
        report.kept += kept_ips
        if dry_run:
            report.deleted += [_obj("port", p) for p in self._balancer_ports(balancers)]
        else:
            for floating_ip in floating_ips:
                self.conn.network.delete_ip(floating_ip, ignore_missing=True)
            self._delete_balancers(balancers)
            for port in self._balancer_ports(balancers):
                self.conn.network.delete_port(port, ignore_missing=True)
                report.deleted.append(_obj("port", port))
        if self.target.retain_volumes:
            report.kept += [_obj("volume", v, reason=RETAINED) for v in volumes]
        else:
            report.deleted += [_obj("volume", v) for v in volumes]
        report.kept += kept_volumes
        if not dry_run:
            self._handle_volumes(volumes)
        return report

    def _floating_ips(self, balancers: list[Any]) -> tuple[list[Any], list[CloudObject]]:
        """The addresses to delete, and those kept with their reason.

        Deleted: the cluster's cloud provider allocated it (its description names the tag) and
        it is unattached, or attached to a balancer deleted here that it was allocated for.
        Kept and listed: one of the cluster's addresses attached elsewhere (another cluster's
        Service took it over), and someone else's address on a balancer deleted here.
        """
        by_port = {str(getattr(b, "vip_port_id", "") or ""): b for b in balancers}
        by_port.pop("", None)
        delete: list[Any] = []
        kept: list[CloudObject] = []
        for address in selection.select(self.conn.network.ips(), lambda _item: True):
            ours = selection.is_cluster_floating_ip(address, self.target.tag)
            port = str(getattr(address, "port_id", None) or "")
            balancer = by_port.get(port)
            if ours and (not port or (balancer is not None
                                      and selection.allocated_for(address, balancer))):
                delete.append(address)
            elif ours:
                where = (f"load balancer {balancer.name} ({balancer.id}), which it was not "
                         "allocated for" if balancer is not None else
                         f"port {port}, which is no load balancer this cleanup deletes "
                         "(another cluster's Service may have taken it over)")
                kept.append(_obj("floating IP", address, "floating_ip_address",
                                 f"attached to {where}"))
            elif balancer is not None:
                kept.append(_obj("floating IP", address, "floating_ip_address",
                                 "not allocated by this cluster's cloud provider; Neutron "
                                 f"releases it from load balancer {balancer.name} when that "
                                 "goes"))
        return delete, kept

    def _volumes(self, cluster_ports: list[Any]) -> tuple[list[Any], list[CloudObject]]:
        """The cluster's CSI volumes to handle, and those attached to a server that is not
        one of its nodes (kept: neither detached nor deleted)."""
        ours = {str(getattr(p, "device_id", "") or "") for p in cluster_ports}
        ours.discard("")
        handled: list[Any] = []
        kept: list[CloudObject] = []
        for volume in selection.select(self.conn.block_storage.volumes(details=True),
                                       selection.is_cluster_volume, self.target.tag):
            foreign = [server for server in _attached_servers(volume)
                       if server not in ours and self._server_exists(server)]
            if foreign:
                kept.append(_obj("volume", volume, reason=(
                    f"attached to server {', '.join(foreign)}, which is not a node of cluster "
                    f"{self.target.cluster}")))
            else:
                handled.append(volume)
        return handled, kept

    def _server_exists(self, server_id: str) -> bool:
        """The server is still there (an attachment to a deleted server is stale)."""
        from openstack import exceptions

        try:
            self.conn.compute.get_server(server_id)
        except exceptions.NotFoundException:
            return False
        return True

    def _refuse_live_nodes(self) -> list[Any]:
        """The cluster's own ports (nodes and bastion); refuse while a node is bound."""
        ports = list(self.conn.network.ports(network_id=self.target.network_id))
        live = selection.select(ports, selection.is_live_node_port, self.target.cluster)
        if live:
            names = ", ".join(str(getattr(p, "name", "") or p.id) for p in live)
            raise CleanupError(
                f"cluster {self.target.cluster}: node port(s) {names} are still bound to "
                "servers; the cleanup runs only after every server of the cluster is deleted "
                "(its cloud provider would recreate what is removed)")
        return selection.select(ports, selection.is_cluster_port, self.target.cluster)

    def _balancer_ports(self, balancers: list[Any]) -> list[Any]:
        ids = [str(b.id) for b in balancers]
        if not ids:
            return []
        ports = self.conn.network.ports(network_id=self.target.network_id)
        return selection.select(ports, selection.is_balancer_port, self.target.network_id, ids)

    def _delete_balancers(self, balancers: list[Any]) -> None:
        for balancer in balancers:
            if str(getattr(balancer, "provisioning_status", "")) not in selection.GONE_STATUSES:
                self.conn.load_balancer.delete_load_balancer(
                    balancer, ignore_missing=True, cascade=True)
        self._wait_gone([_obj("load balancer", b) for b in balancers],
                        self.conn.load_balancer.get_load_balancer, "provisioning_status")

    def _handle_volumes(self, volumes: list[Any]) -> None:
        detached = []
        for volume in volumes:
            for attachment in getattr(volume, "attachments", None) or []:
                attachment_id = attachment.get("attachment_id") or attachment.get("id")
                if attachment_id:
                    self.conn.block_storage.detach_volume(volume, attachment_id)
                    detached.append(volume)
        # Cinder deletes (and a later attach elsewhere needs) a volume that is available.
        self._wait_for([_obj("volume", v) for v in detached], self.conn.block_storage.get_volume,
                       "status", done=lambda status: status in ("available", "error"))
        if self.target.retain_volumes:
            return
        for volume in volumes:
            self.conn.block_storage.delete_volume(volume, ignore_missing=True, cascade=True)
        self._wait_gone([_obj("volume", v) for v in volumes],
                        self.conn.block_storage.get_volume, "status")

    def _wait_gone(self, objects: list[CloudObject], get: Callable[[str], Any],
                   status_field: str) -> None:
        """Poll until every object answers 404, or fail naming those still there."""
        self._wait_for(objects, get, status_field, done=lambda status: status.lower() == "deleted")

    def _wait_for(self, objects: list[CloudObject], get: Callable[[str], Any],
                  status_field: str, done: Callable[[str], bool]) -> None:
        """Poll until every object is gone (404) or ``done(status)``, or fail naming the rest."""
        from openstack import exceptions

        pending = {o.id: o for o in objects}
        while True:
            states: dict[str, str] = {}
            for object_id in list(pending):
                try:
                    states[object_id] = str(getattr(get(object_id), status_field, ""))
                except exceptions.NotFoundException:
                    pending.pop(object_id)
                    continue
                if done(states[object_id]):
                    pending.pop(object_id)
            if not pending:
                return
            if self._clock() >= self._deadline:
                stuck = ", ".join(f"{o} in {states.get(i, '?')}" for i, o in pending.items())
                subnet = f"subnet {self.target.subnet_id}" if self.target.subnet_id else "network"
                raise CleanupError(
                    f"cluster {self.target.cluster}: not done after {self._timeout:g} s: "
                    f"{stuck}; the delete of the {subnet} that follows would fail on it")
            self._sleep(self._interval)


def _attached_servers(volume: Any) -> list[str]:
    """The server IDs a volume is attached to."""
    servers = [str(a.get("server_id") or "") for a in getattr(volume, "attachments", None) or []]
    return [server for server in servers if server]


def run_cleanup(target: CleanupTarget, dry_run: bool = False,
                timeout: float = DEFAULT_TIMEOUT, interval: float = DEFAULT_INTERVAL,
                conn: Any = None) -> CleanupReport:
    """Connect (unless ``conn`` is given) and clean up, or only list with ``dry_run``."""
    return Cleanup(conn if conn is not None else connect(target), target,
                   timeout=timeout, interval=interval).run(dry_run)
