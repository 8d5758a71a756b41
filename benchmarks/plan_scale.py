"""How the offline plan of a k8s_ubuntu cluster scales with its worker count.

Usage::

    python3 benchmarks/plan_scale.py --nodes 500 [--repeat 3] [--masters 3]

Plans a cluster shaped like ``examples/k8s-ha`` (3 masters behind Octavia, etcd volumes) with
``--nodes`` workers in one node group, and, for comparison, a hand-written pulumi-openstack
program that registers the same resource types in the same numbers (read from the cluster's
plan): what a person would write without the component. Both run under the same mocks
runtime and plan recorder, each in a fresh subprocess (so peak RSS is per run and the runtime
starts clean), alternating which goes first; the medians of ``--repeat`` runs are reported.

Prints ONE JSON line: nodes, resources, resources_per_worker, critical_path, seconds,
baseline_seconds, ratio (seconds / baseline_seconds), peak_rss_mb (of the cluster run), and a
few more figures.

Targets (issue 25): ratio <= 1.15 at 500 workers; 5000 workers planned in under 60 s and
1.5 GB peak on a 2-core machine; <= 3 resources per worker and a critical path that does not
grow with N.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from coe_provider.plan.openstack_answers import INSTANCE, PORT

DYNAMIC = "pulumi-python:dynamic:Resource"
"""The readiness gate's type token (a Pulumi dynamic resource)."""

CHILD_MODES = ("coe", "baseline")
"""What a child process plans: the component or the hand-written program."""



def cluster_program(nodes: int, masters: int) -> Callable[[], None]:
    """A program that builds one k8s_ubuntu cluster with ``nodes`` workers."""
    from coe_provider_drivers.k8s_ubuntu import KubernetesUbuntuCluster

    from coe_provider import ClusterSpec, ClusterTemplate, NodeGroupSpec

    spec = ClusterSpec(
        template=ClusterTemplate(
            image="ubuntu-24.04", flavor="m1.medium", master_flavor="m1.large",
            external_network="public", subnet_cidr="10.0.0.0/16",
            dns_nameservers=["1.1.1.1", "9.9.9.9"], docker_volume_size=50,
            etcd_volume_size=10, volume_type="ssd", master_lb_enabled=True,
            api_allowed_cidrs=["203.0.113.0/24"],
            labels={"kube_tag": "v1.36.4", "cni": "calico", "cloud_provider_enabled": False},
        ),
        master_count=masters,
        node_groups=[NodeGroupSpec(name="default-worker", count=nodes, min_count=0,
                                   max_count=max(nodes, 1))],
    )

    def program() -> None:
        KubernetesUbuntuCluster("bench", spec)

    return program


# A plausible hand-written rule set (role, protocol, port range, source); the baseline cycles
# through it until it has as many rules as the cluster's plan.
HAND_WRITTEN_RULES: list[tuple[str, str, int | None, int | None, str]] = [
    ("master", "tcp", 6443, 6443, "203.0.113.0/24"),
    ("master", "tcp", 6443, 6443, "10.0.0.0/16"),
    ("master", "tcp", 6443, 6443, "master"),
    ("master", "tcp", 6443, 6443, "worker"),
    ("master", "tcp", 2379, 2380, "master"),
    ("master", "tcp", 10250, 10250, "master"),
    ("master", "tcp", 10250, 10250, "worker"),
    ("worker", "tcp", 10250, 10250, "master"),
    ("worker", "tcp", 10250, 10250, "worker"),
    ("worker", "tcp", 30000, 32767, "10.0.0.0/16"),
    ("worker", "tcp", 30000, 32767, "master"),
    ("worker", "tcp", 30000, 32767, "worker"),
    ("master", "tcp", 179, 179, "master"),
    ("master", "tcp", 179, 179, "worker"),
    ("worker", "tcp", 179, 179, "master"),
    ("worker", "tcp", 179, 179, "worker"),
    ("master", "4", None, None, "master"),
    ("master", "4", None, None, "worker"),
    ("worker", "4", None, None, "master"),
    ("worker", "4", None, None, "worker"),
    ("master", "icmp", None, None, "master"),
    ("master", "icmp", None, None, "worker"),
    ("worker", "icmp", None, None, "master"),
    ("worker", "icmp", None, None, "worker"),
]


