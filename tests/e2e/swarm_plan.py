"""The swarm cluster the end-to-end test boots: planned by the root program, payloads extracted.

The root program runs under the mocks runtime exactly as ``pulumi up`` would run it, with two
differences in what the "providers" answer:

* tls and random resources are answered with real cryptography from a fresh random seed and
  the real clock (so certificates are valid on the VMs now, and tokens are not the plan's
  reproducible ones);
* each node's port gets the address its VM will have on the test segment, and the API load
  balancer's floating IP is a loopback address (:data:`API_FLOATING_IP`) that the test
  forwards to the first manager, as the balancer would.

Everything else (user_data, volumes, outputs) is what the program itself produced.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from coe_provider.plan.document import build_plan
from coe_provider.plan.openstack_answers import FLOATING_IP, INSTANCE, PORT, OpenStackAnswers
from coe_provider.plan.provider_answers import ProviderAnswers
from coe_provider.plan.runner import config_from_stack_file, run_program_directory
from coe_provider.plan.secrets import reveal
from coe_provider.plan.state import PriorState
from tests.conftest import REPO
from tests.e2e.aptmirror import MIRROR_PORT

CLUSTER = "e2e"
"""The cluster's name (its nodes are ``e2e-master-N`` and ``e2e-workers-N``)."""

SUBNET = "10.77.0.0/24"
"""The cluster subnet, which is also the VMs' shared segment."""

NODE_ADDRESSES = {
    f"{CLUSTER}-bastion": "10.77.0.100",
    f"{CLUSTER}-master-0": "10.77.0.101",
    f"{CLUSTER}-master-1": "10.77.0.102",
    f"{CLUSTER}-master-2": "10.77.0.103",
    f"{CLUSTER}-workers-0": "10.77.0.111",
    f"{CLUSTER}-workers-1": "10.77.0.112",
}
"""Port name -> the address of the VM that plays that server (clear of the plan's own range,
which the load balancer's VIP takes from)."""

API_FLOATING_IP = "127.0.2.1"
"""The API load balancer's floating IP: a loopback address the test forwards to the first
manager's Docker API (so the certificates name it, and the gate and ``coe status`` reach the
swarm at the address the stack outputs give, as on a cloud)."""

BASTION_FLOATING_IP = "127.0.2.2"
"""The bastion's floating IP: a loopback address the test forwards to the bastion VM's SSH."""

READY_TIMEOUT = int(os.environ.get("COE_E2E_READY_TIMEOUT", "1200"))
"""The cluster's ``readyTimeout``: seconds the readiness gate waits (5 VMs under TCG on a
loaded 2-core machine take 4 to 9 minutes)."""

JOIN_TOKEN = re.compile(r"SWMTKN-1-[0-9a-z]{20,}-[0-9a-z]{10,}")
"""A real swarm join token (the bootstrap's own pattern for one does not match this)."""

VOLUME_GIB = 1
"""Size of the Docker data disk and of the managers' Raft state volume."""


@dataclass(frozen=True)
class AptMirrors:
    """The template's ``apt_mirror`` and ``apt_security_mirror`` labels."""

    archive: str
    """The distribution archive's mirror (``apt_mirror``)."""

    security: str
    """The security archive's mirror (``apt_security_mirror``; Debian keeps it apart)."""

    def labels(self) -> dict[str, str]:
        """As the template's labels."""
        return {"apt_mirror": self.archive, "apt_security_mirror": self.security}


MIRROR_HOST = NODE_ADDRESSES[f"{CLUSTER}-bastion"]
"""Where the test's apt archive is served on the segment: the bastion VM (see
:class:`tests.e2e.aptmirror.MirrorServer`)."""

TEST_APT_MIRRORS = AptMirrors(f"http://{MIRROR_HOST}:{MIRROR_PORT}/debian",
                              f"http://{MIRROR_HOST}:{MIRROR_PORT}/debian-security")
"""The mirrors step 2 adds to the template: Debian's two trees, as a mirror host lays them out."""


