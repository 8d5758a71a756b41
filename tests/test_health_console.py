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
    def __init__(self, compute: FakeCompute) -> None:
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
