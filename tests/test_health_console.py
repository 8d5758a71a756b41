"""The readiness gate's look at console logs: a node whose bootstrap stopped with an error is
named with its own line, within a minute, instead of at the gate's timeout."""

from __future__ import annotations

from typing import Any

import pytest

from coe_provider.health.console import ConsoleWatch, bootstrap_failure

FAILED_JOIN = "".join((
    "[   14.201512] cloud-init[812]: Cloud-init v. 24.4 running 'modules:final'\n",
    "2026-12-03T10:00:01Z coe-bootstrap[901]: bootstrap of c1-default-worker-0 (worker, "
    "cluster c1) starting\n",
    "2026-12-03T10:04:12Z coe-bootstrap[901]: kubeadm join failed; resetting the node "
    "before the next try\n",
    "2026-12-03T10:14:40Z coe-bootstrap[901]: ERROR: this node is kubernetes 1.37.1 but the "
    "control plane serves 1.36\n",
    "[  900.100000] cloud-init[812]: 2026-12-03 10:14:40,120 - cc_scripts_user.py[WARNING]: "
    "Failed to run module scripts-user\n",
))
"""A worker's console after its bootstrap stopped (cloud-init's own lines around it)."""


@pytest.mark.parametrize(("console", "expected"), [
    # cloud-init's own line after the ERROR keeps the bootstrap's reason.
    (FAILED_JOIN, "ERROR: this node is kubernetes 1.37.1 but the control plane serves 1.36"),
    ("x coe-bootstrap[7]: bootstrap FAILED (exit 1) in main, line 40: apt-get install\n",
     "bootstrap FAILED (exit 1) in main, line 40: apt-get install"),
    # Prefixed by the journal on the console, and with a carriage return.
    ("[ 30.1] bash[77]: 2026-12-03T10:00:00Z coe-bootstrap[77]: ERROR: pki missing\r\n",
     "ERROR: pki missing"),
    # A re-run (by hand) after the failure takes the verdict back.
    (FAILED_JOIN + "2026-12-03T11:00:00Z coe-bootstrap[1204]: bootstrap of c1 starting\n", None),
    ("2026-12-03T10:00:00Z coe-bootstrap[5]: bootstrap of c1-master-0 finished\n", None),
    ("no bootstrap line at all\n", None),
    # cloud-init gave up on a script that never logged (before common.sh was sourced).
    ("2026-12-03T10:00:00Z coe-bootstrap[5]: bootstrap of c1-master-0 starting\n"
     "[ 60.2] cloud-init[812]: ... - util.py[WARNING]: Failed to run module scripts_user\n",
     "cloud-init: the bootstrap exited with an error before logging one"),
])
def test_the_last_bootstrap_line_is_the_verdict(console: str, expected: str | None) -> None:
    assert bootstrap_failure(console) == expected


class FakeCompute:
    """Nova's console output for a few servers; others answer as Nova does for none."""

    def __init__(self, consoles: dict[str, str]) -> None:
        self.consoles = consoles
        self.asked: list[str] = []

    def get_server_console_output(self, server: str, length: int | None = None) -> dict[str, Any]:
        self.asked.append(server)
        if server not in self.consoles:
            raise LookupError(f"Instance {server} could not be found.")
        return {"output": self.consoles[server]}


class FakeConnection:
    def __init__(self, compute: Any) -> None:
        self.compute = compute


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


SERVERS = {f"c1-default-worker-{i}": f"id-{i}" for i in range(5)}


def test_looks_once_a_minute_in_turn_and_names_the_failed_node() -> None:
    compute = FakeCompute({f"id-{i}": "booting\n" for i in range(5)})
    compute.consoles["id-3"] = FAILED_JOIN
    clock = Clock()
    watch = ConsoleWatch(SERVERS, lambda: FakeConnection(compute), interval=60, per_look=2,
                         clock=clock)
    names = sorted(SERVERS)
    assert watch.failures(names) == {}  # not in the first minute
    assert compute.asked == []
    clock.now += 60
    assert watch.failures(names) == {}
    assert compute.asked == ["id-0", "id-1"]
    clock.now += 30
    assert watch.failures(names) == {}  # between looks
    clock.now += 30
    assert watch.failures(names) == {
        "c1-default-worker-3": "ERROR: this node is kubernetes 1.37.1 but the control plane "
                               "serves 1.36"}
    assert compute.asked == ["id-0", "id-1", "id-2", "id-3"]
    # Ready nodes are not looked at; unknown names are ignored.
    clock.now += 60
    assert watch.failures(["c1-default-worker-4", "elsewhere"]) == {}
    assert compute.asked[-1] == "id-4"


