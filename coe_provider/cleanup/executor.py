"""Find, delete and wait for one cluster's cloud objects with openstacksdk.

Order: refuse while a node of the cluster is still bound to a server (the cloud provider could
recreate what is deleted); delete the provider's floating IPs; delete the balancers with
cascade (listeners, pools, members and monitors go with them) and wait until they are gone;
delete ports the balancers left in the cluster network; then delete the CSI volumes (with
their snapshots), or detach and keep them. Every wait is bounded; a timeout names what is stuck.
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
    """Retained volumes (detached)."""

    dry_run: bool = False
    """Nothing was changed."""

    def lines(self) -> list[str]:
        """Human-readable summary, one object per line."""
        verb = "would delete" if self.dry_run else "deleted"
        keep = "would keep" if self.dry_run else "kept (retainVolumesOnDelete)"
        head = f"cluster {self.target.cluster} (cloud resource tag {self.target.tag})"
        lines = [f"{head}: {verb} {len(self.deleted)} object(s), {len(self.kept)} kept"]
        lines += [f"  {verb}: {item}" for item in self.deleted]
        lines += [f"  {keep}: {item}" for item in self.kept]
        return lines

    def as_json(self) -> dict[str, Any]:
        """Machine-readable form."""
        def rows(items: list[CloudObject]) -> list[dict[str, str]]:
            return [{"kind": i.kind, "id": i.id, "name": i.name} for i in items]
        return {"cluster": self.target.cluster, "tag": self.target.tag,
                "dryRun": self.dry_run, "deleted": rows(self.deleted), "kept": rows(self.kept)}


def connect(target: CleanupTarget) -> Any:
    """An openstacksdk connection as the OpenStack provider makes one: its stack settings
    (stored with the cleanup command) over clouds.yaml / ``OS_*``."""
    return provider_settings.connect(target.cloud, target.region, arguments_from_environment())


def _obj(kind: str, item: Any, name_field: str = "name") -> CloudObject:
    return CloudObject(kind, str(item.id), str(getattr(item, name_field, None) or ""))


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
        self._refuse_live_nodes()
        floating_ips = selection.select(self.conn.network.ips(),
                                        selection.is_cluster_floating_ip, tag)
        balancers = selection.select(self.conn.load_balancer.load_balancers(),
                                     selection.is_cluster_balancer, tag)
        volumes = selection.select(self.conn.block_storage.volumes(details=True),
                                   selection.is_cluster_volume, tag)
        report.deleted += [_obj("floating IP", f, "floating_ip_address") for f in floating_ips]
        report.deleted += [_obj("load balancer", b) for b in balancers]
        if dry_run:
            report.deleted += [_obj("port", p) for p in self._balancer_ports(balancers)]
        else:
            for floating_ip in floating_ips:
                self.conn.network.delete_ip(floating_ip, ignore_missing=True)
            self._delete_balancers(balancers)
            for port in self._balancer_ports(balancers):
                self.conn.network.delete_port(port, ignore_missing=True)
                report.deleted.append(_obj("port", port))
        target_list = report.kept if self.target.retain_volumes else report.deleted
        target_list += [_obj("volume", v) for v in volumes]
        if not dry_run:
            self._handle_volumes(volumes)
        return report

    def _refuse_live_nodes(self) -> None:
        ports = self.conn.network.ports(network_id=self.target.network_id)
        live = selection.select(ports, selection.is_live_node_port, self.target.cluster)
        if live:
            names = ", ".join(str(getattr(p, "name", "") or p.id) for p in live)
            raise CleanupError(
                f"cluster {self.target.cluster}: node port(s) {names} are still bound to "
                "servers; the cleanup runs only after every server of the cluster is deleted "
                "(its cloud provider would recreate what is removed)")

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


def run_cleanup(target: CleanupTarget, dry_run: bool = False,
                timeout: float = DEFAULT_TIMEOUT, interval: float = DEFAULT_INTERVAL,
                conn: Any = None) -> CleanupReport:
    """Connect (unless ``conn`` is given) and clean up, or only list with ``dry_run``."""
    return Cleanup(conn if conn is not None else connect(target), target,
                   timeout=timeout, interval=interval).run(dry_run)
