"""The readiness gate and ``coe status`` through the bastion, byte for byte: a local SSH server
(:mod:`tests.ssh_bastion`) stands in for the bastion and the local mutual-TLS API of
:mod:`tests.health_api` stands behind it. The cluster is planned without a public API, so the
gate's inputs and the stack outputs route through the bastion by themselves; only the
addresses are moved onto 127.0.0.1.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest
from typer.testing import CliRunner

from coe_provider.cli import app
from coe_provider.health import tunnel
from coe_provider.health.check import ClusterNotReady, check, wait_until_ready
from coe_provider.health.gate import ReadinessProvider, probe_for
from coe_provider.health.outputs import target_from_detail
from coe_provider.health.report import ClusterHealth, HealthStatus
from coe_provider.health.target import HealthTarget
from coe_provider.plan.runner import config_from_stack_file, run_program_directory
from tests.conftest import REPO, Recorded, cluster_settings
from tests.health_api import ApiState, serve_api
from tests.ssh_bastion import LocalBastion
from tests.test_health_kubernetes import NODES, answers, ca, master_files, node

PROBE = probe_for("k8s_ubuntu")


@pytest.fixture(scope="module")
def planned() -> Recorded:
    """A cluster whose API has no public address: its balancer has no floating IP, and the
    bastion is the route."""
    settings = cluster_settings("k8s_ubuntu", {"cloud_provider_enabled": False}, template={
        "masterLbEnabled": True, "masterLbFloatingIpEnabled": False, "bastion": True,
        "sshAllowedCidrs": ["192.0.2.0/24"]})
    settings["clusters"]["c1"]["waitForReady"] = True
    config, secret_keys = config_from_stack_file(
        {"config": {f"coe:{k}": v for k, v in settings.items()}})
    return Recorded(run_program_directory(REPO, "tunnel", config, secret_keys))


class Private:
    """The planned private cluster, with its bastion and its API moved onto 127.0.0.1."""

    def __init__(self, planned: Recorded, state: ApiState, api_port: int,
                 bastion: LocalBastion) -> None:
        self.state = state
        """What the API answers."""
        self.bastion = bastion
        """The bastion."""
        self.api_port = api_port
        """The API's port."""
        gate = next(r for r in planned.resources if r.type == "pulumi-python:dynamic:Resource")
        planned_props = Recorded.inputs(gate)
        assert planned_props["bastionHost"] and planned_props["sshUser"] == "coe"
        self.gate_props: dict[str, Any] = {
            **planned_props, "bastionHost": "127.0.0.1", "apiHost": "127.0.0.1",
            "apiPort": api_port}
        """The gate's planned inputs, with the bastion and the API on 127.0.0.1."""
        self.detail: dict[str, Any] = copy.deepcopy(planned.output("cluster:c1"))
        """The cluster's stack output, likewise."""
        self.detail.update(apiAddress=f"https://127.0.0.1:{api_port}",
                           apiInternalHost="127.0.0.1", bastionAddress="127.0.0.1")

    @property
    def target(self) -> HealthTarget:
        """As ``coe status`` reads it from the outputs (the gate's is the same)."""
        target = target_from_detail("c1", self.detail)
        assert target == HealthTarget.from_props(self.gate_props)
        assert target.tunnel is not None
        return target

    def status(self, tmp_path: Path, *arguments: str) -> tuple[int, str]:
        outputs = tmp_path / "outputs.json"
        outputs.write_text(json.dumps({"cluster:c1": self.detail}))
        result = CliRunner().invoke(app, ["status", str(outputs), *arguments])
        return result.exit_code, result.stdout


def cluster_key(planned: Recorded) -> paramiko.PKey:
    """The cluster's SSH key, which the bastion's ``coe`` user lets in."""
    return tunnel.load_private_key(planned.output("cluster:c1")["sshPrivateKey"])


@pytest.fixture
def private(planned: Recorded, request: pytest.FixtureRequest,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Private]:
    """The API behind a bastion; ``request.param`` sets the bastion's behaviour."""
    options: dict[str, Any] = getattr(request, "param", None) or {}
    state = answers(*(node(n) for n in NODES))
    ca_cert, ca_key = ca(planned)
    with serve_api(state, ca_cert, ca_key, client_ca_pem=ca_cert) as port, \
            LocalBastion(options.get("authorized") or cluster_key(planned),
                         forwarding=options.get("forwarding", True),
                         stall=options.get("stall", False)) as bastion:
        # Port 22 needs root; the bastion here listens on a free port.
        monkeypatch.setattr(tunnel, "SSH_PORT", bastion.port)
        yield Private(planned, state, port, bastion)


