"""k8s_ubuntu control-plane joins: one at a time (each master waits until the one before it
is a voting etcd member, bounded and logged), and the master group's node labels on every
master, the first included."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from coe_provider_drivers.k8s_ubuntu.kubeadm import JoinSecrets, init_configuration
from coe_provider_drivers.k8s_ubuntu.labels import KubernetesLabels

from coe_provider.bootstrap.cloudconfig import common_library
from tests.conftest import REPO, Recorded, cluster_settings, shell_functions
from tests.validators import files_in

BOOTSTRAP = REPO / "drivers" / "k8s_ubuntu" / "templates" / "bootstrap.sh"


def member_list(*members: tuple[str, bool]) -> str:
    """etcd's JSON gateway reply to /v3/cluster/member/list (protojson with proto names and
    no unpopulated fields: a voter has no isLearner, an unstarted member no name; etcd-io/etcd
    api/etcdserverpb/rpc.proto Member, server/embed/serve.go at v3.6.14)."""
    listed = []
    for number, (name, learner) in enumerate(members):
        member: dict[str, Any] = {"ID": str(1000 + number),
                                  "peerURLs": [f"https://10.0.0.{number + 5}:2380"]}
        if name:
            member["name"] = name
            member["clientURLs"] = [f"https://10.0.0.{number + 5}:2379"]
        if learner:
            member["isLearner"] = True
        listed.append(member)
    return json.dumps({"header": {"cluster_id": "1", "member_id": "1000"}, "members": listed})


def wait_run(tmp_path: Path, replies: list[str | None], limit: int = 1800,
             previous: str = "c1-master-1") -> subprocess.CompletedProcess[str]:
    """Run wait_for_previous_master with a ``curl`` that answers ``replies`` in turn (None: etcd
    unreachable; the last reply repeats), a ``sleep`` that returns at once, and a real etcd CA
    made with openssl for the client certificate."""
    pki = tmp_path / "pki"
    (pki / "etcd").mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=etcd-ca", "-keyout", str(pki / "etcd" / "ca.key"),
                    "-out", str(pki / "etcd" / "ca.crt")], check=True, capture_output=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answers = tmp_path / "answers"
    answers.mkdir()
    for number, reply in enumerate(replies):
        (answers / str(number)).write_text("" if reply is None else reply)
    calls = tmp_path / "calls"
    fake_curl = r"""#!/bin/bash