def baseline_program(counts: dict[str, int], masters: int) -> Callable[[], None]:
    """Plain pulumi-openstack code registering the cluster plan's types, as many of each."""
    import pulumi
    import pulumi_kubernetes as kubernetes
    import pulumi_openstack as openstack
    import pulumi_random as random
    import pulumi_tls as tls

    from coe_provider.health.gate import ReadinessGate

    def count(type_token: str) -> int:
        return counts.get(type_token, 0)

    def program() -> None:
        public = openstack.networking.get_network_output(name="public", external=True)
        network = openstack.networking.Network("bench", name="bench", admin_state_up=True)
        subnet = openstack.networking.Subnet(
            "bench", name="bench", network_id=network.id, cidr="10.0.0.0/16", ip_version=4,
            dns_nameservers=["1.1.1.1", "9.9.9.9"])
        router = openstack.networking.Router("bench", name="bench", admin_state_up=True,
                                             external_network_id=public.id)
        interface = openstack.networking.RouterInterface("bench", router_id=router.id,
                                                         subnet_id=subnet.id)
        groups = {role: openstack.networking.SecGroup(f"bench-{role}", name=f"bench-{role}")
                  for role in ("master", "worker")}
        for i, (role, protocol, low, high, source) in enumerate(
                islice(cycle(HAND_WRITTEN_RULES),
                       count("openstack:networking/secGroupRule:SecGroupRule"))):
            remote = ({"remote_group_id": groups[source].id} if source in groups
                      else {"remote_ip_prefix": source})
            openstack.networking.SecGroupRule(
                f"bench-rule-{i}", direction="ingress", ethertype="IPv4", protocol=protocol,
                port_range_min=low, port_range_max=high, security_group_id=groups[role].id,
                **remote)

        keys = [tls.PrivateKey(f"bench-key-{i}", algorithm="RSA", rsa_bits=2048)
                for i in range(count("tls:index/privateKey:PrivateKey"))]
        authorities = [
            tls.SelfSignedCert(
                f"bench-ca-{i}", private_key_pem=keys[i].private_key_pem,
                subject=tls.SelfSignedCertSubjectArgs(common_name=f"ca-{i}"),
                validity_period_hours=87600, is_ca_certificate=True,
                allowed_uses=["cert_signing", "digital_signature"])
            for i in range(count("tls:index/selfSignedCert:SelfSignedCert"))
        ]
        for i in range(count("tls:index/certRequest:CertRequest")):
            request = tls.CertRequest(
                f"bench-admin-{i}", private_key_pem=keys[-1].private_key_pem,
                subject=tls.CertRequestSubjectArgs(common_name="admin"))
        for i in range(count("tls:index/locallySignedCert:LocallySignedCert")):
            tls.LocallySignedCert(
                f"bench-admin-{i}", cert_request_pem=request.cert_request_pem,
                ca_private_key_pem=keys[0].private_key_pem,
                ca_cert_pem=authorities[0].cert_pem, validity_period_hours=8760,
                allowed_uses=["client_auth"])
        for i in range(count("random:index/randomString:RandomString")):
            random.RandomString(f"bench-token-{i}", length=16, special=False, upper=False)
        for i in range(count("random:index/randomId:RandomId")):
            random.RandomId(f"bench-id-{i}", byte_length=32)
        for i in range(count("openstack:identity/applicationCredential:ApplicationCredential")):
            openstack.identity.ApplicationCredential(f"bench-credential-{i}",
                                                     name=f"bench-credential-{i}")

        # Ports beyond one per server: the load balancer's VIP port, made first so its
        # address is known before the servers.
        vip_ports = [
            openstack.networking.Port(
                f"bench-api-vip-{i}", network_id=network.id,
                fixed_ips=[openstack.networking.PortFixedIpArgs(subnet_id=subnet.id)])
            for i in range(count(PORT) - count(INSTANCE))
        ]
        balancer = openstack.loadbalancer.LoadBalancer(
            "bench-api", vip_port_id=vip_ports[0].id if vip_ports else None,
            vip_subnet_id=None if vip_ports else subnet.id)
        pool = openstack.loadbalancer.Pool("bench-api", protocol="TCP",
                                           lb_method="ROUND_ROBIN",
                                           loadbalancer_id=balancer.id)
        openstack.loadbalancer.Monitor("bench-api", pool_id=pool.id, type="TCP", delay=10,
                                       timeout=5, max_retries=3)
        openstack.loadbalancer.Listener("bench-api", protocol="TCP", protocol_port=6443,
                                        loadbalancer_id=balancer.id, default_pool_id=pool.id,
                                        allowed_cidrs=["203.0.113.0/24"])
        for i in range(count("openstack:networking/floatingIp:FloatingIp")):
            openstack.networking.FloatingIp(
                f"bench-api-{i}", pool="public",
                port_id=vip_ports[0].id if vip_ports else balancer.vip_port_id)
        server_groups = [
            openstack.compute.ServerGroup(f"bench-group-{i}", name=f"bench-group-{i}",
                                          policies="soft-anti-affinity")
            for i in range(count("openstack:compute/serverGroup:ServerGroup"))
        ]
        volumes = [
            openstack.blockstorage.Volume(f"bench-master-{i}-etcd", size=10, volume_type="ssd")
            for i in range(count("openstack:blockstorage/volume:Volume"))
        ]
        servers: dict[str, openstack.compute.Instance] = {}
        for i in range(count(INSTANCE)):
            role = "master" if i < masters else "worker"
            name = f"bench-{role}-{i if role == 'master' else i - masters}"
            port = openstack.networking.Port(
                name, name=name, network_id=network.id,
                fixed_ips=[openstack.networking.PortFixedIpArgs(subnet_id=subnet.id)],
                security_group_ids=[groups[role].id])
            if role == "master" and i < count("openstack:loadbalancer/member:Member"):
                openstack.loadbalancer.Member(
                    name, pool_id=pool.id, protocol_port=6443, subnet_id=subnet.id,
                    address=port.all_fixed_ips.apply(lambda addresses: addresses[0]))
            devices = [openstack.compute.InstanceBlockDeviceArgs(
                source_type="blank", destination_type="volume", volume_size=50, boot_index=-1,
                delete_on_termination=True)]
            if role == "master" and i < len(volumes):
                devices.append(openstack.compute.InstanceBlockDeviceArgs(
                    uuid=volumes[i].id, source_type="volume", destination_type="volume",
                    boot_index=-1))
            group = server_groups[0 if role == "master" else min(1, len(server_groups) - 1)]
            servers[name] = openstack.compute.Instance(
                name, name=name, flavor_name="m1.medium", image_name="ubuntu-24.04",
                networks=[openstack.compute.InstanceNetworkArgs(port=port.id)],
                block_devices=devices,
                user_data=f"#cloud-config\nhostname: {name}\nruncmd: [[/usr/local/bin/join]]\n",
                metadata={"role": role},
                scheduler_hints=[openstack.compute.InstanceSchedulerHintArgs(group=group.id)],
                opts=pulumi.ResourceOptions(depends_on=[interface]))
        # A wait for the servers, as a dynamic resource like the component's readiness gate.
        gates = [ReadinessGate(f"bench-ready-{i}", {
            "cluster": "bench", "driver": "k8s_ubuntu",
            "expectedNodes": [{"name": name} for name in servers],
            "serverIds": [server.id for server in servers.values()]},
            timeout=3600, opts=pulumi.ResourceOptions()) for i in range(count(DYNAMIC))]

        # The cluster's add-ons: a Kubernetes provider from the admin credentials, and a Helm
        # release through it once the API answers (as the component's k8s_ubuntu driver does).
        kubeconfig: pulumi.Output[str] | None = None
        if authorities:
            config: pulumi.Output[str] = authorities[0].cert_pem.apply(
                lambda ca: f"apiVersion: v1\nkind: Config\n# ca: {len(ca)} bytes\n")
            kubeconfig = pulumi.Output.secret(config)
        clusters = [kubernetes.Provider(f"bench-kubernetes-{i}", kubeconfig=kubeconfig,
                                        cluster_identifier="bench", delete_unreachable=True)
                    for i in range(count("pulumi:providers:kubernetes"))]
        for i in range(count("kubernetes:helm.sh/v3:Release")):
            kubernetes.helm.v3.Release(
                f"bench-release-{i}", name="tigera-operator", chart="tigera-operator",
                version="v3.31.0", namespace="tigera-operator", create_namespace=True,
                repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(
                    repo="https://docs.tigera.io/calico/charts"),
                values={"installation": {"calicoNetwork": {"mtu": 1450}}},
                opts=pulumi.ResourceOptions(provider=clusters[0] if clusters else None,
                                            depends_on=gates[:1]))

    return program