def reason_lines(health: ClusterHealth) -> list[str]:
    """The lines of the check's reason (one is expected)."""
    return str(health.reason).splitlines()


def test_the_gate_and_status_check_the_api_through_the_bastion(private: Private,
                                                               tmp_path: Path) -> None:
    result = ReadinessProvider().create({**private.gate_props, "timeoutSeconds": 60})
    assert result.outs is not None
    report = result.outs["report"]
    assert report["status"] == "HEALTHY" and report["readyNodes"] == 3
    assert "sshPrivateKey" not in result.outs and "credentials" not in result.outs
    # Every request went over a channel of the bastion to the API's internal address.
    api = ("127.0.0.1", private.api_port)
    assert private.bastion.log.channels == [api, api]
    assert private.state.requests == ["/readyz", "/api/v1/nodes"]
    code, output = private.status(tmp_path, "--json")
    document = json.loads(output)
    assert code == 0 and document["status"] == "HEALTHY"
    assert [n["name"] for n in document["clusters"][0]["nodes"]] == list(NODES)
    assert private.bastion.log.channels == [api] * 4
    assert private.bastion.log.sessions == 2


def test_the_apis_certificate_is_checked_end_to_end(private: Private, planned: Recorded,
                                                    tmp_path: Path) -> None:
    """The bastion relays the TLS bytes; the client still checks the certificate against
    the cluster CA and the API's address."""
    # Another CA of the cluster (the front proxy's) than the one that signed the API's.
    other = master_files(planned)["/etc/kubernetes/pki/front-proxy-ca.crt"]
    target = private.target
    wrong_ca = dataclasses.replace(target, credentials=dataclasses.replace(
        target.credentials, ca_pem=other))
    health = check(wrong_ca, PROBE, timeout=5)
    assert health.status is HealthStatus.UNKNOWN
    [line] = reason_lines(health)
    assert "certificate is not one the cluster CA signed for 127.0.0.1" in line
    assert f"through bastion 127.0.0.1:{private.bastion.port}" in line
    assert private.bastion.log.channels == [("127.0.0.1", private.api_port)]
    assert private.state.requests == []


@pytest.mark.parametrize("private", [{"authorized": paramiko.ECDSAKey.generate()}],
                         indirect=True)
def test_a_key_the_bastion_does_not_know_is_one_clear_refusal(private: Private,
                                                              tmp_path: Path) -> None:
    health = check(private.target, PROBE, timeout=5)
    assert health.status is HealthStatus.UNKNOWN
    [line] = reason_lines(health)
    assert line == (f"API unreachable: bastion 127.0.0.1:{private.bastion.port} refused the "
                    "cluster's SSH key for user coe (Authentication failed.)")
    assert private.bastion.log.refused_keys >= 1 and private.bastion.log.channels == []
    code, output = private.status(tmp_path)
    assert code == 6 and "refused the cluster's SSH key" in output


@pytest.mark.parametrize("private", [{"forwarding": False}], indirect=True)
def test_a_bastion_that_refuses_forwarding_says_so_in_one_line(private: Private,
                                                               tmp_path: Path) -> None:
    health = check(private.target, PROBE, timeout=5)
    assert health.status is HealthStatus.UNKNOWN
    [line] = reason_lines(health)
    assert line == (
        f"API unreachable: bastion 127.0.0.1:{private.bastion.port} refused to forward to "
        f"127.0.0.1:{private.api_port} (administratively prohibited: is AllowTcpForwarding off "
        "in its sshd_config?)")
    code, output = private.status(tmp_path, "--json")
    assert code == 6
    assert json.loads(output)["clusters"][0]["reason"] == line
    with pytest.raises(ClusterNotReady) as raised:
        wait_until_ready(private.target, PROBE, timeout=1.0, interval=0.2)
    message = str(raised.value).splitlines()
    assert [m for m in message if "bastion" in m] == [f"  c1: {line}"]
    # As a person runs it (no logging set up): that line and the table, nothing on stderr
    # (paramiko logs the refused channel).
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"cluster:c1": private.detail}))
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from coe_provider.health import tunnel; "
         "tunnel.SSH_PORT = int(sys.argv[1]); from coe_provider.cli import main; "
         "sys.argv[1:] = ['status', sys.argv[2]]; main()", str(private.bastion.port),
         str(outputs)], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "300"})
    assert run.returncode == 6, run
    assert run.stderr == ""
    assert [text for text in run.stdout.splitlines() if "bastion" in text] == [
        f"  reason: {line}"]


def test_nothing_listening_behind_the_bastion_is_named(private: Private) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    target = dataclasses.replace(private.target, api_port=port)
    [line] = reason_lines(check(target, PROBE, timeout=5))
    assert line.startswith(f"API unreachable: bastion 127.0.0.1:{private.bastion.port} could "
                           f"not connect to 127.0.0.1:{port} (Connect failed")


