"""Kubernetes health against a local API server: the plan's real cluster CA signs its
certificate and it demands the kubeconfig's client certificate. The gate (the provider's
create, as the engine runs it) and ``coe status`` both ask it."""

from __future__ import annotations

import copy
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coe_provider.cli import app
from coe_provider.cluster.registry import probe_for
from coe_provider.health import console as console_logs
from coe_provider.health.check import ClusterNotReady, check, wait_until_ready
from coe_provider.health.gate import ReadinessProvider
from coe_provider.health.outputs import target_from_detail
from coe_provider.health.report import HealthStatus
from coe_provider.health.target import HealthTarget
from coe_provider.health.workloads import Workload
from coe_provider.openstack.settings import connection_arguments
from coe_provider.plan.runner import config_from_stack_file, run_program_directory
from tests.conftest import REPO, Recorded, cluster_settings
from tests.fake_openstack import PASSWORD, FakeCloud, FakeOpenStack
from tests.health_api import ApiState, serve_api
from tests.validators import files_in

NODES = ("c1-master-0", "c1-default-worker-0", "c1-default-worker-1")
"""The declared nodes of the planned cluster."""

READY_AT = "2026-12-03T08:00:00Z"
"""When the stand-in's nodes became ready."""


@pytest.fixture(scope="module")
def planned() -> Recorded:
    """One master behind a balancer with a floating IP, two workers, the gate on."""
    settings = cluster_settings("k8s_ubuntu", {"cloud_provider_enabled": False},
                                template={"masterLbEnabled": True})
    settings["clusters"]["c1"]["waitForReady"] = True
    config, secret_keys = config_from_stack_file(
        {"config": {f"coe:{k}": v for k, v in settings.items()}})
    return Recorded(run_program_directory(REPO, "health", config, secret_keys))


def node(name: str, ready: str = "True", reason: str = "KubeletReady",
         message: str = "kubelet is posting ready status") -> dict[str, Any]:
    """A Node object as the API lists it."""
    labels = {"kubernetes.io/hostname": name}
    if "-master-" in name:
        labels["node-role.kubernetes.io/control-plane"] = ""
    return {
        "metadata": {"name": name, "labels": labels},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": ready, "reason": reason, "message": message,
                 "lastTransitionTime": READY_AT},
            ],
            "nodeInfo": {"kubeletVersion": "v1.33.5"},
        },
    }


def rolled_out(workload: Workload) -> dict[str, Any]:
    """A Deployment or DaemonSet whose pods are all updated and ready."""
    if workload.kind == "Deployment":
        status = {"observedGeneration": 1, "updatedReplicas": 1, "availableReplicas": 1}
        return {"metadata": {"generation": 1}, "spec": {"replicas": 1}, "status": status}
    return {"metadata": {"generation": 1}, "status": {
        "observedGeneration": 1, "desiredNumberScheduled": 3, "numberReady": 3,
        "updatedNumberScheduled": 3}}


def answers(*nodes: dict[str, Any], readyz: tuple[int, str] = (200, "ok")) -> ApiState:
    return ApiState(routes={"/readyz": readyz,
                            "/api/v1/nodes": (200, {"kind": "NodeList", "items": list(nodes)})})


class Api:
    """The stand-in API for the planned cluster, and the outputs that point at it."""

    def __init__(self, planned: Recorded, state: ApiState, port: int) -> None:
        self.state = state
        """What it answers."""
        self.detail: dict[str, Any] = copy.deepcopy(planned.output("cluster:c1"))
        """The cluster's stack output, with its API address on the stand-in."""
        self.detail["apiAddress"] = f"https://127.0.0.1:{port}"
        self.gate_props: dict[str, Any] = {
            **Recorded.inputs(next(r for r in planned.resources
                                   if r.type == "pulumi-python:dynamic:Resource"
                                   and r.name == "c1-ready")),
            "apiHost": "127.0.0.1", "apiPort": port}
        """The (final) gate's planned inputs, with its API address on the stand-in."""
        for item in self.gate_props.get("workloads") or []:
            # The add-ons' workloads, rolled out unless the test says otherwise.
            workload = Workload.from_dict(item)
            state.routes.setdefault(workload.path, (200, rolled_out(workload)))

    @property
    def target(self) -> HealthTarget:
        return target_from_detail("c1", self.detail)

    def status(self, tmp_path: Path, *arguments: str) -> tuple[int, str]:
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({"cluster:c1": self.detail}))
        result = CliRunner().invoke(app, ["status", str(outputs), *arguments])
        return result.exit_code, result.stdout


