"""Each shared OpenStack building block, as any driver gets it from the base component."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Recorded, cluster_settings
from tests.validators import files_in

K8S = {"cloud_provider_enabled": False}
Run = Callable[..., Recorded]


def build(run_root_program: Run, **fields: Any) -> Recorded:
    return run_root_program(cluster_settings("k8s_ubuntu", K8S, **fields))


def test_managed_network_has_subnet_router_and_gateway(run_root_program: Run) -> None:
    run = build(run_root_program, template={"dnsNameservers": ["1.1.1.1", "9.9.9.9"]})
    subnet = run.named("networking/subnet:Subnet", "c1")
    assert subnet.inputs["cidr"] == "10.0.0.0/24"
    assert subnet.inputs["dnsNameservers"] == ["1.1.1.1", "9.9.9.9"]
    router = run.named("networking/router:Router", "c1")
    assert router.inputs["externalNetworkId"]
    interface = run.named("networking/routerInterface:RouterInterface", "c1")
    assert interface.inputs["subnetId"]
    # Servers wait for the router interface: without it they cannot reach package mirrors.
    for server in run.of_type("compute/instance:Instance"):
        assert interface.urn in server.dependencies
    assert [p.token for p in run.run.placeholders] == [
        "openstack:networking/getNetwork:getNetwork"]


def test_existing_network_is_looked_up_not_created(run_root_program: Run) -> None:
    run = build(run_root_program, template={"fixedNetwork": "tenant-net",
                                            "fixedSubnet": "tenant-subnet"})
    assert run.of_type("networking/network:Network") == []
    assert run.of_type("networking/router:Router") == []
    tokens = sorted(p.token for p in run.run.placeholders)
    assert tokens == ["openstack:networking/getNetwork:getNetwork",
                      "openstack:networking/getSubnet:getSubnet"]
    ports = run.of_type("networking/port:Port")
    assert len({p.inputs["networkId"] for p in ports}) == 1


def test_security_groups_use_remote_groups_inside_the_cluster(run_root_program: Run) -> None:
    run = build(run_root_program, template={"sshAllowedCidrs": ["192.0.2.0/24"]})
    groups = {g.name for g in run.of_type("networking/secGroup:SecGroup")}
    assert groups == {"c1-master", "c1-worker"}
    rules = run.of_type("networking/secGroupRule:SecGroupRule")
    by_prefix = [r for r in rules if r.inputs.get("remoteIpPrefix")]
    outside = {r.inputs["remoteIpPrefix"] for r in by_prefix} - {"10.0.0.0/24"}
    assert outside == {"0.0.0.0/0", "192.0.2.0/24"}
    for rule in by_prefix:
        if rule.inputs["remoteIpPrefix"] == "0.0.0.0/0":
            assert rule.inputs["portRangeMin"] == 6443, rule.name
        if rule.inputs["remoteIpPrefix"] == "192.0.2.0/24":
            assert rule.inputs["portRangeMin"] == 22, rule.name
    assert any(r.inputs.get("remoteGroupId") for r in rules)


def test_load_balancer_has_one_member_per_master_and_allowed_cidrs(run_root_program: Run) -> None:
    run = build(run_root_program, masterCount=5, template={
        "masterLbEnabled": True, "apiAllowedCidrs": ["198.51.100.0/24"]})
    assert len(run.of_type("loadbalancer/member:Member")) == 5
    listener = run.named("loadbalancer/listener:Listener", "c1-api")
    # The cluster subnet is always admitted: the nodes reach the API through the VIP.
    assert listener.inputs["allowedCidrs"] == ["198.51.100.0/24", "10.0.0.0/24"]
    monitor = run.named("loadbalancer/monitor:Monitor", "c1-api")
    assert monitor.inputs["type"] == "TCP"
    floating = run.named("networking/floatingIp:FloatingIp", "c1-api")
    assert floating.inputs["pool"] == "public"
    # Members hang off master ports, not servers: the balancer does not wait for boots.
    instances = {s.urn for s in run.of_type("compute/instance:Instance")}
    for member in run.of_type("loadbalancer/member:Member"):
        assert not instances & set(member.dependencies)


def test_balancer_without_floating_ip(run_root_program: Run) -> None:
    run = build(run_root_program, masterCount=3, template={
        "masterLbEnabled": True, "masterLbFloatingIpEnabled": False})
    assert run.of_type("networking/floatingIp:FloatingIp") == []
    vip = run.output("cluster:c1")["apiAddress"]
    assert vip.startswith("https://10.0.0.")


def test_server_groups_soft_anti_affinity_per_group(run_root_program: Run) -> None:
    run = build(run_root_program, nodeGroups=[{"name": "a", "count": 1},
                                              {"name": "b", "count": 1}])
    groups = {g.name: g for g in run.of_type("compute/serverGroup:ServerGroup")}
    assert sorted(groups) == ["c1-a", "c1-b", "c1-master"]
    assert {g.inputs["policies"] for g in groups.values()} == {"soft-anti-affinity"}
    server = run.named("compute/instance:Instance", "c1-b-0")
    assert server.inputs["schedulerHints"][0]["group"]
    assert groups["c1-b"].urn in server.dependencies


def test_volumes_boot_data_and_etcd_with_volume_type(run_root_program: Run) -> None:
    run = build(run_root_program, template={"bootVolumeSize": 40, "dockerVolumeSize": 50,
                                            "etcdVolumeSize": 10, "volumeType": "ssd"})
    master = run.named("compute/instance:Instance", "c1-master-0")
    devices = master.inputs["blockDevices"]
    boot = next(d for d in devices if d["bootIndex"] == 0)
    assert boot["sourceType"] == "image" and boot["destinationType"] == "volume"
    assert boot["volumeSize"] == 40 and boot["volumeType"] == "ssd"
    blank = next(d for d in devices if d["sourceType"] == "blank")
    assert blank["volumeSize"] == 50 and blank["volumeType"] == "ssd"
    assert "imageName" not in master.inputs, "a boot volume carries the image"
    etcd = run.named("blockstorage/volume:Volume", "c1-master-0-etcd")
    assert etcd.inputs["size"] == 10 and etcd.inputs["volumeType"] == "ssd"
    worker = run.named("compute/instance:Instance", "c1-default-worker-0")
    assert not [d for d in worker.inputs["blockDevices"] if d["sourceType"] == "volume"]
    assert "openstack:images/getImage:getImage" in [p.token for p in run.run.placeholders]


def test_keypair_floating_ips_and_metadata(run_root_program: Run) -> None:
    run = build(run_root_program, template={"keypair": "ops", "floatingIpEnabled": True})
    servers = run.of_type("compute/instance:Instance")
    assert {s.inputs["keyPair"] for s in servers} == {"ops"}
    floating = {f.name for f in run.of_type("networking/floatingIp:FloatingIp")}
    assert floating == {"c1-master-0", "c1-default-worker-0", "c1-default-worker-1"}


def test_proxy_settings_reach_the_bootstrap(run_root_program: Run) -> None:
    run = build(run_root_program, template={"httpProxy": "http://proxy.example:3128",
                                            "noProxy": "internal.example"})
    server = run.named("compute/instance:Instance", "c1-default-worker-0")
    env = files_in(Recorded.inputs(server)["userData"])["/etc/coe/node.env"]
    assert "HTTP_PROXY=http://proxy.example:3128" in env
    assert "NO_PROXY=internal.example,localhost,127.0.0.1,10.0.0.0/24" in env


def test_scaling_adds_nodes_at_the_end_and_remove_retires_one(run_root_program: Run) -> None:
    run = build(run_root_program, nodeGroups=[{"name": "w", "count": 3, "remove": [1]}])
    names = sorted(s.name for s in run.of_type("compute/instance:Instance"))
    assert names == ["c1-master-0", "c1-w-0", "c1-w-2", "c1-w-3"]


def test_nova_user_data_limit_is_checked_at_plan_time() -> None:
    from coe_provider.bootstrap.cloudconfig import UserDataTooLarge, check_user_data_size

    check_user_data_size("n", "x" * 49000)
    with pytest.raises(UserDataTooLarge, match="over Nova's limit of 65535"):
        check_user_data_size("n", "x" * 50000)
