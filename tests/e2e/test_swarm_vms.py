"""The swarm_ubuntu driver's own payloads form a swarm on real (emulated) virtual machines.

The root program plans a 3-manager, 1-worker swarm (see :mod:`tests.e2e.swarm_plan`); each
server's user_data boots a Debian 12 VM, with its data and state volumes as virtio disks
carrying the serials Nova would give them. The test then asks the first manager's Docker API,
over mutual TLS with the client certificate from the stack outputs, for the swarm's nodes.

Run with ``python3 -m pytest -m e2e tests/e2e/test_swarm_vms.py -q`` as root (see README.md).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import ssl
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.swarm_plan import JOIN_TOKEN, PlannedSwarm, plan_swarm
from tests.e2e.vmharness import (
    BaseImage,
    HarnessError,
    RunningVm,
    VmDisk,
    VmSpec,
    vm_cluster,
)

pytestmark = pytest.mark.e2e

READY_TIMEOUT = float(os.environ.get("COE_E2E_READY_TIMEOUT", "1200"))
"""Seconds from the first QEMU start until every node must be Ready (4 VMs under TCG on a
loaded 2-core machine take 6 to 9 minutes)."""

DOCKER_API = 2376
"""The Docker API port on the managers (mutual TLS)."""

BOOTSTRAP_FAILED = re.compile(
    r"coe-bootstrap\[\d+\]: (?:ERROR: |bootstrap FAILED)|Failed to run module scripts.user")
"""Console lines that show a bootstrap gave up."""

PRUNE_STARTED = "removing swarm entries left by unfinished joins (coe-swarm-prune.timer)"
"""What a manager's bootstrap logs once its first coe-swarm-prune run has passed."""