def test_a_cloud_that_cannot_be_asked_turns_the_look_off(
        capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()

    def no_credentials() -> Any:
        raise RuntimeError("no auth_url")

    watch = ConsoleWatch(SERVERS, no_credentials, interval=0, clock=clock)
    assert watch.failures(sorted(SERVERS)) == {}
    assert watch.disabled_because == "RuntimeError: no auth_url"
    assert watch.failures(sorted(SERVERS)) == {}
    assert capsys.readouterr().err == (
        "coe readiness gate: console logs not read (RuntimeError: no auth_url)\n")


def test_one_unreadable_console_does_not_stop_the_others() -> None:
    compute = FakeCompute({"id-1": FAILED_JOIN})
    watch = ConsoleWatch(SERVERS, lambda: FakeConnection(compute), interval=0, clock=Clock())
    assert list(watch.failures(sorted(SERVERS))) == ["c1-default-worker-1"]
    assert watch.disabled_because is None
    # Every console refused: the cloud does not serve them, so the look ends.
    compute.consoles.clear()
    assert watch.failures(sorted(SERVERS)) == {}
    assert watch.disabled_because == "LookupError: Instance id-0 could not be found."


def _credentials() -> tuple[str, str, str]:
    """A CA and a certificate it signed (as the client's): valid PEM for the TLS context."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from tests.health_api import server_certificate

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")])
    now = datetime.datetime.now(datetime.UTC)
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
          .public_key(key.public_key()).serial_number(1)
          .not_valid_before(now).not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert, cert_key = server_certificate(ca_pem, key_pem, "127.0.0.1")
    return ca_pem, cert, cert_key


class SlowCompute:
    """A Nova that answers a console after 20 s, or never when ``hang`` (released when the
    test ends)."""

    def __init__(self, hang: bool = False) -> None:
        self.release = __import__("threading").Event()
        self.asked: list[str] = []
        self.hang = hang

    def get_server_console_output(self, server: str, length: int | None = None) -> dict[str, Any]:
        self.asked.append(server)
        self.release.wait(None if self.hang else 20)
        return {"output": FAILED_JOIN}


MANY = {f"c1-default-worker-{i}": f"id-{i}" for i in range(20)}
"""20 servers: one look would take 400 s on :class:`SlowCompute`."""


def test_a_slow_nova_never_holds_a_look_past_the_deadline() -> None:
    import time

    compute = SlowCompute()
    start = time.monotonic()
    watch = ConsoleWatch(MANY, lambda: FakeConnection(compute), interval=0,
                         deadline=start + 8)
    try:
        assert watch.failures(sorted(MANY)) == {}
        elapsed = time.monotonic() - start
        assert elapsed < 8 - 5 + 1, elapsed  # back DEADLINE_SLACK_SECONDS before the deadline
        assert compute.asked == []  # with 8 s left, no 20 s request may even start
        assert watch.disabled_because is None
    finally:
        compute.release.set()


def test_the_gate_holds_its_timeout_whatever_the_console_look_does(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import time

    from coe_provider.health import console

    # Scaled down 10x: requests of 2 s, and one that hangs past its own timeout.
    monkeypatch.setattr(console, "REQUEST_TIMEOUT_SECONDS", 2.0)
    monkeypatch.setattr(console, "DEADLINE_SLACK_SECONDS", 1.0)

    from coe_provider.cluster.registry import probe_for
    from coe_provider.health.check import ClusterNotReady, wait_until_ready
    from coe_provider.health.target import ExpectedNode, HealthTarget, TlsCredentials

    with socket.socket() as closed:  # a port nothing listens on: the API never answers
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    target = HealthTarget(
        cluster="c1", driver="k8s_ubuntu", api_host="127.0.0.1", api_port=port,
        credentials=TlsCredentials(*_credentials()),
        expected=tuple(ExpectedNode(name, "worker", "default-worker") for name in MANY))
    compute = SlowCompute(hang=True)
    timeout = 4.0
    start = time.monotonic()
    watch = ConsoleWatch(MANY, lambda: FakeConnection(compute), interval=0,
                         deadline=start + timeout)
    try:
        with pytest.raises(ClusterNotReady):
            wait_until_ready(target, probe_for("k8s_ubuntu"), timeout=timeout, interval=0.5,
                             bootstrap_failures=watch.failures)
        elapsed = time.monotonic() - start
        # The gate ends at its timeout although a read never returns: the look was left
        # behind at the deadline less the slack, and no second look piled up behind it.
        assert elapsed < timeout + 1.5, elapsed
        assert compute.asked == ["id-0"]
    finally:
        compute.release.set()
