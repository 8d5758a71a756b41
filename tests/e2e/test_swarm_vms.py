"""The swarm_ubuntu driver's own payloads form a swarm on real (emulated) virtual machines.

The root program plans a 3-manager, 1-worker swarm (see :mod:`tests.e2e.swarm_plan`); each
server's user_data boots a Debian 12 VM, with its data and state volumes as virtio disks
carrying the serials Nova would give them. The API balancer's floating IP is a loopback
address forwarded to the first manager's Docker API. The readiness gate then runs as the
engine runs it (its provider unpickled from the planned inputs, its create called with them)
and ``coe status`` reads the planned stack outputs, as ``pulumi stack output --json
--show-secrets | coe status -`` would; both must see the 4 nodes ready, and ``coe status``
must name the worker once its VM is stopped.

Run with ``python3 -m pytest -m e2e tests/e2e/test_swarm_vms.py -q`` as root (see README.md).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest, CreateResult

from tests.e2e.swarm_plan import (
    API_FLOATING_IP,
    JOIN_TOKEN,
    READY_TIMEOUT,
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
    vm_cluster,
)

pytestmark = pytest.mark.e2e

DOCKER_API = 2376
"""The Docker API port on the managers (mutual TLS)."""

DOWN_DETECTION_TIMEOUT = 180.0
"""Seconds within which ``coe status`` must name a stopped worker (swarm marks a node down
after missed heartbeats: seconds, plus emulation's slowness)."""

PRUNE_TIMEOUT = 300.0
"""Seconds for the managers' coe-swarm-prune to remove entries left by timed-out joins
(every 30 s, once 120 s old)."""

BOOTSTRAP_FAILED = re.compile(
    r"coe-bootstrap\[\d+\]: (?:ERROR: |bootstrap FAILED)|Failed to run module scripts.user")
"""Console lines that show a bootstrap gave up."""

PRUNE_STARTED = "removing swarm entries left by unfinished joins (coe-swarm-prune.timer)"
"""What a manager's bootstrap logs once its first coe-swarm-prune run has passed."""


def vm_specs(planned: PlannedSwarm) -> list[VmSpec]:
    """One VM per planned server; the balancer's floating IP reaches the first manager."""
    specs = []
    for index, node in enumerate(planned.nodes):
        disks = tuple(VmDisk(disk.size_gib, disk.volume_id[:20]) for disk in node.disks)
        specs.append(VmSpec(
            name=node.name,
            user_data=node.user_data,
            private_address=node.address,
            mac=f"52:54:00:77:01:{index:02x}",
            floating=(FloatingForward(API_FLOATING_IP, DOCKER_API),) if index == 0 else (),
            disks=disks,
        ))
    return specs


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
    """GET ``path`` from the Docker API at the balancer's floating IP, its certificate
    checked against that address."""
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


class GateRun(threading.Thread):
    """The readiness gate's create, as the engine's dynamic-provider host runs it: the
    provider unpickled from the planned inputs' ``__provider``, then ``create(inputs)``."""

    def __init__(self, inputs: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.inputs = inputs
        self.result: CreateResult | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            # pulumi/dynamic/__main__.py (get_provider) does exactly this with the inputs;
            # that module serves gRPC when imported, so its steps are repeated here.
            provider = dill.loads(base64.b64decode(self.inputs["__provider"]))
            provider.configure(ConfigureRequest(Config(raw_config={}, project_name="e2e")))
            self.result = provider.create(self.inputs)
        except BaseException as error:  # reported by the test thread
            self.error = error


def coe_status(outputs: dict[str, Any], *options: str) -> subprocess.CompletedProcess[str]:
    """``pulumi stack output --json --show-secrets | coe status - [options]``."""
    result = subprocess.run(
        [sys.executable, "-m", "coe_provider.cli", "status", "-", *options],
        input=json.dumps(outputs), capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "160"})
    assert result.stdout, f"coe status printed nothing: {result.stderr}"
    return result


def coe_status_json(outputs: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``coe status - --json``: its exit code and document."""
    result = coe_status(outputs, "--json")
    return result.returncode, json.loads(result.stdout)


def failed_bootstrap(vms: list[RunningVm]) -> str | None:
    """The console tail of the first VM whose bootstrap gave up, if any."""
    for vm in vms:
        log = vm.console_log()
        if BOOTSTRAP_FAILED.search(log):
            return f"{vm.name}:\n" + "\n".join(log.splitlines()[-40:])
    return None


def test_gate_and_status_on_a_swarm_from_the_drivers_payloads(
        base_image: BaseImage, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    planned = plan_swarm()
    leaks = [node.name for node in planned.nodes if JOIN_TOKEN.search(node.user_data)]
    assert not leaks and not JOIN_TOKEN.search(planned.everything), "a join token was planned"
    bundle: dict[str, str] = planned.outputs["dockerTls"]
    expected = [node.name for node in planned.nodes]

    started = time.monotonic()
    with vm_cluster(base_image, vm_specs(planned), tmp_path / "vms") as vms:
        gate = GateRun(planned.gate)
        gate.start()
        while gate.is_alive():
            failure = failed_bootstrap(vms)
            assert failure is None, f"a bootstrap failed; console tail of {failure}"
            for vm in vms:
                if not vm.running():
                    raise HarnessError(f"{vm.name}: qemu exited {vm.process.returncode}")
            gate.join(5)
        ready_after = time.monotonic() - started
        assert gate.error is None, f"the readiness gate failed: {gate.error}"
        assert gate.result is not None and gate.result.outs is not None
        report = gate.result.outs["report"]
        assert report["status"] == "HEALTHY" and report["readyNodes"] == 4, report
        assert "credentials" not in gate.result.outs

        # coe status on the stack outputs: the same nodes, healthy, with versions and times;
        # entries left by timed-out joins (no hostname) go once coe-swarm-prune removes them.
        deadline = time.monotonic() + PRUNE_TIMEOUT
        while True:
            code, status = coe_status_json(planned.stack_outputs)
            [cluster] = status["clusters"]
            undeclared = [n for n in cluster["nodes"] if not n["declared"]]
            if code == 0 and not undeclared:
                break
            assert time.monotonic() < deadline, f"coe status: {code} {cluster}"
            time.sleep(10)
        nodes = cluster["nodes"]
        assert status["status"] == "HEALTHY" and cluster["reason"] is None
        assert [n["name"] for n in nodes] == expected
        assert all(n["ready"] and n["version"] and n["readySince"] for n in nodes), nodes
        assert [n["role"] for n in nodes] == ["master", "master", "master", "worker"]
        healthy_text = coe_status(planned.stack_outputs).stdout

        with client_context(bundle, bundle["ca.pem"]) as context:
            info = docker_get(context, "/info")
            assert info["Swarm"]["Managers"] == 3 and info["Swarm"]["Nodes"] == 4, info["Swarm"]
        with client_context(None, bundle["ca.pem"]) as anonymous, \
                pytest.raises((ssl.SSLError, OSError, http.client.HTTPException)):
            docker_get(anonymous, "/nodes")

        for vm in vms:
            # A node is Ready once it has joined; its bootstrap finishes a little later.
            vm.wait_for_console(rf"bootstrap of {re.escape(vm.name)} finished",
                                max(started + READY_TIMEOUT - time.monotonic(), 60.0))
            log = vm.console_log()
            assert not JOIN_TOKEN.search(log), f"{vm.name} printed a join token on its console"
            if "docker.io" in base_image.packages:
                assert "apt: already installed" in log, f"{vm.name} went to the archive"
            else:
                assert re.search(r"apt: installing .*docker\.io", log), (
                    f"{vm.name} did not install docker.io from the archive")
            if "-master-" in vm.name:
                # The bootstrap ran coe-swarm-prune once against the real daemon and it read
                # the node's own entry right (it refuses to act otherwise).
                assert PRUNE_STARTED in log, f"{vm.name}: coe-swarm-prune did not start"

        # A worker goes down: coe status says UNHEALTHY (exit 5) and names it.
        worker = next(vm for vm in vms if "-workers-" in vm.name)
        worker.stop()
        stopped = time.monotonic()
        while True:
            code, status = coe_status_json(planned.stack_outputs)
            [cluster] = status["clusters"]
            down = [n for n in cluster["nodes"] if not n["ready"]]
            if code == 5:
                break
            assert time.monotonic() - stopped < DOWN_DETECTION_TIMEOUT, (
                f"coe status still {status['status']} {DOWN_DETECTION_TIMEOUT:.0f}s after "
                f"{worker.name} stopped")
            time.sleep(5)
        detected_after = time.monotonic() - stopped
        assert status["status"] == "UNHEALTHY"
        assert [n["name"] for n in down] == [worker.name], down
        assert down[0]["reason"].startswith("down"), down
        assert worker.name in cluster["reason"]
        unhealthy_text = coe_status(planned.stack_outputs).stdout

    with capsys.disabled():
        cache = "cached" if base_image.cached else f"built in {base_image.build_seconds:.0f}s"
        print(f"\nswarm e2e: base image {cache}; the readiness gate returned "
              f"{ready_after:.0f}s after the first VM started; coe status named the stopped "
              f"worker {detected_after:.0f}s after it stopped")
        for node in report["nodes"]:
            print(f"  {node['name']}  {node['role']}  ready since {node['readySince']}  "
                  f"docker {node['version']}")
        print(f"$ coe status -\n{healthy_text}$ coe status -   # worker stopped\n"
              f"{unhealthy_text}")