def master_files(planned: Recorded) -> dict[str, str]:
    """The files the first master's cloud-config writes (the cluster's PKI among them)."""
    server = planned.named("compute/instance:Instance", "c1-master-0")
    return files_in(Recorded.inputs(server)["userData"])


def ca(planned: Recorded) -> tuple[str, str]:
    """The cluster CA's certificate and key, as the plan's tls answers made them and the
    first master gets them."""
    files = master_files(planned)
    assert files["/etc/kubernetes/pki/ca.crt"] == planned.output("cluster:c1")["caCertificate"]
    return files["/etc/kubernetes/pki/ca.crt"], files["/etc/kubernetes/pki/ca.key"]


@pytest.fixture
def api(planned: Recorded, request: pytest.FixtureRequest) -> Iterator[Api]:
    state: ApiState = getattr(request, "param", None) or answers(*(node(n) for n in NODES))
    ca_cert, ca_key = ca(planned)
    with serve_api(state, ca_cert, ca_key, client_ca_pem=ca_cert) as port:
        yield Api(planned, state, port)


def test_all_ready_is_healthy_with_versions_and_ready_times(api: Api, tmp_path: Path) -> None:
    health = check(api.target, probe_for("k8s_ubuntu"))
    assert health.status is HealthStatus.HEALTHY, health
    assert [(n.name, n.role, n.group, n.ready) for n in health.nodes] == [
        ("c1-master-0", "master", "master", True),
        ("c1-default-worker-0", "worker", "default-worker", True),
        ("c1-default-worker-1", "worker", "default-worker", True)]
    assert {n.version for n in health.nodes} == {"v1.33.5"}
    assert {n.ready_since for n in health.nodes} == {READY_AT}
    assert api.state.requests[:2] == ["/readyz", "/api/v1/nodes"]
    code, output = api.status(tmp_path, "--json")
    document = json.loads(output)
    assert code == 0 and document["status"] == "HEALTHY"
    assert document["clusters"][0]["readyNodes"] == 3


def test_the_gate_returns_when_ready_as_the_engine_runs_it(api: Api) -> None:
    result = ReadinessProvider().create(api.gate_props)
    assert result.outs is not None
    report = result.outs["report"]
    assert report["status"] == "HEALTHY" and report["readyNodes"] == 3
    assert "credentials" not in result.outs and "sshPrivateKey" not in result.outs
    assert result.id == "c1-ready"


@pytest.mark.parametrize("api", [answers(
    node("c1-master-0"), node("c1-default-worker-0"),
    node("c1-default-worker-1", "False", "KubeletNotReady",
         "container runtime network not ready: cni plugin not initialized"))], indirect=True)
def test_a_node_not_ready_names_the_kubelets_reason(api: Api, tmp_path: Path) -> None:
    health = check(api.target, probe_for("k8s_ubuntu"))
    assert health.status is HealthStatus.UNHEALTHY
    assert health.failure_lines() == [
        "c1-default-worker-1 (worker, group default-worker): NotReady: KubeletNotReady: "
        "container runtime network not ready: cni plugin not initialized"]
    code, output = api.status(tmp_path)
    assert code == 5
    assert "UNHEALTHY" in output and "cni plugin not initialized" in output


@pytest.mark.parametrize("api", [answers(node("c1-master-0"), node("c1-default-worker-0"))],
                         indirect=True)
def test_a_missing_node_never_joined(api: Api) -> None:
    health = check(api.target, probe_for("k8s_ubuntu"))
    assert health.status is HealthStatus.UNHEALTHY
    [missing] = health.not_ready
    assert missing.name == "c1-default-worker-1" and missing.reason is not None
    assert missing.reason.startswith("never joined")
    assert "1 of 3 declared nodes not ready: c1-default-worker-1" in str(health.reason)