# Checks the client certificate curl is handed, then answers the next reply.
for ((i = 1; i <= $#; i++)); do
    if [[ "${!i}" == --cert ]]; then j=$((i + 1)); cert="${!j}"; fi
done
openssl verify -CAfile "PKI/etcd/ca.crt" "$cert" >/dev/null || exit 60
printf '%s\n' "$*" >>"CALLS"
n=$(($(wc -l <"CALLS") - 1))
last=$(($(ls "ANSWERS" | wc -l) - 1))
((n > last)) && n=$last
[[ -s "ANSWERS/$n" ]] || exit 7
cat "ANSWERS/$n"
"""
    (bin_dir / "curl").write_text(fake_curl.replace("PKI", str(pki)).replace(
        "CALLS", str(calls)).replace("ANSWERS", str(answers)))
    (bin_dir / "sleep").write_text("#!/bin/sh\nexit 0\n")
    for tool in ("curl", "sleep"):
        (bin_dir / tool).chmod(0o755)
    library = tmp_path / "common.sh"
    library.write_text(common_library())
    functions = shell_functions(BOOTSTRAP, "etcd_voting_members", "etcd_client_certificate",
                                "wait_for_previous_master")
    program = (f'set -Eeuo pipefail\nsource "{library}"\nPKI_DIR="{pki}"\n{functions}\n'
               "wait_for_previous_master")
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "COE_ROLE": "master",
                   "COE_PREVIOUS_MASTER": previous, "COE_PREVIOUS_MASTER_ADDRESS": "10.0.0.6",
                   "JOIN_WAIT_SECONDS": str(limit), "COE_LOG_FILE": str(tmp_path / "log")}
    result = subprocess.run(["bash", "-c", program], env=environment, capture_output=True,
                            text=True, timeout=120, check=False)
    result.args = calls.read_text().splitlines() if calls.exists() else []
    return result


def test_a_master_waits_until_the_one_before_it_votes(tmp_path: Path) -> None:
    learner = member_list(("c1-master-0", False), ("c1-master-1", True))
    result = wait_run(tmp_path, [None, member_list(("c1-master-0", False), ("", True)),
                                 learner, learner,
                                 member_list(("c1-master-0", False), ("c1-master-1", False))])
    assert result.returncode == 0, result.stderr
    assert len(result.args) == 5, result.args
    assert all("https://10.0.0.6:2379/v3/cluster/member/list" in call and "-X POST" in call
               for call in result.args)
    assert "waiting for c1-master-1 (10.0.0.6) to be a voting etcd member" in result.stderr
    assert "c1-master-1 is a voting etcd member (after 40s); joining" in result.stderr


def test_the_wait_is_bounded_and_then_the_join_goes_ahead(tmp_path: Path) -> None:
    result = wait_run(tmp_path, [member_list(("c1-master-0", False), ("c1-master-1", True))],
                      limit=120)
    assert result.returncode == 0, result.stderr
    assert len(result.args) == 13
    assert "c1-master-1 is not a voting etcd member yet (60s of 120s)" in result.stderr
    assert "c1-master-1 is not a voting etcd member after 120s; joining anyway" in result.stderr


def test_another_member_with_a_similar_name_does_not_count(tmp_path: Path) -> None:
    result = wait_run(tmp_path, [member_list(("c1-master-10", False), ("c1-master-1", True))],
                      limit=20)
    assert "joining anyway" in result.stderr


@pytest.fixture(scope="module")
def three_masters() -> Recorded:
    from coe_provider.plan.runner import config_from_stack_file, run_program_directory

    settings = cluster_settings("k8s_ubuntu", {"cloud_provider_enabled": False}, masterCount=3,
                                template={"masterLbEnabled": True})
    config, secret_keys = config_from_stack_file(
        {"config": {f"coe:{k}": v for k, v in settings.items()}})
    return Recorded(run_program_directory(REPO, "test", config, secret_keys))


def node_env(recorded: Recorded, name: str) -> tuple[str, str]:
    files = files_in(str(Recorded.inputs(
        recorded.named("compute/instance:Instance", name))["userData"]))
    return files["/etc/coe/driver.env"], files["/etc/coe/node.env"]


def test_each_joining_master_names_the_master_before_it(three_masters: Recorded) -> None:
    first, _ = node_env(three_masters, "c1-master-0")
    assert "COE_PREVIOUS_MASTER" not in first
    for previous, name in (("c1-master-0", "c1-master-1"), ("c1-master-1", "c1-master-2")):
        driver, _ = node_env(three_masters, name)
        _, previous_node = node_env(three_masters, previous)
        address = next(line.split("=", 1)[1] for line in previous_node.splitlines()
                       if line.startswith("COE_NODE_ADDRESS="))
        assert f"COE_PREVIOUS_MASTER={previous}\n" in driver
        assert f"COE_PREVIOUS_MASTER_ADDRESS={address}\n" in driver
    worker, _ = node_env(three_masters, "c1-default-worker-0")
    assert "COE_PREVIOUS_MASTER" not in worker


def test_the_first_master_applies_the_master_group_labels() -> None:
    secrets = JoinSecrets("abcdef.0123456789abcdef", "sha256:00", "ff")
    rendered = init_configuration(
        "c1", "c1-master-0", "10.0.0.5", "10.0.0.4", 6443, ["10.0.0.4"],
        KubernetesLabels(cloud_provider_enabled=False), secrets,
        {"tier": "control", "zone": "a"})
    init = next(yaml.safe_load_all(rendered))
    assert init["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-labels", "value": "tier=control,zone=a"}]


def test_every_master_registers_with_the_same_kubelet_arguments(
        three_masters: Recorded) -> None:
    def registration(name: str) -> Any:
        files = files_in(str(Recorded.inputs(
            three_masters.named("compute/instance:Instance", name))["userData"]))
        document = next(yaml.safe_load_all(files["/etc/coe/kubeadm.yaml"]))
        return document["nodeRegistration"]["kubeletExtraArgs"]

    assert registration("c1-master-0") == registration("c1-master-1") == registration(
        "c1-master-2")
