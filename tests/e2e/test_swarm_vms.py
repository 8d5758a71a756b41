"""The swarm's whole life on real (emulated) virtual machines, from the driver's own payloads.

The root program plans 3 managers behind a load balancer, 1 worker and a bastion, with
``drainOnDelete`` (see :mod:`tests.e2e.swarm_plan`); each server's user_data boots a Debian 12
VM, its volumes as virtio disks carrying the serials Nova would give them. Floating IPs are
loopback addresses: the API balancer's forwarded to the first manager's Docker API, the
bastion's to its SSH. One booted cluster goes through every step, in order:

1. form: the readiness gate, run as the engine runs it (its provider unpickled from the
   planned inputs, ``create`` called with them), returns HEALTHY; ``coe status`` on the
   planned stack outputs agrees;
1b. through the bastion: planned again without a public API (the balancer without a floating
   IP), the gate and ``coe status`` go through the bastion VM to the balancer's address inside
   the network (which the first manager takes on, as the balancer would forward it) and to
   each manager's own, the certificate checked end to end; HEALTHY with every node listed;
2. grow: the template now names apt mirrors (``apt_mirror``, ``apt_security_mirror``: the
   test's own signed archive, served by the bastion VM on the cluster's segment); a plan with
   one more worker and the first as state creates only that node's resources (``coe diff
   --json``: the others keep their user_data); only its VM boots; it joins; the gate's update
   passes;
2b. the mirror: the new worker's apt sources name only the mirrors (the first worker's still
   name the image's archive), and a package that only the test's archive has installs on it,
   the mirror's access log showing that worker's requests for every suite and the package;
3. drain and remove a worker: with work on it, its removal command's ``delete`` runs over
   SSH through the bastion as ``remote.Command`` would; the work moves, the node leaves;
4. lose a manager: its VM dies; the swarm keeps quorum and takes a service update;
   ``coe status`` names it; powered on again, it is a reachable manager again;
5. reboot a worker: ``coe status`` names it while it is down, and it comes back ready with
   its daemon and data volume and no manual step;
6. destroy order: the remaining removal commands run in the order the plan's graph gives
   ``pulumi destroy``, the first manager's last; none fails;
7. without the bastion: frozen, then stopped, the gate's check and ``coe status`` of the
   private plan fail within their bounds with one line naming the bastion; exit 6.

Run with ``python3 -m pytest -m e2e tests/e2e/test_swarm_vms.py -q`` as root (see README.md).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import http.client
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dill
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider

from coe_provider.health.check import ClusterNotReady, check
from coe_provider.health.console import bootstrap_failure
from coe_provider.health.gate import probe_for
from coe_provider.health.outputs import target_from_detail
from coe_provider.health.report import HealthStatus
from coe_provider.plan.graph import PlanResource, delete_order
from tests.e2e.aptmirror import (
    ARCHIVE_SUITES,
    PROBE_FILE,
    PROBE_PACKAGE,
    SECURITY_SUITES,
    MirrorServer,
    ProbeArchive,
    build_archive,
)
from tests.e2e.remote import Connection, run
from tests.e2e.swarm_plan import (
    API_FLOATING_IP,
    BASTION_FLOATING_IP,
    CLUSTER,
    JOIN_TOKEN,
    MIRROR_HOST,
    READY_TIMEOUT,
    SUBNET,
    TEST_APT_MIRRORS,
    PlannedNode,
    PlannedSwarm,
    plan_swarm,
)
from tests.e2e.vmharness import (
    BaseImage,
    FloatingForward,
    HarnessError,
    RunningVm,
    VmDisk,
    VmSpec,
    boot_vms,
    keep_artefacts,
    vm_cluster,
)

pytestmark = pytest.mark.e2e

DOCKER_API = 2376
"""The Docker API port on the managers (mutual TLS)."""

DOWN_DETECTION_TIMEOUT = 180.0
"""Seconds within which ``coe status`` must name a node whose VM stopped (swarm marks a node
down after missed heartbeats: seconds, plus emulation's slowness)."""

RECOVERY_TIMEOUT = 900.0
"""Seconds for a VM powered on again (or rebooted) to be a ready member again."""

PRUNE_TIMEOUT = 300.0
"""Seconds for the managers' coe-swarm-prune to remove entries left by timed-out joins
(every 30 s, once 120 s old)."""

PRUNE_STARTED = "removing swarm entries left by unfinished joins (coe-swarm-prune.timer)"
"""What a manager's bootstrap logs once its first coe-swarm-prune run has passed."""

WORK_IMAGE = "coe-e2e/sleep:1"
"""The work's image, made in each guest with ``docker import`` (no registry is reachable)."""

MAKE_WORK_IMAGE = (
    "set -e; tar -chf - -C / usr/bin/sleep usr/lib/x86_64-linux-gnu/libc.so.6 "
    f"lib64/ld-linux-x86-64.so.2 | docker import - {WORK_IMAGE} >/dev/null; echo imported")
"""A root filesystem of ``sleep`` and the two libraries it needs, imported as an image."""

REPLICAS = 6
"""Replicas of the work: more than the nodes, so every node runs some."""

CHECK_TIMEOUT = 10.0
"""The gate's and ``coe status``'s timeout for connecting and for each answer (their
default): with the bastion frozen, the SSH banner is awaited that long."""

GATE_TIMEOUT = 15
"""The gate's ``readyTimeout`` while the bastion is down (it checks until then)."""

SLACK = 20.0
"""Seconds allowed on top of a bound: interpreter start-up and a loaded 2-core host."""


# ------------------------------------------------------------------------------ the cluster


@dataclass
class Swarm:
    """The booted cluster and the plan it currently matches."""

    image: BaseImage
    workdir: Path
    vms: list[RunningVm]
    planned: PlannedSwarm
    gate_outputs: dict[str, Any] = field(default_factory=dict)
    """The gate's outputs after its last create or update (the engine's ``olds``)."""
    private: PlannedSwarm | None = None
    """The same cluster planned without a public API (step 1b)."""
    mirror: tuple[MirrorServer, ProbeArchive] | None = None
    """The apt mirror step 2 serves on the segment, and its archive."""

    def vm(self, name: str) -> RunningVm:
        return next(vm for vm in self.vms if vm.name == name)

    def ssh(self, node: str) -> Connection:
        """As the removal commands connect: the ``coe`` user, the cluster's key, through the
        bastion."""
        first = Connection.planned(self.planned.removals[f"{CLUSTER}-master-0"]["connection"])
        return first.to(self.planned.node(node).address)

    def on(self, node: str, command: str) -> str:
        """Run ``command`` with sudo on ``node``; its output (failing the test otherwise)."""
        result = run(self.ssh(node), f"sudo sh -c {json.dumps(command)}", timeout=300)
        assert result.status == 0, f"{node}: {command}: {result.status}\n{result.stderr}"
        return result.stdout


def vm_spec(planned: PlannedSwarm, node: PlannedNode, index: int) -> VmSpec:
    """The VM that plays ``node``; the first manager and the bastion carry floating IPs."""
    floating: tuple[FloatingForward, ...] = ()
    if node.name == f"{CLUSTER}-master-0":
        floating = (FloatingForward(API_FLOATING_IP, DOCKER_API),)
    elif node == planned.bastion:
        floating = (FloatingForward(BASTION_FLOATING_IP, 22),)
    return VmSpec(
        name=node.name, user_data=node.user_data, private_address=node.address,
        mac=f"52:54:00:77:01:{index:02x}", floating=floating,
        disks=tuple(VmDisk(disk.size_gib, disk.volume_id[:20]) for disk in node.disks),
        memory_mb=256 if node == planned.bastion else 1024,
    )


@pytest.fixture(scope="module")
def swarm(base_image: BaseImage, tmp_path_factory: pytest.TempPathFactory,
          request: pytest.FixtureRequest) -> Iterator[Swarm]:
    planned = plan_swarm()
    workdir = tmp_path_factory.mktemp("swarm") / "vms"
    nodes = [*planned.nodes, planned.bastion]
    failed_before = request.session.testsfailed
    with vm_cluster(base_image, [vm_spec(planned, n, i) for i, n in enumerate(nodes)],
                    workdir) as vms:
        yield Swarm(base_image, workdir, vms, planned)
        artefacts = os.environ.get("COE_E2E_ARTIFACTS")
        if artefacts and request.session.testsfailed > failed_before:
            keep_artefacts(workdir, Path(artefacts) / f"{time.strftime('%Y%m%d-%H%M%S')}-swarm")


@contextlib.contextmanager
def timed(step: str, capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[str], None]]:
    """Print the step's duration (and notes) as it ends."""
    notes: list[str] = []
    started = time.monotonic()
    yield notes.append
    with capsys.disabled():
        print(f"\n[{step}] {time.monotonic() - started:.0f}s" + "".join(
            f"\n  {note}" for note in notes))


