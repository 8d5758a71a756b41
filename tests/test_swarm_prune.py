"""coe-swarm-prune (swarm_ubuntu managers): which node entries it removes, run by bash against a
fake docker CLI that answers from a table of entries and records every call."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from coe_provider.cluster import driverfiles

GRACE = 120
"""The grace the service unit passes (tests/test_swarm.py checks the unit says so)."""

FAKE_DOCKER = r"""#!/bin/bash
# Answers the docker calls coe-swarm-prune makes from $FAKE_DIR; logs each call to calls.log.
printf '%s\n' "$*" >>"$FAKE_DIR/calls.log"
case "$1 $2" in
"info --format")
  case "$3" in
  *ControlAvailable*) cat "$FAKE_DIR/control" ;;
  *NodeID*) cat "$FAKE_DIR/self" ;;
  *) exit 64 ;;
  esac
  ;;
"node inspect")
  shift 4
  if [[ "$*" == self ]]; then cat "$FAKE_DIR/leader"; exit 0; fi
  for id in "$@"; do
    grep -m1 "^$id " "$FAKE_DIR/entries" || { echo "no such node: $id" >&2; exit 1; }
  done
  ;;
"node ls") cut -d' ' -f1 "$FAKE_DIR/entries" ;;
"node rm")
  if grep -qx "$3" "$FAKE_DIR/refuse" 2>/dev/null; then echo "refused $3" >&2; exit 1; fi
  echo "$3"
  ;;
*) exit 64 ;;
esac
"""


@dataclass(frozen=True)
class Entry:
    """One node entry as the script's inspect format prints it."""

    id: str
    age: int
    """Seconds since the entry was created."""
    state: str = "ready"
    member: str = "none"
    hostname: str = ""

    def line(self, now: int) -> str:
        return f"{self.id} {now - self.age} {self.state} {self.member} {self.hostname}"


SELF = Entry("self0", 3600, "ready", "member", "c1-master-0")


@dataclass(frozen=True)
class Outcome:
    """What one run did."""

    status: int
    removed: list[str]
    calls: list[str]
    said: str


def run_prune(tmp_path: Path, entries: list[Entry], *, control: str = "true",
              leader: str = "true", refuse: tuple[str, ...] = (),
              arguments: tuple[str, ...] = (str(GRACE),)) -> Outcome:
    """The driver's prune script with the fake docker first on PATH."""
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(FAKE_DOCKER)
    fake.chmod(0o755)
    now = int(time.time())
    (tmp_path / "entries").write_text("".join(f"{e.line(now)}\n" for e in entries))
    (tmp_path / "control").write_text(f"{control}\n")
    (tmp_path / "self").write_text(f"{SELF.id}\n")
    (tmp_path / "leader").write_text(f"{leader}\n")
    (tmp_path / "refuse").write_text("".join(f"{r}\n" for r in refuse))
    script = tmp_path / "coe-swarm-prune"
    script.write_text(driverfiles.driver_file("coe_provider_drivers.swarm_ubuntu", "templates",
                                              "prune-nodes.sh"))
    result = subprocess.run(
        ["bash", str(script), *arguments], capture_output=True, text=True, check=False,
        timeout=60, env={"PATH": f"{fake.parent}:/usr/bin:/bin", "FAKE_DIR": str(tmp_path)})
    log = tmp_path / "calls.log"
    calls = log.read_text().splitlines() if log.exists() else []
    removed = [call.split()[-1] for call in calls if call.startswith("node rm ")]
    return Outcome(result.returncode, removed, calls, result.stdout + result.stderr)


def test_removes_only_old_entries_that_never_became_nodes(tmp_path: Path) -> None:
    """Removed: an entry with no hostname, not in Raft, older than the grace. Kept: one still
    inside the grace (a node may be joining), a node that once had a session (it has a
    hostname, even if down), and a Raft member, which is reported for a person to handle."""
    entries = [
        SELF,
        Entry("orphan1", GRACE + 40, "unknown"),
        Entry("orphan2", GRACE + 5000, "down"),
        Entry("joining", GRACE - 60, "unknown"),
        Entry("downnode", GRACE + 9000, "down", "none", "c1-default-worker-3"),
        Entry("worker0", 3000, "ready", "none", "c1-default-worker-0"),
        Entry("raftghost", GRACE + 900, "unknown", "member"),
    ]
    outcome = run_prune(tmp_path, entries)
    assert outcome.status == 0, outcome.said
    assert outcome.removed == ["orphan1", "orphan2"]
    assert "removed entry orphan1 (unknown, created" in outcome.said
    assert "raftghost never reported a hostname but is a Raft member" in outcome.said
    assert "joining" not in outcome.said


def test_a_clean_swarm_is_left_alone_and_says_nothing(tmp_path: Path) -> None:
    outcome = run_prune(tmp_path, [SELF, Entry("worker0", 3000, "ready", "none", "w0")])
    assert (outcome.status, outcome.removed, outcome.said) == (0, [], "")


@pytest.mark.parametrize(("control", "leader"), [("false", ""), ("true", "false")])
def test_only_the_leader_acts(tmp_path: Path, control: str, leader: str) -> None:
    """Workers and locked managers (no control plane) and followers do nothing, so two
    managers never remove the same entry."""
    outcome = run_prune(tmp_path, [SELF, Entry("orphan1", GRACE + 40, "unknown")],
                        control=control, leader=leader)
    assert (outcome.status, outcome.removed) == (0, [])
    assert not any(call.startswith("node ls") for call in outcome.calls)


def test_a_misread_own_entry_stops_it(tmp_path: Path) -> None:
    """This node's own entry must read as ready with a hostname; if the fields come out
    wrong (another docker's format), no entry is trusted and nothing is removed."""
    misread = Entry(SELF.id, 3600, "ready", "member", "")
    outcome = run_prune(tmp_path, [misread, Entry("orphan1", GRACE + 40, "unknown")])
    assert outcome.status == 1
    assert outcome.removed == []
    assert "this node's own entry reads" in outcome.said


def test_a_refused_removal_fails_the_run_after_the_others(tmp_path: Path) -> None:
    entries = [SELF, Entry("orphan1", GRACE + 40, "unknown"),
               Entry("orphan2", GRACE + 50, "unknown")]
    outcome = run_prune(tmp_path, entries, refuse=("orphan1",))
    assert outcome.status == 1
    assert outcome.removed == ["orphan1", "orphan2"]
    assert "refused orphan1" in outcome.said and "removed entry orphan2" in outcome.said


@pytest.mark.parametrize("arguments", [(), ("3m",), ("120", "extra")])
def test_the_grace_is_one_number_of_seconds(tmp_path: Path, arguments: tuple[str, ...]) -> None:
    outcome = run_prune(tmp_path, [SELF], arguments=arguments)
    assert outcome.status == 2
    assert "usage: coe-swarm-prune GRACE_SECONDS" in outcome.said
    assert outcome.calls == []
