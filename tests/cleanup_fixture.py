"""Two clusters with prefix-sharing names (prod, prod-2) and objects of neither, in one project."""

from __future__ import annotations

from typing import Any

from coe_provider.cleanup.target import CleanupTarget
from tests.fake_openstack import FakeCloud

PROD_TAG = "stk-prod-0a1b2c3d"
"""prod's cloud resource tag."""

PROD2_TAG = "stk-prod-2-4e5f6071"
"""prod-2's cloud resource tag: shares ``stk-prod-`` with prod's."""

PROD_NET, PROD2_NET = "net-prod", "net-prod-2"


def prod_target(retain: bool = False) -> CleanupTarget:
    """prod's selection parameters."""
    return CleanupTarget(cluster="prod", tag=PROD_TAG, network_id=PROD_NET,
                         retain_volumes=retain, subnet_id="subnet-prod")


def _balancer(id_: str, name: str, port: str, network: str, description: str = "",
              status: str = "ACTIVE") -> dict[str, Any]:
    return {"id": id_, "name": name, "description": description, "provisioning_status": status,
            "operating_status": "ONLINE", "vip_port_id": port, "vip_network_id": network,
            "vip_address": "10.0.0.50", "project_id": "p", "listeners": [], "pools": []}


def _port(id_: str, name: str, network: str, device_id: str = "", owner: str = "",
          tags: list[str] | None = None) -> dict[str, Any]:
    return {"id": id_, "name": name, "network_id": network, "device_id": device_id,
            "device_owner": owner, "tags": tags or [], "fixed_ips": [], "status": "DOWN"}


def _fip(id_: str, address: str, description: str, port: str | None) -> dict[str, Any]:
    return {"id": id_, "floating_ip_address": address, "description": description,
            "port_id": port, "floating_network_id": "public", "status": "ACTIVE"}


def _volume(id_: str, name: str, metadata: dict[str, str],
            attachments: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"id": id_, "name": name, "metadata": metadata, "size": 1,
            "status": "in-use" if attachments else "available",
            "attachments": attachments or []}


def two_clusters() -> FakeCloud:
    """prod's and prod-2's objects, the stack's own API balancer and strangers."""
    csi = "cinder.csi.openstack.org/cluster"
    svc = "Kubernetes external service"
    cloud = FakeCloud()
    for lb in (
        _balancer("lb-p1", f"kube_service_{PROD_TAG}_default_web", "port-vip-p1", PROD_NET,
                  f"{svc} default/web from cluster {PROD_TAG}"),
        _balancer("lb-p2", f"kube_ingress_{PROD_TAG}_shop_front", "port-vip-p2", PROD_NET,
                  f"Kubernetes Ingress front in namespace shop from cluster {PROD_TAG}, "
                  "version: 42"),
        # The name format before cloud-provider-openstack 1.15: only the description tells.
        _balancer("lb-p3", "a0123456789abcdef", "port-vip-p3", PROD_NET,
                  f"{svc} default/old from cluster {PROD_TAG}"),
        _balancer("lb-q1", f"kube_service_{PROD2_TAG}_default_web", "port-vip-q1", PROD2_NET,
                  f"{svc} default/web from cluster {PROD2_TAG}"),
        # prod's Service default/shop moved to prod-2 with its address (loadBalancerIP).
        _balancer("lb-q2", f"kube_service_{PROD2_TAG}_default_shop", "port-vip-q2", PROD2_NET,
                  f"{svc} default/shop from cluster {PROD2_TAG}"),
        _balancer("lb-api", "prod-api", "port-api", PROD_NET, "coe: Kubernetes API"),
        _balancer("lb-kube", "kube_service_kubernetes_default_web", "port-vip-k", "net-x",
                  f"{svc} default/web from cluster kubernetes"),
        _balancer("lb-pfx", f"kube_service_{PROD_TAG}-2_default_web", "port-vip-x", "net-x",
                  f"{svc} default/web from cluster {PROD_TAG}-2"),
    ):
        cloud.balancers[lb["id"]] = lb
    for port in (
        _port("port-vip-p1", "octavia-lb-lb-p1", PROD_NET, "lb-lb-p1", "Octavia"),
        _port("port-vip-p2", "octavia-lb-lb-p2", PROD_NET, "lb-lb-p2", "Octavia"),
        _port("port-vip-q1", "octavia-lb-lb-q1", PROD2_NET, "lb-lb-q1", "Octavia"),
        _port("port-vip-q2", "octavia-lb-lb-q2", PROD2_NET, "lb-lb-q2", "Octavia"),
        # prod's bastion: still running when the cleanup runs (nothing orders the two).
        _port("port-prod-bastion", "prod-bastion", PROD_NET, "server-bastion", "compute:nova",
              ["coe-cluster=prod"]),
        _port("port-api", "prod-api-vip", PROD_NET, "lb-lb-api", "Octavia"),
        # prod's node port, its server already deleted; prod-2's node, alive.
        _port("port-prod-m0", "prod-master-0", PROD_NET, tags=["coe-cluster=prod"]),
        _port("port-prod2-m0", "prod-2-master-0", PROD2_NET, "server-q", "compute:nova",
              ["coe-cluster=prod-2"]),
    ):
        cloud.ports[port["id"]] = port
    cloud.leftover_ports.add("port-vip-p2")
    for fip in (
        _fip("fip-p1", "203.0.113.10",
             f"Floating IP for {svc} default/web from cluster {PROD_TAG}", "port-vip-p1"),
        _fip("fip-q1", "203.0.113.11",
             f"Floating IP for {svc} default/web from cluster {PROD2_TAG}", "port-vip-q1"),
        # A user's own address handed to a Service (loadBalancerIP): not the provider's.
        _fip("fip-user", "203.0.113.12", "reserved by the web team", "port-vip-p2"),
        _fip("fip-node", "203.0.113.13", "coe node prod-master-0", "port-prod-m0"),
        # Allocated by prod for default/shop, now serving prod-2's balancer: prod-2's address.
        _fip("fip-moved", "203.0.113.14",
             f"Floating IP for {svc} default/shop from cluster {PROD_TAG}", "port-vip-q2"),
        # Allocated by prod for a Service deleted with keep-floatingip: unattached, prod's.
        _fip("fip-p-free", "203.0.113.15",
             f"Floating IP for {svc} default/gone from cluster {PROD_TAG}", None),
        _fip("fip-bastion", "203.0.113.16", "coe node prod-bastion", "port-prod-bastion"),
    ):
        cloud.floating_ips[fip["id"]] = fip
    for volume in (
        _volume("vol-p1", "pvc-1111", {csi: PROD_TAG, "csi.storage.k8s.io/pvc/name": "data"}),
        _volume("vol-p2", "pvc-2222", {csi: PROD_TAG},
                [{"attachment_id": "att-p2", "server_id": "gone", "volume_id": "vol-p2"}]),
        _volume("vol-q1", "pvc-3333", {csi: PROD2_TAG}),
        # prod's volume, now a static PersistentVolume of prod-2: attached to prod-2's node.
        _volume("vol-moved", "pvc-5555", {csi: PROD_TAG},
                [{"attachment_id": "att-m", "server_id": "server-q", "volume_id": "vol-moved"}]),
        _volume("vol-kube", "pvc-4444", {csi: "kubernetes"}),
        _volume("vol-etcd", "prod-master-0-etcd", {}),
    ):
        cloud.volumes[volume["id"]] = volume
    for server in ("server-q", "server-bastion"):
        cloud.servers[server] = {"id": server, "name": server, "status": "ACTIVE"}
    return cloud