# --------------------------------------------------------------------- asking the cluster


def provider_of(gate_inputs: dict[str, Any]) -> ResourceProvider:
    """The gate's provider as the dynamic-provider host gets it: unpickled from the inputs'
    ``__provider`` and configured (pulumi/dynamic/__main__.py ``get_provider``; that module
    serves gRPC when imported, so its steps are repeated here)."""
    provider: ResourceProvider = dill.loads(base64.b64decode(gate_inputs["__provider"]))
    provider.configure(ConfigureRequest(Config(raw_config={}, project_name="e2e")))
    return provider


def run_gate(swarm: Swarm, action: Callable[[ResourceProvider], Any]) -> dict[str, Any]:
    """Run a gate operation in a thread while watching the VMs; its report."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = action(provider_of(swarm.planned.gate))
        except BaseException as error:  # reported by the test thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    while thread.is_alive():
        failure = failed_bootstrap(swarm.vms)
        assert failure is None, f"a bootstrap failed; console tail of {failure}"
        thread.join(5)
    assert "error" not in outcome, f"the readiness gate failed: {outcome['error']}"
    outputs: dict[str, Any] = outcome["result"].outs
    assert "credentials" not in outputs and "sshPrivateKey" not in outputs
    swarm.gate_outputs = outputs
    report: dict[str, Any] = outputs["report"]
    assert report["status"] == "HEALTHY", report
    return report


def coe_status(outputs: dict[str, Any], *options: str) -> subprocess.CompletedProcess[str]:
    """``pulumi stack output --json --show-secrets | coe status - [options]``."""
    result = subprocess.run(
        [sys.executable, "-m", "coe_provider.cli", "status", "-", *options],
        input=json.dumps(outputs), capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "160"})
    assert result.stdout, f"coe status printed nothing: {result.stderr}"
    return result


def status_of_outputs(outputs: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``coe status - --json`` on stack outputs: exit code and the cluster."""
    result = coe_status(outputs, "--json")
    [cluster] = json.loads(result.stdout)["clusters"]
    return result.returncode, cluster