def swarm_settings(workers: int = 1, remove: tuple[int, ...] = (),
                   private_api: bool = False, apt_mirrors: AptMirrors | None = None
                   ) -> dict[str, Any]:
    """The cluster: 3 managers behind a load balancer and ``workers`` workers (indices in
    ``remove`` retired), data and state volumes, drain before delete through a bastion. With
    ``private_api`` the same cluster without a public API: its load balancer gets no floating
    IP, so the bastion is the route to the balancer's address inside the network. With
    ``apt_mirrors`` the template names the apt mirrors the nodes' sources use."""
    settings: dict[str, Any] = {
        "clusters": {
            CLUSTER: {
                # By coe and os: the driver must take Debian images as well as Ubuntu ones.
                "coe": "swarm",
                "os": "debian",
                "template": {
                    "image": "debian-12",
                    "flavor": "m1.small",
                    "externalNetwork": "public",
                    "subnetCidr": SUBNET,
                    "dockerVolumeSize": VOLUME_GIB,
                    "etcdVolumeSize": VOLUME_GIB,
                    "masterLbEnabled": True,
                    "apiAllowedCidrs": ["203.0.113.0/24"],
                    "bastion": True,
                    "sshAllowedCidrs": ["203.0.113.0/24"],
                    "labels": {"default_addr_pool": ["10.200.0.0/16"]},
                },
                "masterCount": 3,
                "nodeGroups": [{"name": "workers", "count": workers, "remove": list(remove)}],
                "drainOnDelete": True,
                "readyTimeout": READY_TIMEOUT,
            }
        }
    }
    if private_api:
        settings["clusters"][CLUSTER]["template"]["masterLbFloatingIpEnabled"] = False
    if apt_mirrors is not None:
        settings["clusters"][CLUSTER]["template"]["labels"].update(apt_mirrors.labels())
    return settings