def run_child(mode: str, nodes: int, masters: int, counts_file: Path | None) -> dict[str, Any]:
    """Plan one program in this process; return timings, memory and the plan's figures."""
    from coe_provider.plan.document import build_plan
    from coe_provider.plan.runner import run_function

    if mode == "coe":
        program = cluster_program(nodes, masters)
    else:
        assert counts_file is not None
        program = baseline_program(json.loads(counts_file.read_text()), masters)
    started, cpu_started = time.perf_counter(), time.process_time()
    plan = build_plan(run_function(program, project="bench", stack="bench"))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    summary = plan.summary
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu_seconds, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "resources": summary["total"], "countsByType": summary["countsByType"],
            "resources_per_worker": summary["resourcesPerWorker"],
            "critical_path": summary["criticalPath"], "workers": summary["workers"]}


def spawn(mode: str, nodes: int, masters: int, counts_file: Path | None) -> dict[str, Any]:
    """Run :func:`run_child` in a fresh interpreter."""
    command = [sys.executable, __file__, "--child", mode, "--nodes", str(nodes),
               "--masters", str(masters)]
    if counts_file is not None:
        command += ["--counts", str(counts_file)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"plan_scale: the {mode} run failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def runs(nodes: int, masters: int, repeat: int, counts_file: Path) -> Iterator[
        tuple[str, dict[str, Any]]]:
    """The cluster run first (its plan gives the baseline's counts), then alternating pairs."""
    first = spawn("coe", nodes, masters, None)
    counts_file.write_text(json.dumps(first["countsByType"]))
    yield "coe", first
    yield "baseline", spawn("baseline", nodes, masters, counts_file)
    for index in range(1, repeat):
        order = ("baseline", "coe") if index % 2 else ("coe", "baseline")
        for mode in order:
            yield mode, spawn(mode, nodes, masters, counts_file)