def status_of(swarm: Swarm) -> tuple[int, dict[str, Any]]:
    """``coe status - --json`` on the current plan's outputs: exit code and the cluster."""
    return status_of_outputs(swarm.planned.stack_outputs)


def wait_status(swarm: Swarm, done: Callable[[int, dict[str, Any]], bool], timeout: float,
                what: str) -> dict[str, Any]:
    """Ask ``coe status`` every 5 s until ``done``; the cluster's entry then."""
    deadline = time.monotonic() + timeout
    while True:
        code, cluster = status_of(swarm)
        if done(code, cluster):
            return cluster
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s: {cluster}"
        time.sleep(5)


def healthy(code: int, cluster: dict[str, Any]) -> bool:
    """HEALTHY, and no member the stack does not declare."""
    return code == 0 and all(node["declared"] for node in cluster["nodes"])


def names_down(name: str) -> Callable[[int, dict[str, Any]], bool]:
    """UNHEALTHY (exit 5) with ``name`` the one node not ready."""
    def check(code: int, cluster: dict[str, Any]) -> bool:
        down = [node["name"] for node in cluster["nodes"] if not node["ready"]]
        return code == 5 and down == [name]
    return check


@contextlib.contextmanager
def client_context(bundle: dict[str, str] | None, ca_pem: str) -> Iterator[ssl.SSLContext]:
    """A TLS client context trusting the cluster CA, with the client certificate if given."""
    context = ssl.create_default_context(cadata=ca_pem)
    with tempfile.TemporaryDirectory() as directory:
        if bundle is not None:
            cert, key = Path(directory, "cert.pem"), Path(directory, "key.pem")
            cert.write_text(bundle["cert.pem"])
            key.write_text(bundle["key.pem"])
            key.chmod(0o600)
            context.load_cert_chain(cert, key)
        yield context