@dataclass
class VmNetworkAnswers(OpenStackAnswers):
    """The plan's OpenStack answers (the nodes' ports keep the VMs' addresses, given as
    ``kept_addresses``, as a previous state would give them); also remembers the ID handed to
    every resource."""

    ids: dict[tuple[str, str], str] = field(default_factory=dict)
    """(type, name) -> the ID the resource got."""

    def outputs(self, type_token: str, urn: str, name: str,
                inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        resource_id, state = super().outputs(type_token, urn, name, inputs)
        self.ids[(type_token, name)] = resource_id
        return resource_id, state


@dataclass(frozen=True)
class PlannedDisk:
    """A disk Nova would attach: a blank data volume or a Cinder volume by ID."""

    size_gib: int
    """Its size."""

    volume_id: str
    """The Cinder volume ID ("" for a blank block-device-mapping volume)."""


@dataclass(frozen=True)
class PlannedNode:
    """One server of the planned cluster."""

    name: str
    """Server (and VM, and host) name."""

    address: str
    """Its private address."""

    user_data: str
    """The cloud-config Nova would get, in clear."""

    disks: tuple[PlannedDisk, ...]
    """Its extra disks, in block-device-mapping order."""


@dataclass(frozen=True)
class PlannedSwarm:
    """What the root program produced for the cluster."""

    nodes: tuple[PlannedNode, ...]
    """Every cluster server, masters first."""

    bastion: PlannedNode
    """The bastion's server."""

    outputs: dict[str, Any]
    """The cluster's stack output ``cluster:<name>``, secrets revealed."""

    stack_outputs: dict[str, Any]
    """Every stack output, secrets revealed: what ``pulumi stack output --json
    --show-secrets`` prints."""

    gate: dict[str, Any]
    """The readiness gate's inputs, secrets revealed: what the engine hands its provider."""

    removals: dict[str, dict[str, Any]]
    """Node name -> its removal command's inputs (``connection``, ``delete``), revealed."""

    document: dict[str, Any]
    """The plan as ``coe plan --json`` writes it (secrets redacted): the state for the next
    plan and the input of ``coe diff``."""

    seed: str
    """The random seed the tls and random answers came from."""

    clock: datetime.datetime
    """The time certificates start from."""

    everything: str
    """Every input and output of the run, revealed and serialised (to search for leaks)."""

    apt_mirrors: AptMirrors | None = None
    """The apt mirrors the template named, if any."""

    def node(self, name: str) -> PlannedNode:
        """One server by name."""
        return next(node for node in (*self.nodes, self.bastion) if node.name == name)


VOLUME = "openstack:blockstorage/volume:Volume"

READINESS_GATE = "pulumi-python:dynamic:Resource"
"""The readiness gate's type (a Python dynamic resource)."""

REMOVAL_COMMAND = "command:remote:Command"
"""The type of a node's removal (drain) command."""


def plan_swarm(workers: int = 1, remove: tuple[int, ...] = (),
               previous: PlannedSwarm | None = None, private_api: bool = False,
               apt_mirrors: AptMirrors | None = None) -> PlannedSwarm:
    """Run the root program for :func:`swarm_settings` and collect what the VMs need.

    With ``previous``, its plan is the stored state (as ``coe plan --state`` reads it) and its
    seed and clock are reused, so the tls and random answers are the same keys, certificates
    and tokens, as the engine would keep them; so are its ``apt_mirrors`` unless others are
    given. ``private_api``, ``apt_mirrors``: see :func:`swarm_settings`."""
    if apt_mirrors is None and previous is not None:
        apt_mirrors = previous.apt_mirrors
    settings = swarm_settings(workers, remove, private_api, apt_mirrors)
    config, secret_keys = config_from_stack_file(
        {"config": {f"coe:{key}": value for key, value in settings.items()}})
    prior = PriorState.of(previous.document) if previous else None
    kept = {(PORT, name): address for name, address in NODE_ADDRESSES.items()}
    kept[(FLOATING_IP, f"{CLUSTER}-api")] = API_FLOATING_IP
    kept[(FLOATING_IP, f"{CLUSTER}-bastion")] = BASTION_FLOATING_IP
    answers = VmNetworkAnswers(kept_addresses={**(prior.addresses if prior else {}), **kept})
    seed = previous.seed if previous else secrets.token_hex(32)
    clock = previous.clock if previous else datetime.datetime.now(datetime.UTC)
    run = run_program_directory(REPO, "e2e", config, secret_keys,
                                providers=ProviderAnswers(seed=seed, clock=clock),
                                openstack=answers)
    volume_sizes = {
        answers.ids[(VOLUME, r.name)]: int(reveal(r.inputs)["size"])
        for r in run.resources if r.type == VOLUME
    }
    servers = []
    for server in sorted((r for r in run.resources if r.type == INSTANCE),
                         key=lambda r: ("workers" in r.name, r.name)):
        inputs = reveal(server.inputs)
        disks = tuple(
            PlannedDisk(int(device["volumeSize"]), "") if device["sourceType"] == "blank"
            else PlannedDisk(volume_sizes[device["uuid"]], device["uuid"])
            for device in inputs.get("blockDevices", [])
            if device.get("bootIndex", 0) != 0
        )
        servers.append(PlannedNode(server.name, NODE_ADDRESSES[server.name],
                                   inputs["userData"], disks))
    outputs = reveal(run.stack_outputs)
    revealed = {"inputs": [reveal(r.inputs) for r in run.resources], "outputs": outputs}
    [gate] = [reveal(r.inputs) for r in run.resources if r.type == READINESS_GATE]
    removals = {r.name.removesuffix("-drain"): reveal(r.inputs)
                for r in run.resources if r.type == REMOVAL_COMMAND}
    bastion = f"{CLUSTER}-bastion"
    return PlannedSwarm(
        nodes=tuple(node for node in servers if node.name != bastion),
        bastion=next(node for node in servers if node.name == bastion),
        outputs=outputs[f"cluster:{CLUSTER}"],
        stack_outputs=outputs,
        gate=gate,
        removals=removals,
        document=json.loads(build_plan(run, prior.inputs if prior else None).dumps()),
        seed=seed,
        clock=clock,
        everything=json.dumps(revealed, default=str),
        apt_mirrors=apt_mirrors,
    )