def measure(nodes: int, masters: int, repeat: int) -> dict[str, Any]:
    """Medians over ``repeat`` alternating runs of both programs."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in CHILD_MODES}
        for mode, result in runs(nodes, masters, repeat, Path(scratch) / "counts.json"):
            results[mode].append(result)
    coe, baseline = results["coe"], results["baseline"]
    seconds = statistics.median(r["seconds"] for r in coe)
    baseline_seconds = statistics.median(r["seconds"] for r in baseline)
    same = coe[0]["countsByType"] == baseline[0]["countsByType"]
    if not same:
        sys.stderr.write(f"plan_scale: the baseline's counts differ:\n  coe      "
                         f"{coe[0]['countsByType']}\n  baseline {baseline[0]['countsByType']}\n")
    return {
        "nodes": nodes, "masters": masters, "repeat": repeat,
        "resources": coe[0]["resources"], "baseline_resources": baseline[0]["resources"],
        "same_counts": same,
        "resources_per_worker": coe[0]["resources_per_worker"],
        "critical_path": coe[0]["critical_path"],
        "baseline_critical_path": baseline[0]["critical_path"],
        "seconds": round(seconds, 3), "baseline_seconds": round(baseline_seconds, 3),
        "ratio": round(seconds / baseline_seconds, 3) if baseline_seconds else None,
        # CPU time of the process: on a shared, loaded machine the wall times swing with the
        # neighbours' load, the CPU each program spends much less.
        "cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in coe), 3),
        "baseline_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in baseline), 3),
        "cpu_ratio": round(statistics.median(r["cpu_seconds"] for r in coe)
                           / statistics.median(r["cpu_seconds"] for r in baseline), 3),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in coe),
        "baseline_peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in baseline),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, required=True, help="worker count")
    parser.add_argument("--masters", type=int, default=3, help="master count (odd)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each program (median)")
    parser.add_argument("--child", choices=CHILD_MODES, help=argparse.SUPPRESS)
    parser.add_argument("--counts", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one JSON line on stdout."""
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, args.nodes, args.masters, args.counts)))
        return
    print(json.dumps(measure(args.nodes, args.masters, max(args.repeat, 1))))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