def docker_get(context: ssl.SSLContext, path: str) -> Any:
    """GET ``path`` from the Docker API at the balancer's floating IP."""
    with socket.create_connection((API_FLOATING_IP, DOCKER_API), timeout=20) as raw, \
            context.wrap_socket(raw, server_hostname=API_FLOATING_IP) as tls:
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
                    .encode())
        response = http.client.HTTPResponse(tls)
        response.begin()
        body = response.read()
    if response.status != 200:
        raise HarnessError(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
    return json.loads(body)


def unknown_ca_pem() -> str:
    """A CA certificate that signed nothing of the cluster's."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the cluster CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def failed_bootstrap(vms: list[RunningVm]) -> str | None:
    """The console tail of the first VM whose bootstrap gave up, if any."""
    for vm in vms:
        log = vm.console_log()
        # The readiness gate's own reading of a console (it reads Nova's copy of the same).
        if bootstrap_failure(log) is not None:
            return f"{vm.name}:\n" + "\n".join(log.splitlines()[-40:])
        if not vm.running() and vm.boots == 1 and vm.process.returncode not in (0, -9, -15):
            return f"{vm.name}: qemu exited {vm.process.returncode}"
    return None


def coe_diff(before: PlannedSwarm, after: PlannedSwarm, directory: Path) -> dict[str, Any]:
    """``coe diff before.json after.json --json -`` on the two plans."""
    paths = []
    for name, planned in (("before", before), ("after", after)):
        path = directory / f"{name}.json"
        path.write_text(json.dumps(planned.document))
        paths.append(str(path))
    result = subprocess.run([sys.executable, "-m", "coe_provider.cli", "diff", *paths,
                             "--json", "-"], capture_output=True, text=True, check=False,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def changed(diff: dict[str, Any], kind: str) -> list[str]:
    return sorted(f"{c['type'].split(':')[-1]}:{c['name']}" for c in diff[kind])


def tasks(swarm: Swarm) -> list[tuple[str, str]]:
    """(node, current state) of the work's tasks that should be running."""
    out = swarm.on(f"{CLUSTER}-master-0", "docker service ps work --filter desired-state="
                   "running --format '{{.Node}} {{.CurrentState}}'")
    return [tuple(line.split(" ", 1)) for line in out.splitlines() if line]  # type: ignore[misc]


def wait_tasks(swarm: Swarm, done: Callable[[list[tuple[str, str]]], bool],
               timeout: float = 300) -> list[tuple[str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        current = tasks(swarm)
        if done(current):
            return current
        assert time.monotonic() < deadline, f"work not settled: {current}"
        time.sleep(5)


def all_running(count: int) -> Callable[[list[tuple[str, str]]], bool]:
    return lambda current: len(current) == count and all(
        state.startswith("Running") for _, state in current)


# ------------------------------------------------------------------------------- the steps


def test_1_forms_and_the_gate_and_status_see_it(
        swarm: Swarm, capsys: pytest.CaptureFixture[str]) -> None:
    planned = swarm.planned
    leaks = [node.name for node in planned.nodes if JOIN_TOKEN.search(node.user_data)]
    assert not leaks and not JOIN_TOKEN.search(planned.everything), "a join token was planned"
    with timed("form: 3 managers, 1 worker, bastion; gate, then coe status", capsys) as note:
        report = run_gate(swarm, lambda provider: provider.create(planned.gate))
        assert report["readyNodes"] == 4, report
        note(f"gate HEALTHY {time.monotonic() - swarm.vms[0].started:.0f}s after the first "
             "VM started")
        cluster = wait_status(swarm, healthy, PRUNE_TIMEOUT, "HEALTHY with only declared nodes")
        nodes = cluster["nodes"]
        assert [n["name"] for n in nodes] == [n.name for n in planned.nodes]
        assert [n["role"] for n in nodes] == ["master", "master", "master", "worker"]
        assert all(n["ready"] and n["version"] and n["readySince"] for n in nodes), nodes
        bundle: dict[str, str] = planned.outputs["dockerTls"]
        with client_context(bundle, bundle["ca.pem"]) as context:
            info = docker_get(context, "/info")
            assert info["Swarm"]["Managers"] == 3 and info["Swarm"]["Nodes"] == 4
        with client_context(None, bundle["ca.pem"]) as anonymous, \
                pytest.raises((ssl.SSLError, OSError, http.client.HTTPException)):
            docker_get(anonymous, "/nodes")
        for node in planned.nodes:
            vm = swarm.vm(node.name)
            vm.wait_for_console(rf"bootstrap of {re.escape(vm.name)} finished", READY_TIMEOUT)
            log = vm.console_log()
            assert not JOIN_TOKEN.search(log), f"{vm.name} printed a join token"
            if "docker.io" in swarm.image.packages:
                assert "apt: already installed" in log, f"{vm.name} went to the archive"
            if "-master-" in vm.name:
                assert PRUNE_STARTED in log, f"{vm.name}: coe-swarm-prune did not start"
        # 0.2.0's payload on the nodes: the engine packages are held against unattended
        # upgrades, and the network's MTU (Neutron's 1450, as the plan answers it) is on the
        # routing mesh and each node's gateway bridge.
        mtu = "{{index .Options \"com.docker.network.driver.mtu\"}}"
        for node in planned.nodes:
            held = set(swarm.on(node.name, "apt-mark showhold").split())
            assert {"docker.io", "containerd"} <= held, (node.name, held)
            gateway = swarm.on(node.name, f"docker network inspect --format '{mtu}' "
                                          "docker_gwbridge").strip()
            assert gateway == "1450", (node.name, gateway)
        ingress = swarm.on(f"{CLUSTER}-master-0",
                           f"docker network inspect --format '{mtu}' ingress").strip()
        assert ingress == "1450", ingress
        note("coe status:\n" + coe_status(planned.stack_outputs).stdout.rstrip())


def test_1b_the_gate_and_status_reach_it_through_the_bastion(
        swarm: Swarm, capsys: pytest.CaptureFixture[str]) -> None:
    private = plan_swarm(previous=swarm.planned, private_api=True)
    swarm.private = private
    gate = private.gate
    vip = str(gate["apiHost"])
    # The route the plan chose by itself: the bastion's floating IP, the balancer's address
    # inside the network; the client's credentials are the booted cluster's (same seed).
    assert gate["bastionHost"] == BASTION_FLOATING_IP and gate["apiPort"] == DOCKER_API
    assert ipaddress.ip_address(vip) in ipaddress.ip_network(SUBNET)
    assert vip not in {node.address for node in (*private.nodes, private.bastion)}
    assert private.outputs["apiAddress"] == f"tcp://{vip}:{DOCKER_API}"
    assert private.outputs["dockerTls"] == swarm.planned.outputs["dockerTls"]
    first = f"{CLUSTER}-master-0"
    names = [node.name for node in private.nodes]
    with timed("through the bastion: the gate and coe status of the cluster planned without "
               "a public API", capsys) as note:
        # The balancer's address, played by the first manager (as the floating IP's forward).
        swarm.on(first, f"ip address add {vip}/32 dev eth1")
        started = time.monotonic()
        result = provider_of(gate).create(gate)
        assert result.outs is not None
        report = result.outs["report"]
        assert report["status"] == "HEALTHY" and report["readyNodes"] == 4, report
        assert report["apiAddress"] == f"{vip}:{DOCKER_API}"
        # Entries left by timed-out joins may still be listed (undeclared; not failures).
        assert [n["name"] for n in report["nodes"] if n["declared"]] == names
        assert "sshPrivateKey" not in result.outs and "credentials" not in result.outs
        note(f"gate HEALTHY through bastion {BASTION_FLOATING_IP} to {vip}:{DOCKER_API} in "
             f"{time.monotonic() - started:.1f}s")
        started = time.monotonic()
        shown = coe_status(private.stack_outputs)
        assert shown.returncode == 0, shown.stdout
        note(f"coe status ({time.monotonic() - started:.1f}s):\n" + shown.stdout.rstrip())
        code, cluster = status_of_outputs(private.stack_outputs)
        assert code == 0 and cluster["status"] == "HEALTHY", cluster
        declared = [n for n in cluster["nodes"] if n["declared"]]
        assert [n["name"] for n in declared] == names
        assert all(n["ready"] and n["version"] for n in declared), declared
        # Each manager's own internal address: its certificate names it.
        target = target_from_detail(CLUSTER, private.outputs)
        assert target.tunnel is not None and target.api_host == vip
        probe = probe_for(target.driver)
        for node in private.nodes[:3]:
            health = check(dataclasses.replace(target, api_host=node.address), probe)
            assert health.status is HealthStatus.HEALTHY, (node.name, health.reason)
        # The certificate is checked end to end: a CA that did not sign it is refused.
        wrong = dataclasses.replace(target, credentials=dataclasses.replace(
            target.credentials, ca_pem=unknown_ca_pem()))
        refused = check(wrong, probe)
        assert refused.status is HealthStatus.UNKNOWN
        assert "certificate is not one the cluster CA signed" in str(refused.reason)
        assert f"through bastion {BASTION_FLOATING_IP}:22" in str(refused.reason)
        managers = ", ".join(node.address for node in private.nodes[:3])
        note(f"managers HEALTHY through the bastion at {managers}; another CA: "
             f"{refused.reason}")
        swarm.on(first, f"ip address del {vip}/32 dev eth1")


def test_2_grows_by_one_worker(swarm: Swarm, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    before = swarm.planned
    # From here on the template names the apt mirrors (step 2b checks the new worker uses
    # them); the nodes that exist keep the user_data they were built with. An image without
    # docker.io (COE_E2E_FROM_ARCHIVE) needs the real archive, which the test's has not.
    mirrors = TEST_APT_MIRRORS if "docker.io" in swarm.image.packages else None
    grown = plan_swarm(workers=2, previous=before, apt_mirrors=mirrors)
    diff = coe_diff(before, grown, tmp_path)
    new = f"{CLUSTER}-workers-1"
    assert changed(diff, "creates") == [f"Command:{new}-drain", f"Instance:{new}",
                                        f"Port:{new}"]
    assert diff["deletes"] == [] and diff["replaces"] == []
    assert changed(diff, "updates") == [f"Resource:{CLUSTER}-ready"]
    joined_before = {n["name"]: n["readySince"] for n in status_of(swarm)[1]["nodes"]}
    with timed("grow: boot only the new worker; the gate's update waits for it", capsys) as note:
        if mirrors is not None:
            # Serving before the worker boots, so that whatever its boot fetches finds it.
            bastion = Connection.planned(
                before.removals[f"{CLUSTER}-master-0"]["connection"]).proxy
            assert bastion is not None
            server = MirrorServer(bastion, MIRROR_HOST)
            assert (server.archive_url, server.security_url) == (mirrors.archive,
                                                                 mirrors.security)
            started = time.monotonic()
            archive = build_archive(tmp_path)
            server.start(archive)
            swarm.mirror = (server, archive)
            note(f"apt mirror {server.archive_url} (and {server.security_url}) served by "
                 f"the bastion, probe {PROBE_PACKAGE} {archive.probe_version}: built and "
                 f"served in {time.monotonic() - started:.0f}s")
        swarm.vms += boot_vms(swarm.image, [vm_spec(grown, grown.node(new), 7)], swarm.workdir,
                              swarm.vms[0].segment)
        swarm.planned = grown
        olds = swarm.gate_outputs
        report = run_gate(swarm, lambda provider: provider.update(
            f"{CLUSTER}-ready", olds, grown.gate))
        assert report["readyNodes"] == 5, report
        cluster = wait_status(swarm, healthy, PRUNE_TIMEOUT, "HEALTHY with 5 nodes")
        joined_after = {n["name"]: n["readySince"] for n in cluster["nodes"]}
        # No other node changed: the same swarm entries (created when they joined).
        assert {name: joined_after[name] for name in joined_before} == joined_before
        note(f"{new} ready, joined {joined_after[new]}")


PUBLIC_ARCHIVES = ("deb.debian.org", "security.debian.org", "archive.ubuntu.com",
                   "security.ubuntu.com")
"""Hosts of the public archives, which no source may name once the mirrors are set."""

MIRROR_KEY = "/etc/apt/trusted.gpg.d/coe-e2e-mirror.asc"
"""Where the test puts its archive's key on the guest (as an image would carry it)."""


def apt_sources(swarm: Swarm, node: str) -> list[str]:
    """The ``deb``/``deb-src`` lines (one-line and deb822 stanzas flattened) of ``node``."""
    text = swarm.on(node, "cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list "
                          "/etc/apt/sources.list.d/*.sources 2>/dev/null || true")
    return [line.strip() for line in text.splitlines()
            if re.match(r"\s*(deb|deb-src|URIs:)\s", line)]


def test_2b_the_new_worker_installs_from_the_apt_mirror(
        swarm: Swarm, capsys: pytest.CaptureFixture[str]) -> None:
    if swarm.mirror is None:
        pytest.skip("COE_E2E_FROM_ARCHIVE: the nodes install docker.io from the real archive, "
                    "so step 2 set no mirror (the test's archive has only its probe)")
    server, archive = swarm.mirror
    new, old = f"{CLUSTER}-workers-1", f"{CLUSTER}-workers-0"
    address = swarm.planned.node(new).address
    with timed("the apt mirror: the new worker's sources and an install from it", capsys) \
            as note:
        # cloud-init wrote the new worker's sources from apt_mirror and apt_security_mirror:
        # every suite of its Debian template, and nothing else.
        lines = apt_sources(swarm, new)
        for suite in ARCHIVE_SUITES:
            assert f"deb {server.archive_url} {suite} main" in lines, lines
        for suite in SECURITY_SUITES:
            assert f"deb {server.security_url} {suite} main" in lines, lines
        assert all(server.archive_url in line or server.security_url in line
                   for line in lines), lines
        assert not [line for line in lines if any(h in line for h in PUBLIC_ARCHIVES)], lines
        # The first worker was built before the template named them: its user_data, and so
        # its sources, are what they were (the image's archive).
        assert all(server.archive_url not in line for line in apt_sources(swarm, old))
        # The archive's key, as the image would carry it: the product has no label for a
        # mirror's key (cloud-init's primary/security ``key``), see changes/27-vm.md.
        key = base64.b64encode(archive.public_key.encode()).decode()
        swarm.on(new, f"echo {key} | base64 -d >{MIRROR_KEY}")
        started = time.monotonic()
        updated = run(swarm.ssh(new), "sudo apt-get -q update", timeout=300)
        assert updated.status == 0, updated.stdout + updated.stderr
        assert not re.search(r"^(W|E|Err):", updated.stdout + updated.stderr, re.MULTILINE), \
            updated.stdout + updated.stderr
        swarm.on(new, f"DEBIAN_FRONTEND=noninteractive apt-get -q -y install {PROBE_PACKAGE}")
        took = time.monotonic() - started
        installed = swarm.on(new, f"dpkg-query -W {PROBE_PACKAGE}").split()[-1]
        assert installed == archive.probe_version, installed
        assert swarm.on(new, f"cat {PROBE_FILE}").strip() == archive.nonce
        # The mirror served them: the worker's requests for every suite and the package,
        # all answered, and no other node's (no other node's sources name it); the mirror
        # host's own are its readiness probe.
        requests = [r for r in server.requests() if r.client != server.address]
        assert {request.client for request in requests} == {address}, requests
        paths = {request.path for request in requests if request.status == 200}
        wanted = [f"/debian/dists/{suite}/InRelease" for suite in ARCHIVE_SUITES] + [
            f"/debian-security/dists/{suite}/InRelease" for suite in SECURITY_SUITES] + [
            f"/debian/pool/main/c/{PROBE_PACKAGE}/"
            f"{PROBE_PACKAGE}_{archive.probe_version}_all.deb"]
        assert all(path in paths for path in wanted), (wanted, requests)
        note(f"{new}: {len(lines)} source lines, all on the mirrors; apt-get update and "
             f"install of {PROBE_PACKAGE} {installed} in {took:.0f}s; the mirror answered "
             f"{len(requests)} requests from {address} only")
        swarm.on(new, f"apt-get -q -y purge {PROBE_PACKAGE}")


def test_3_drains_and_removes_a_worker(swarm: Swarm, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    grown = swarm.planned
    leaving = f"{CLUSTER}-workers-0"
    removed = plan_swarm(workers=1, remove=(0,), previous=grown)
    diff = coe_diff(grown, removed, tmp_path)
    assert changed(diff, "deletes") == [f"Command:{leaving}-drain", f"Instance:{leaving}",
                                        f"Port:{leaving}"]
    assert diff["creates"] == [] and diff["replaces"] == []
    with timed("drain and remove a worker with work on it, as remote.Command would", capsys) \
            as note:
        for node in grown.nodes:
            assert "imported" in swarm.on(node.name, MAKE_WORK_IMAGE)
        swarm.on(f"{CLUSTER}-master-0",
                 f"docker service create --detach --no-resolve-image --name work "
                 f"--replicas {REPLICAS} {WORK_IMAGE} /usr/bin/sleep infinity")
        spread = wait_tasks(swarm, all_running(REPLICAS))
        assert leaving in {node for node, _ in spread}, spread
        # The command's stored state is the previous plan's: that is what its delete runs.
        planned_removal = grown.removals[leaving]
        result = run(Connection.planned(planned_removal["connection"]),
                     planned_removal["delete"])
        assert result.status == 0, result.stderr
        assert f"coe: {leaving} is out of the swarm" in result.stderr
        moved = wait_tasks(swarm, all_running(REPLICAS))
        assert leaving not in {node for node, _ in moved}, moved
        swarm.vm(leaving).stop()
        swarm.planned = removed
        cluster = wait_status(swarm, healthy, 120, "HEALTHY without the removed worker")
        assert leaving not in {n["name"] for n in cluster["nodes"]}
        olds = swarm.gate_outputs
        report = run_gate(swarm, lambda provider: provider.update(
            f"{CLUSTER}-ready", olds, removed.gate))
        assert report["readyNodes"] == 4
        note(f"work before: {sorted(n for n, _ in spread)}")
        note(f"work after:  {sorted(n for n, _ in moved)}")


def test_4_loses_a_manager_and_gets_it_back(swarm: Swarm,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    lost = f"{CLUSTER}-master-2"
    with timed("lose a manager: quorum holds; power it on again", capsys) as note:
        swarm.vm(lost).kill()
        killed = time.monotonic()
        cluster = wait_status(swarm, names_down(lost), DOWN_DETECTION_TIMEOUT,
                              f"coe status naming {lost}")
        note(f"coe status named {lost} after {time.monotonic() - killed:.0f}s: "
             f"{next(n['reason'] for n in cluster['nodes'] if n['name'] == lost)}")
        # 2 of 3 managers: the API answers through the first and a service update goes in.
        swarm.on(f"{CLUSTER}-master-0", "docker service update --detach --replicas 5 work")
        replicas = swarm.on(f"{CLUSTER}-master-0", "docker service inspect work --format "
                            "'{{.Spec.Mode.Replicated.Replicas}}'").strip()
        assert replicas == "5"
        swarm.vm(lost).start_again()
        powered = time.monotonic()
        wait_status(swarm, healthy, RECOVERY_TIMEOUT, f"{lost} back as a reachable manager")
        note(f"{lost} a reachable manager again {time.monotonic() - powered:.0f}s after "
             "power-on")
        assert swarm.on(lost, "ss -Hltn 'sport = :2376' | wc -l").strip() == "1"


def test_5_reboots_a_worker(swarm: Swarm, capsys: pytest.CaptureFixture[str]) -> None:
    worker = f"{CLUSTER}-workers-1"
    boot_id = swarm.on(worker, "cat /proc/sys/kernel/random/boot_id").strip()
    mounts = swarm.on(worker, "findmnt -n -o SOURCE /var/lib/docker || true").strip()
    with timed("reboot a worker: named while down, back without a manual step", capsys) \
            as note:
        # In the background, so that the command returns before sshd goes down.
        swarm.on(worker, "nohup sh -c 'sleep 2; systemctl reboot' >/dev/null 2>&1 &")
        rebooted = time.monotonic()
        wait_status(swarm, names_down(worker), DOWN_DETECTION_TIMEOUT,
                    f"coe status naming {worker}")
        note(f"coe status named {worker} (down) after {time.monotonic() - rebooted:.0f}s")
        wait_status(swarm, healthy, RECOVERY_TIMEOUT, f"{worker} ready again")
        note(f"{worker} ready again {time.monotonic() - rebooted:.0f}s after the reboot")
    assert swarm.on(worker, "cat /proc/sys/kernel/random/boot_id").strip() != boot_id
    assert swarm.on(worker, "systemctl is-active docker").strip() == "active"
    assert swarm.on(worker, "findmnt -n -o SOURCE /var/lib/docker || true").strip() == mounts
    assert mounts, "the data volume was not mounted before the reboot"


def test_6_destroy_runs_removals_in_graph_order_first_manager_last(
        swarm: Swarm, capsys: pytest.CaptureFixture[str]) -> None:
    planned = swarm.planned
    resources = [PlanResource.from_json(r) for r in planned.document["resources"]]
    names = {r.urn: r.name for r in resources}
    order = [names[urn].removesuffix("-drain") for urn in delete_order(resources)
             if names[urn].endswith("-drain")]
    assert sorted(order) == sorted(planned.removals)
    assert order[-1] == f"{CLUSTER}-master-0", order
    with timed("destroy order: " + " -> ".join(order), capsys) as note:
        said = []
        for node in order:
            removal = planned.removals[node]
            started = time.monotonic()
            result = run(Connection.planned(removal["connection"]), removal["delete"])
            assert result.status == 0, f"{node}: {result.stderr}"
            said.append(f"{node}: {time.monotonic() - started:.0f}s: "
                        f"{result.stderr.strip().splitlines()[-1]}")
            note(said[-1])
        state = swarm.on(f"{CLUSTER}-master-0",
                         "docker info --format '{{.Swarm.LocalNodeState}}'").strip()
        assert state == "inactive", "\n".join(said)


def test_7_without_the_bastion_the_gate_and_status_fail_naming_it(
        swarm: Swarm, capsys: pytest.CaptureFixture[str]) -> None:
    private = swarm.private
    assert private is not None, "step 1b planned the cluster without a public API"
    bastion = swarm.vm(private.bastion.name)
    gate = {**private.gate, "timeoutSeconds": GATE_TIMEOUT}
    named = f"bastion {BASTION_FLOATING_IP}:22"
    with timed("without the bastion: frozen, then stopped", capsys) as note:
        for state, act, tail in (
                ("frozen", bastion.pause, f": no SSH session (no SSH banner within "
                                          f"{CHECK_TIMEOUT:g}s)"),
                ("stopped", bastion.stop, " unreachable: [Errno 111] Connection refused")):
            expected = f"API unreachable: {named}{tail}"
            act()
            started = time.monotonic()
            with pytest.raises(ClusterNotReady) as raised:
                provider_of(gate).create(gate)
            waited = time.monotonic() - started
            # The gate checks until its timeout; its last check is bounded by the timeout.
            assert waited < GATE_TIMEOUT + CHECK_TIMEOUT + SLACK, waited
            [line] = [text for text in str(raised.value).splitlines() if "bastion" in text]
            assert line.strip() == f"{CLUSTER}: {expected}", line
            started = time.monotonic()
            shown = coe_status(private.stack_outputs)
            took = time.monotonic() - started
            assert shown.returncode == 6, shown.stdout
            assert took < CHECK_TIMEOUT + SLACK, took
            [status_line] = [text for text in shown.stdout.splitlines() if "bastion" in text]
            assert status_line.strip() == f"reason: {expected}", status_line
            note(f"bastion {state}: the gate failed after {waited:.0f}s "
                 f"(readyTimeout {GATE_TIMEOUT}s): {line.strip()}")
            note(f"bastion {state}: coe status exited 6 after {took:.1f}s: "
                 f"{status_line.strip()}")
