"""Nothing credential-like is stored in clear: not in any resource's inputs, nor in its outputs
as the engine stores them (the plan's answers with the engine's secrecy rules:
``coe_provider.plan.recorder.stored_state``), pulumi-command's stored ``environment`` included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from coe_provider.plan.secrets import redact
from tests.conftest import REPO, Recorded, stack_config
from tests.test_cleanup import PROVIDER_CONFIG

CREDENTIAL = re.compile(
    r"PRIVATE KEY-----|stack-password|application-credential-secret=[^\s\"]|"
    r"client-key-data|\"(password|token|secret|applicationCredentialSecret)\": \"(?!\[secret\])"
)
"""What a credential looks like in clear: a private key, the stack's provider password, the
cloud controller's application credential secret, a kubeconfig's client key, or a field
named like a credential holding a value."""


def leaks(recorded: Recorded) -> list[str]:
    """``type name where: match`` for every credential-like text left in clear."""
    found = []
    for resource in recorded.resources:
        places: dict[str, Any] = {"inputs": resource.inputs}
        if resource.custom:
            places["outputs"] = resource.state
        for where, value in places.items():
            for match in CREDENTIAL.finditer(json.dumps(redact(value))):
                found.append(f"{resource.type} {resource.name} {where}: {match.group(0)}")
    outputs = json.dumps(redact(recorded.run.stack_outputs))
    found += [f"stack outputs: {m.group(0)}" for m in CREDENTIAL.finditer(outputs)]
    return found


@pytest.mark.parametrize("example", ["k8s-ha", "swarm", "two-regions"])
def test_examples_store_no_credential_in_clear(
        run_example: Callable[[str], Recorded], example: str) -> None:
    recorded = run_example(example)
    assert all(r.state for r in recorded.resources if r.custom)
    assert leaks(recorded) == []


def test_a_stack_with_the_provider_in_its_settings_stores_none_in_clear(
        run_root_program: Callable[..., Recorded]) -> None:
    config, _ = stack_config(REPO / "tests/data/cleanup_migration/Pulumi.prod.yaml")
    coe = json.loads(config.pop("coe:clusters"))
    recorded = run_root_program({"clusters": coe}, PROVIDER_CONFIG)
    assert leaks(recorded) == []
    # The checker sees a leak when there is one: the same stack with the secrets revealed.
    from coe_provider.plan.secrets import reveal

    cleanup = recorded.named("dynamic:Resource", "prod-cleanup")
    assert "stack-password" in json.dumps(reveal(cleanup.state))
    assert CREDENTIAL.search(json.dumps(reveal(cleanup.state)))