@pytest.mark.parametrize("api", [answers(
    *(node(n) for n in NODES),
    node("c1-default-worker-7", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting"))],
    indirect=True)
def test_an_extra_stale_node_is_named_but_does_not_fail(api: Api) -> None:
    health = check(api.target, probe_for("k8s_ubuntu"))
    assert health.status is HealthStatus.HEALTHY
    [extra] = [n for n in health.nodes if not n.declared]
    assert extra.name == "c1-default-worker-7" and extra.group is None
    assert extra.reason is not None and "not declared by the stack" in extra.reason
    assert "NodeStatusUnknown" in extra.reason


@pytest.mark.parametrize("api", [answers(
    *(node(n) for n in NODES), readyz=(500, "[+]ping ok\n[-]etcd failed: reason withheld\n"
                                            "readyz check failed"))], indirect=True)
def test_failing_readyz_is_a_cluster_problem(api: Api) -> None:
    health = check(api.target, probe_for("k8s_ubuntu"))
    assert health.status is HealthStatus.UNHEALTHY
    assert health.problems == ["/readyz: HTTP 500: failing checks etcd failed: reason withheld"]


def test_an_api_refusing_the_client_is_unknown(planned: Recorded, tmp_path: Path) -> None:
    # The server trusts only clients of another CA (the front proxy's), so it refuses ours.
    front_proxy_ca = master_files(planned)["/etc/kubernetes/pki/front-proxy-ca.crt"]
    ca_cert, ca_key = ca(planned)
    state = answers(*(node(n) for n in NODES))
    with serve_api(state, ca_cert, ca_key, client_ca_pem=front_proxy_ca) as port:
        refused = Api(planned, state, port)
        health = check(refused.target, probe_for("k8s_ubuntu"))
        assert health.status is HealthStatus.UNKNOWN
        assert "refused the client" in str(health.reason)
        assert refused.status(tmp_path)[0] == 6
    assert state.requests == []


def test_an_api_that_does_not_answer_is_unknown_within_the_timeout(planned: Recorded,
                                                                    tmp_path: Path) -> None:
    # A listening socket that never completes TLS: connect succeeds, the handshake hangs.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        api = Api(planned, ApiState(), port)
        started = time.monotonic()
        health = check(api.target, probe_for("k8s_ubuntu"), timeout=1.0)
        elapsed = time.monotonic() - started
        assert health.status is HealthStatus.UNKNOWN
        assert "unreachable" in str(health.reason)
        assert elapsed < 5, elapsed
        code, output = api.status(tmp_path, "--json", "--timeout", "1")
        assert code == 6 and json.loads(output)["clusters"][0]["status"] == "UNKNOWN"
    down = Api(planned, ApiState(), port)  # closed now: connection refused
    assert check(down.target, probe_for("k8s_ubuntu"), timeout=1.0).status is (
        HealthStatus.UNKNOWN)


@pytest.mark.parametrize("api", [answers(node("c1-master-0"))], indirect=True)
def test_the_gate_waits_then_fails_naming_every_node_not_ready(api: Api) -> None:
    with pytest.raises(ClusterNotReady) as raised:
        wait_until_ready(api.target, probe_for("k8s_ubuntu"), timeout=1.0, interval=0.3)
    message = str(raised.value)
    assert message.startswith("cluster c1 not ready after ")
    assert "c1-default-worker-0 (worker, group default-worker): never joined" in message
    assert "c1-default-worker-1 (worker, group default-worker): never joined" in message
    assert "c1-master-0" not in message.split("\n", 1)[1]
    assert len([r for r in api.state.requests if r == "/api/v1/nodes"]) >= 2


@pytest.mark.parametrize("api", [answers(node("c1-master-0"))], indirect=True)
def test_the_gate_returns_once_late_nodes_are_ready(api: Api) -> None:
    seen: list[HealthStatus] = []

    def joins_later(health: Any) -> None:
        seen.append(health.status)
        if len(seen) == 2:
            api.state.routes["/api/v1/nodes"] = (200, {"items": [node(n) for n in NODES]})

    health = wait_until_ready(api.target, probe_for("k8s_ubuntu"), timeout=30, interval=0.2,
                              progress=joins_later)
    assert health.status is HealthStatus.HEALTHY
    assert seen == [HealthStatus.UNHEALTHY, HealthStatus.UNHEALTHY, HealthStatus.HEALTHY]


@pytest.mark.parametrize("api", [answers(node("c1-master-0"), node("c1-default-worker-0"))],
                         indirect=True)
def test_the_gate_fails_at_once_with_the_line_a_failed_bootstrap_left_on_its_console(
        api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The provider's create, as the engine runs it, reads the consoles through Nova with the
    provider settings in its inputs (a fake OpenStack here, no clouds.yaml, no OS_*)."""
    monkeypatch.setattr(console_logs, "LOOK_EVERY_SECONDS", 0.0)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for variable in [key for key in os.environ if key.startswith("OS_")]:
        monkeypatch.delenv(variable)
    ids = dict(zip((n["name"] for n in api.gate_props["expectedNodes"]),
                   api.gate_props["serverIds"], strict=True))
    cloud = FakeCloud(consoles={
        ids["c1-default-worker-1"]: "2026-12-03T10:00:00Z coe-bootstrap[9]: ERROR: "
                                    "/etc/kubernetes/pki/ca.crt is missing\n",
        ids["c1-master-0"]: "2026-12-03T10:00:00Z coe-bootstrap[9]: bootstrap finished\n"})
    with FakeOpenStack(cloud) as fake:
        props = {**api.gate_props, "timeoutSeconds": 600, "openstack": {
            "cloud": None, "region": "RegionOne", "arguments": json.dumps(connection_arguments({
                "authUrl": fake.auth_url, "userName": "operator", "password": PASSWORD,
                "tenantName": "demo", "userDomainName": "Default",
                "projectDomainName": "Default"}))}}
        started = time.monotonic()
        with pytest.raises(ClusterNotReady) as raised:
            ReadinessProvider().create(props)
    assert time.monotonic() - started < 30
    assert str(raised.value).splitlines()[1:] == [
        "  c1-default-worker-1 (worker, group default-worker): bootstrap failed (console "
        "log): ERROR: /etc/kubernetes/pki/ca.crt is missing"]
    assert ("POST", f"/compute/v2.1/servers/{ids['c1-default-worker-1']}/action") \
        in cloud.requests
    # Only the node that is not ready was looked at.
    assert not any(ids["c1-master-0"] in path for _, path in cloud.requests)


@pytest.mark.parametrize("api", [answers(node("c1-master-0"), node("c1-default-worker-0"))],
                         indirect=True)
def test_status_with_consoles_shows_the_line_a_failed_bootstrap_ended_with(
        api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``coe status --consoles`` reads the consoles of the nodes that are not ready with the
    person's own credentials (OS_* here), by the server IDs the outputs carry."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    server_ids = {n["name"]: n["serverId"] for n in api.detail["nodes"]}
    assert len(server_ids) == 3 and all(server_ids.values())
    cloud = FakeCloud(consoles={server_ids["c1-default-worker-1"]: (
        "2026-12-03T10:00:00Z coe-bootstrap[9]: bootstrap FAILED (exit 100) in install_kubernetes,"
        " line 85: apt-get install kubelet=1.36.4-*\n")})
    with FakeOpenStack(cloud) as fake:
        for key, value in fake.environment().items():
            monkeypatch.setenv(key, value)
        code, plain = api.status(tmp_path)
        code_with, shown = api.status(tmp_path, "--consoles")
    assert code == code_with == 5
    assert "bootstrap failed" not in plain and "never joined" in plain
    assert "bootstrap failed on c1-default-worker-1" in shown
    assert ("bootstrap failed (console log): bootstrap FAILED (exit 100) in "
            "install_kubernetes, line 85") in shown
    # Only the node that is not ready was looked at.
    assert [path for _, path in cloud.requests] == [
        f"/compute/v2.1/servers/{server_ids['c1-default-worker-1']}/action"]


def test_the_final_stage_waits_for_the_add_ons_and_names_the_one_not_ready(api: Api) -> None:
    """Stage two: every node Ready is not enough while an add-on's workload rolls out."""
    workloads = [Workload.from_dict(item) for item in api.gate_props.get("workloads") or []]
    assert workloads, "the planned cluster installs add-ons from the program"
    lagging = workloads[0]
    api.state.routes[lagging.path] = (200, {"metadata": {"generation": 2}, "spec": {
        "replicas": 1}, "status": {"observedGeneration": 1}})
    props = {**api.gate_props, "timeoutSeconds": 1}
    with pytest.raises(Exception, match=rf"{lagging}: its controller has not seen the latest"):
        ReadinessProvider().create(props)


def test_the_first_stage_needs_only_the_api(api: Api) -> None:
    """Stage one: no node is Ready yet (no CNI), the API answers: the stage is done."""
    api.state.routes["/api/v1/nodes"] = (200, {"kind": "NodeList", "items": [
        node("c1-master-0", "False", "KubeletNotReady", "cni plugin not initialized")]})
    props = {**api.gate_props, "stage": "api", "workloads": None,
             "expectedNodes": api.gate_props["expectedNodes"][:1],
             "serverIds": api.gate_props["serverIds"][:1]}
    result = ReadinessProvider().create(props)
    assert result.outs is not None and result.outs["report"]["status"] == "HEALTHY"
