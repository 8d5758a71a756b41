"""Every driver x role x representative label set, rendered and checked by real validators.

Debian's ``cloud-init schema`` validates each cloud-config; ``shellcheck`` checks every shell
script a payload writes (errors fail, warnings are printed). A failure shows the rendered
lines around the problem. Payload sizes are checked against Nova's limit with headroom.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from coe_provider.bootstrap import NOVA_USER_DATA_LIMIT
from coe_provider.cluster.registry import driver_names
from coe_provider.plan.runner import config_from_stack_file, run_program_directory
from tests.conftest import REPO, Recorded
from tests.validators import cloud_init_schema, scripts_in, shellcheck

KEYSTONE = {"openstack:authUrl": "https://keystone.test:5000/v3"}

LABEL_SETS: dict[str, list[dict[str, Any]]] = {
    "k8s_ubuntu": [
        {},
        {"cni": "flannel", "cloud_provider_enabled": False, "kube_tag": "v1.35.9"},
        {"containerd_version": "1.7.12-0ubuntu4", "pod_cidr": "172.20.0.0/16",
         "service_cidr": "172.21.0.0/16"},
    ],
    "swarm_ubuntu": [
        {},
        {"autolock": True, "data_path_port": 4790, "docker_version": "26.1.3-0ubuntu1"},
    ],
}
"""Label sets per driver; a driver not listed here is rendered with its defaults."""

TEMPLATE_VARIANTS: list[dict[str, Any]] = [
    {"masterLbEnabled": True},
    {"masterLbEnabled": True, "dockerVolumeSize": 50, "etcdVolumeSize": 10,
     "httpProxy": "http://proxy.example:3128", "httpsProxy": "http://proxy.example:3128",
     "noProxy": "registry.internal"},
]
"""Template settings that change what the bootstrap does (volumes, proxies)."""

CASES = [
    (driver, labels_index, variant_index)
    for driver in driver_names()
    for labels_index in range(len(LABEL_SETS.get(driver, [{}])))
    for variant_index in range(len(TEMPLATE_VARIANTS))
]
ROLES = {"first master": "c1-master-0", "joining master": "c1-master-2",
         "worker": "c1-default-worker-0"}
PAYLOADS_CHECKED: list[str] = []


def snippet(text: str, output: str, around: int = 4) -> str:
    """The rendered lines around every line number a validator names."""
    lines = text.splitlines()
    numbers = sorted({int(n) for n in re.findall(r"line (\d+)", output)}
                     | {int(n) for n in re.findall(r":(\d+):\d+:", output)})
    parts = []
    for number in numbers[:5]:
        low, high = max(number - around, 1), min(number + around, len(lines))
        parts.append("\n".join(f"{i:5d} | {lines[i - 1]}" for i in range(low, high + 1)))
    return "\n---\n".join(parts) or text[:2000]


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, int, int], Recorded]:
    results = {}
    for driver, labels_index, variant_index in CASES:
        labels = LABEL_SETS.get(driver, [{}])[labels_index]
        cluster = {"driver": driver, "masterCount": 3,
                   "template": {"image": "ubuntu-24.04", "flavor": "m1.medium",
                                "externalNetwork": "public", "labels": labels,
                                **TEMPLATE_VARIANTS[variant_index]},
                   "nodeGroups": [{"name": "default-worker", "count": 1}]}
        config, secret_keys = config_from_stack_file(
            {"config": {"coe:clusters": {"c1": cluster}, **KEYSTONE}})
        results[(driver, labels_index, variant_index)] = Recorded(
            run_program_directory(REPO, "payloads", config, secret_keys))
    return results


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize(("driver", "labels_index", "variant_index"), CASES)
def test_payload_is_valid(rendered: dict[tuple[str, int, int], Recorded], driver: str,
                          labels_index: int, variant_index: int, role: str,
                          capsys: pytest.CaptureFixture[str]) -> None:
    run = rendered[(driver, labels_index, variant_index)]
    server = run.named("compute/instance:Instance", ROLES[role])
    text = str(Recorded.inputs(server)["userData"])
    ok, output = cloud_init_schema(text)
    assert ok, f"cloud-init schema refused {ROLES[role]}:\n{output}\n{snippet(text, output)}"
    for path, script in scripts_in(text).items():
        ok, output = shellcheck(script, severity="error")
        assert ok, f"shellcheck errors in {path}:\n{output}\n{snippet(script, output)}"
        clean, warnings = shellcheck(script, severity="style")
        if not clean:
            with capsys.disabled():
                print(f"\nshellcheck findings below error level in {path}:\n{warnings}")
    encoded = len(base64.b64encode(text.encode()))
    assert encoded < NOVA_USER_DATA_LIMIT * 0.9, f"{encoded} bytes after base64: too close"
    PAYLOADS_CHECKED.append(f"{driver}/{labels_index}/{variant_index}/{role}")
