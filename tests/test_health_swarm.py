"""The Swarm probe on the Docker API's node list (the shapes ``GET /nodes`` returns), and
how the base matches it to the declared nodes. The real daemon answers in the e2e test."""

from __future__ import annotations

from typing import Any

from coe_provider.cluster.registry import get_driver
from coe_provider.health.check import UNNAMED_ENTRY, assess
from coe_provider.health.report import HealthStatus, ProbeResult
from coe_provider.health.target import ExpectedNode, HealthTarget, TlsCredentials

CREATED = "2026-12-03T08:01:02.123456789Z"

probe = get_driver("swarm_ubuntu").cls.probe_members
"""The driver's probe, as the gate and coe status find it."""


def entry(hostname: str | None, role: str = "worker", state: str = "ready",
          reachability: str | None = None, leader: bool = False,
          message: str = "") -> dict[str, Any]:
    """One node as ``GET /nodes`` lists it."""
    node: dict[str, Any] = {
        "ID": f"id-{hostname or 'ghost'}",
        "CreatedAt": CREATED,
        "Spec": {"Role": role, "Availability": "active"},
        "Description": {"Engine": {"EngineVersion": "20.10.24+dfsg1"}},
        "Status": {"State": state, "Message": message, "Addr": "10.77.0.1"},
    }
    if hostname:
        node["Description"]["Hostname"] = hostname
    if role == "manager":
        node["ManagerStatus"] = {"Reachability": reachability or "reachable",
                                 "Leader": leader, "Addr": "10.77.0.1:2377"}
    return node


class Listing:
    """An API that lists ``nodes``."""

    def __init__(self, nodes: list[dict[str, Any]]) -> None:
        self.nodes = nodes

    def get(self, path: str) -> tuple[int, bytes]:
        raise AssertionError(f"unexpected GET {path}")

    def get_json(self, path: str) -> Any:
        assert path == "/nodes"
        return self.nodes


TARGET = HealthTarget(
    cluster="s", driver="swarm_ubuntu", api_host="192.0.2.10", api_port=2376,
    credentials=TlsCredentials("ca", "cert", "key"),
    expected=(ExpectedNode("s-master-0", "master", "master"),
              ExpectedNode("s-master-1", "master", "master"),
              ExpectedNode("s-master-2", "master", "master"),
              ExpectedNode("s-workers-0", "worker", "workers")))


def formed(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = {
        "s-master-0": entry("s-master-0", "manager", leader=True),
        "s-master-1": entry("s-master-1", "manager"),
        "s-master-2": entry("s-master-2", "manager"),
        "s-workers-0": entry("s-workers-0"),
    }
    nodes.update(changes)
    return list(nodes.values())


def test_a_formed_swarm_is_healthy_with_versions_and_join_times() -> None:
    health = assess(TARGET, probe(Listing(formed())))
    assert health.status is HealthStatus.HEALTHY and health.reason is None
    assert [(n.name, n.role, n.ready) for n in health.nodes] == [
        ("s-master-0", "master", True), ("s-master-1", "master", True),
        ("s-master-2", "master", True), ("s-workers-0", "worker", True)]
    assert {n.version for n in health.nodes} == {"20.10.24+dfsg1"}
    assert {n.ready_since for n in health.nodes} == {CREATED}


def test_a_down_worker_and_an_unreachable_manager_are_named() -> None:
    nodes = formed(**{
        "s-workers-0": entry("s-workers-0", state="down", message="heartbeat failure"),
        "s-master-2": entry("s-master-2", "manager", reachability="unreachable"),
    })
    health = assess(TARGET, probe(Listing(nodes)))
    assert health.status is HealthStatus.UNHEALTHY
    assert health.failure_lines() == [
        "s-master-2 (master, group master): manager unreachable in Raft",
        "s-workers-0 (worker, group workers): down: heartbeat failure"]


def test_a_manager_that_joined_as_a_worker_is_not_ready() -> None:
    health = assess(TARGET, probe(Listing(formed(**{"s-master-1": entry("s-master-1")}))))
    [wrong] = health.not_ready
    assert (wrong.name, wrong.reason) == ("s-master-1", "joined as a worker, declared a master")


def test_no_leader_is_a_cluster_problem() -> None:
    nodes = formed(**{"s-master-0": entry("s-master-0", "manager")})
    result = probe(Listing(nodes))
    assert result.problems == ["the swarm reports 0 leaders, not one"]
    assert assess(TARGET, result).status is HealthStatus.UNHEALTHY


def test_an_entry_left_by_a_timed_out_join_is_listed_not_failed() -> None:
    ghost = entry(None, "manager", state="unknown", reachability="unknown")
    health = assess(TARGET, probe(Listing([*formed(), ghost])))
    assert health.status is HealthStatus.HEALTHY
    [extra] = [n for n in health.nodes if not n.declared]
    assert extra.name == "id-ghost" and extra.reason is not None
    assert extra.reason.startswith(UNNAMED_ENTRY)


def test_an_older_entry_of_a_rejoined_node_does_not_hide_the_ready_one() -> None:
    old = entry("s-workers-0", state="down")
    old["ID"] = "id-old"
    health = assess(TARGET, ProbeResult(probe(Listing([old, *formed()])).members))
    assert health.status is HealthStatus.HEALTHY
    [extra] = [n for n in health.nodes if not n.declared]
    assert extra.name == "s-workers-0" and "older entry" in str(extra.reason)