def vm_specs(planned: PlannedSwarm) -> list[VmSpec]:
    """One VM per planned server; the first manager forwards its Docker API to the host."""
    specs = []
    for index, node in enumerate(planned.nodes):
        disks = tuple(VmDisk(disk.size_gib, disk.volume_id[:20]) for disk in node.disks)
        specs.append(VmSpec(
            name=node.name,
            user_data=node.user_data,
            private_address=node.address,
            mac=f"52:54:00:77:01:{index:02x}",
            forward_ports=(DOCKER_API,) if index == 0 else (),
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


def docker_get(port: int, server_name: str, context: ssl.SSLContext, path: str) -> Any:
    """GET ``path`` from the Docker API forwarded to ``127.0.0.1:port``; the server's
    certificate is checked against ``server_name`` (an address it must name)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as raw, \
            context.wrap_socket(raw, server_hostname=server_name) as tls:
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
                    .encode())
        response = http.client.HTTPResponse(tls)
        response.begin()
        body = response.read()
    if response.status != 200:
        raise HarnessError(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
    return json.loads(body)


def swarm_nodes(port: int, server_name: str, context: ssl.SSLContext) -> list[dict[str, Any]]:
    """The swarm's nodes as the manager's API lists them, or [] while it cannot answer."""
    try:
        nodes = docker_get(port, server_name, context, "/nodes")
    except (OSError, ssl.SSLError, http.client.HTTPException, HarnessError,
            json.JSONDecodeError):
        return []
    return list(nodes) if isinstance(nodes, list) else []


def summary(nodes: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(hostname, role, state, manager reachability or leader) per node, sorted."""
    rows = []
    for node in nodes:
        manager = node.get("ManagerStatus") or {}
        leadership = "leader" if manager.get("Leader") else manager.get("Reachability", "")
        # A node that has just joined has no description yet.
        rows.append((node.get("Description", {}).get("Hostname", "?"),
                     node.get("Spec", {}).get("Role", "?"),
                     node.get("Status", {}).get("State", "?"), leadership))
    return sorted(rows)


def formed(rows: list[tuple[str, str, str, str]], expected: list[str]) -> bool:
    """Exactly the expected nodes, each Ready, and every manager the leader or reachable (a
    manager that has just joined is listed Ready before Raft reaches it). An entry left by a
    join whose certificate request timed out (no hostname) keeps the swarm unformed until
    coe-swarm-prune removes it."""
    names = sorted(row[0] for row in rows)
    ready = all(row[2] == "ready" for row in rows)
    managers_settled = all(row[3] in ("leader", "reachable") for row in rows
                           if row[1] == "manager")
    return names == expected and ready and managers_settled


def unnamed(nodes: list[dict[str, Any]]) -> set[str]:
    """IDs of the entries with no hostname: joining nodes, or entries left by a join."""
    return {str(node.get("ID")) for node in nodes
            if not node.get("Description", {}).get("Hostname")}


def failed_bootstrap(vms: list[RunningVm]) -> str | None:
    """The console tail of the first VM whose bootstrap gave up, if any."""
    for vm in vms:
        log = vm.console_log()
        if BOOTSTRAP_FAILED.search(log):
            return f"{vm.name}:\n" + "\n".join(log.splitlines()[-40:])
    return None


def test_swarm_forms_from_the_drivers_payloads(base_image: BaseImage, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    planned = plan_swarm()
    leaks = [node.name for node in planned.nodes if JOIN_TOKEN.search(node.user_data)]
    assert not leaks and not JOIN_TOKEN.search(planned.everything), "a join token was planned"
    bundle: dict[str, str] = planned.outputs["dockerTls"]
    first = planned.nodes[0]
    expected = sorted(node.name for node in planned.nodes)

    started = time.monotonic()
    with vm_cluster(base_image, vm_specs(planned), tmp_path / "vms") as vms:
        port = vms[0].host_port(DOCKER_API)
        deadline = started + READY_TIMEOUT
        rows: list[tuple[str, str, str, str]] = []
        seen_unnamed: set[str] = set()
        with client_context(bundle, bundle["ca.pem"]) as context:
            while True:
                nodes = swarm_nodes(port, first.address, context)
                seen_unnamed |= unnamed(nodes)
                rows = summary(nodes)
                if formed(rows, expected):
                    break
                failure = failed_bootstrap(vms)
                assert failure is None, f"a bootstrap failed; console tail of {failure}"
                for vm in vms:
                    if not vm.running():
                        raise HarnessError(f"{vm.name}: qemu exited {vm.process.returncode}")
                assert time.monotonic() < deadline, (
                    f"not all nodes Ready within {READY_TIMEOUT:.0f}s; last seen: {rows}")
                time.sleep(5)
            ready_after = time.monotonic() - started
            managers = [row for row in rows if row[1] == "manager"]
            assert len(managers) == 3 and [row[1] for row in rows].count("worker") == 1, rows
            assert [row[3] for row in managers].count("leader") == 1, rows
            assert all(row[3] in ("leader", "reachable") for row in managers), rows
            # Entries seen without a hostname that are gone now: left by a timed-out join.
            pruned = seen_unnamed - {str(node.get("ID")) for node in nodes}
            info = docker_get(port, first.address, context, "/info")
            assert info["Swarm"]["Managers"] == 3 and info["Swarm"]["Nodes"] == 4, info["Swarm"]

        with client_context(None, bundle["ca.pem"]) as anonymous, \
                pytest.raises((ssl.SSLError, OSError, http.client.HTTPException)):
            docker_get(port, first.address, anonymous, "/nodes")

        for vm in vms:
            # A node is Ready once it has joined; its bootstrap finishes a little later.
            vm.wait_for_console(rf"bootstrap of {re.escape(vm.name)} finished",
                                max(deadline - time.monotonic(), 60.0))
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

    with capsys.disabled():
        cache = "cached" if base_image.cached else f"built in {base_image.build_seconds:.0f}s"
        print(f"\nswarm e2e: base image {cache}; {len(rows)} nodes Ready "
              f"{ready_after:.0f}s after the first VM started; entries left by timed-out "
              f"joins and removed by coe-swarm-prune: {len(pruned)}")
        for row in rows:
            print("  " + "  ".join(row))