@pytest.mark.parametrize("private", [{"stall": True}], indirect=True)
def test_a_stalled_channel_is_bounded_by_the_gates_timeouts(private: Private,
                                                            tmp_path: Path) -> None:
    started = time.monotonic()
    health = check(private.target, PROBE, timeout=1.0)
    elapsed = time.monotonic() - started
    assert health.status is HealthStatus.UNKNOWN
    [line] = reason_lines(health)
    assert f"through bastion 127.0.0.1:{private.bastion.port}" in line and "timed out" in line
    assert elapsed < 4, elapsed
    # The gate: its last check, then it fails, within its timeout and one check's.
    started = time.monotonic()
    with pytest.raises(ClusterNotReady):
        wait_until_ready(private.target, PROBE, timeout=2.0, interval=0.5)
    assert time.monotonic() - started < 2.0 + 2.0 + 2, time.monotonic() - started
    started = time.monotonic()
    code, output = private.status(tmp_path, "--json", "--timeout", "1")
    assert code == 6 and "timed out" in json.loads(output)["clusters"][0]["reason"]
    assert time.monotonic() - started < 5


def test_a_bastion_that_never_speaks_is_bounded_and_named(private: Private,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    """A frozen bastion: TCP is accepted (by the kernel) but no SSH banner ever comes."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        monkeypatch.setattr(tunnel, "SSH_PORT", silent.getsockname()[1])
        started = time.monotonic()
        health = check(private.target, PROBE, timeout=1.0)
        assert time.monotonic() - started < 4
        [line] = reason_lines(health)
        assert line == (f"API unreachable: bastion 127.0.0.1:{silent.getsockname()[1]}: no "
                        "SSH session (no SSH banner within 1s)")
        code, output = private.status(tmp_path, "--timeout", "1")
        assert code == 6 and "no SSH session" in output
    # Closed now: refused at once.
    [line] = reason_lines(check(private.target, PROBE, timeout=1.0))
    assert line.startswith(f"API unreachable: bastion 127.0.0.1:{tunnel.SSH_PORT} unreachable: ")
    assert "Connection refused" in line


def open_descriptors() -> set[tuple[str, str]]:
    """This process's file descriptors: (number, what it is: ``socket:[inode]``, a path...)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.add((fd, os.readlink(f"/proc/self/fd/{fd}")))
        except FileNotFoundError:  # the directory's own descriptor, closed by now
            continue
    return found


def leftovers(threads: set[threading.Thread], descriptors: set[tuple[str, str]],
              within: float = 10.0) -> tuple[list[str], list[str]]:
    """Threads and descriptors made since ``threads`` and ``descriptors`` were taken and still
    there, once none are (or after ``within`` seconds): the bastion's own side ends its threads
    asynchronously. Things that ended meanwhile (another test's) do not count."""
    deadline = time.monotonic() + within
    while True:
        new_threads = sorted(t.name for t in set(threading.enumerate()) - threads)
        new_descriptors = sorted(link for _, link in open_descriptors() - descriptors)
        if not (new_threads or new_descriptors) or time.monotonic() > deadline:
            return new_threads, new_descriptors
        time.sleep(0.1)


def test_fifty_checks_leave_no_thread_or_socket_behind(private: Private) -> None:
    check(private.target, PROBE)  # first use: lazy imports and the like
    threads, descriptors = set(threading.enumerate()), open_descriptors()
    seen: list[HealthStatus] = []

    def joins_after_fifty(health: ClusterHealth) -> None:
        # No thread of the tunnel outlives the check that made it: its relays, and the SSH
        # transport's thread (the bastion's own transports here are server-mode).
        assert not [t for t in threading.enumerate() if t.name.startswith("coe-tunnel") or (
            isinstance(t, paramiko.Transport) and not t.server_mode)]
        seen.append(health.status)
        if len(seen) == 50:
            private.state.routes["/api/v1/nodes"] = (200, {"items": [node(n) for n in NODES]})

    private.state.routes["/api/v1/nodes"] = (200, {"items": [node(n) for n in NODES[:2]]})
    health = wait_until_ready(private.target, PROBE, timeout=600, interval=0.01,
                              progress=joins_after_fifty)
    assert health.status is HealthStatus.HEALTHY
    assert seen == [HealthStatus.UNHEALTHY] * 50 + [HealthStatus.HEALTHY]
    assert private.bastion.log.sessions == 52
    assert len(private.bastion.log.channels) == 2 * 52
    assert leftovers(threads, descriptors) == ([], [])
