"""How payloads are put together at scale: one Output.all per node with only its dynamic
values, YAML of the shared parts emitted once, user_data kept as a digest in planned state.
The payloads must read exactly as if each were dumped whole."""

from __future__ import annotations

import hashlib

import pulumi
import pytest
import yaml

from coe_provider.bootstrap.cloudconfig import _dump, _DynamicInputs
from coe_provider.plan.openstack_answers import INSTANCE, OpenStackAnswers
from coe_provider.plan.secrets import SECRET_SIG, SIG_KEY, is_secret
from tests.conftest import Recorded
from tests.validators import files_in


@pytest.fixture(scope="module")
def ha() -> Recorded:
    """The k8s-ha example: 3 masters behind Octavia, two node groups."""
    from coe_provider.plan.runner import config_from_stack_file, run_program_directory
    from coe_provider.spec.yamlload import load_yaml_file
    from tests.conftest import EXAMPLES

    directory = EXAMPLES / "k8s-ha"
    config, secret_keys = config_from_stack_file(load_yaml_file(directory / "Pulumi.prod.yaml"))
    return Recorded(run_program_directory(directory, "prod", config, secret_keys))


SERVERS = ["prod-master-0", "prod-master-1", "prod-default-worker-0", "prod-gpu-1"]


@pytest.mark.parametrize("name", SERVERS)
def test_cloud_config_reads_as_one_dumped_document(ha: Recorded, name: str) -> None:
    server = ha.named("compute/instance:Instance", name)
    assert is_secret(server.inputs["userData"])
    text = str(Recorded.inputs(server)["userData"])
    assert text.startswith("#cloud-config\n")
    assert "#cloud-config\n" + _dump(yaml.safe_load(text)) == text


@pytest.mark.parametrize("name", SERVERS)
def test_kubeadm_configuration_is_what_safe_dump_writes(ha: Recorded, name: str) -> None:
    content = files_in(str(Recorded.inputs(ha.named("compute/instance:Instance", name))
                           ["userData"]))["/etc/coe/kubeadm.yaml"]
    documents = list(yaml.safe_load_all(content))
    assert yaml.safe_dump_all(documents, sort_keys=False) == content
    registration = documents[0]["nodeRegistration"]
    assert registration["name"] == name


def test_workers_differ_only_in_their_own_values(ha: Recorded) -> None:
    first, second = (
        yaml.safe_load(str(Recorded.inputs(ha.named("compute/instance:Instance", name))
                           ["userData"]))
        for name in ("prod-default-worker-0", "prod-default-worker-1"))
    assert first["users"] == second["users"]
    assert first["hostname"] == "prod-default-worker-0"
    assert second["final_message"].startswith("coe bootstrap of prod-default-worker-1 ")


def test_dynamic_inputs_lift_only_what_is_not_a_string() -> None:
    inputs = _DynamicInputs()
    address = pulumi.Output.from_input("10.0.0.5")
    taken = inputs.take_dict({"static": "a", "address": address})
    listed = inputs.take_list(["b", address])
    assert taken["static"] == "a" and listed[0] == "b"
    fill = inputs.filler(["10.0.0.5", "10.0.0.6"])
    assert fill(taken) == {"static": "a", "address": "10.0.0.5"}
    assert fill(listed) == ["b", "10.0.0.6"]


def test_planned_server_state_keeps_user_data_as_its_digest() -> None:
    answers = OpenStackAnswers()
    text = "#cloud-config\nhostname: n\n"
    wrapped = {SIG_KEY: SECRET_SIG, "value": text}
    _, state = answers.outputs(INSTANCE, "urn:x", "n", {"name": "n", "userData": wrapped})
    assert is_secret(state["userData"])
    assert state["userData"]["value"] == hashlib.sha1(text.encode()).hexdigest()
    assert state["name"] == "n"
    _, plain = answers.outputs(INSTANCE, "urn:y", "m", {"userData": text})
    assert plain["userData"] == hashlib.sha1(text.encode()).hexdigest()
