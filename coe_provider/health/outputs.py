"""Health targets from a stack's outputs: what ``pulumi stack output --json --show-secrets``
prints for a stack of this package (``cluster:<name>`` per cluster)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coe_provider.health.https import CredentialsUnusable, check_credentials
from coe_provider.health.target import ExpectedNode, HealthTarget, Tunnel, host_and_port

CLUSTER_PREFIX = "cluster:"
"""Stack outputs of one cluster are named ``cluster:<name>``."""

HIDDEN_SECRET = "[secret]"
"""What ``pulumi stack output --json`` prints for a secret without ``--show-secrets``."""


class OutputsError(ValueError):
    """The outputs are not a stack's of this package, or lack what a check needs."""


def _hidden_secrets(value: Any, path: str) -> list[str]:
    if value == HIDDEN_SECRET:
        return [path]
    if isinstance(value, Mapping):
        return [p for key, item in value.items() for p in _hidden_secrets(item, f"{path}.{key}")]
    return []


def target_from_detail(name: str, detail: Mapping[str, Any]) -> HealthTarget:
    """The target of one cluster from its ``cluster:<name>`` output.

    The route is the gate's (:func:`coe_provider.cluster.apiroute.api_route`): straight to the API's
    public address when it has one (then ``apiAddress`` differs from ``apiInternalHost``),
    else through the bastion to the address inside the network."""
    from coe_provider.cluster.registry import DriverNotFound, get_driver

    where = f"{CLUSTER_PREFIX}{name}"
    missing = [key for key in ("driver", "apiAddress", "apiInternalHost", "nodes")
               if key not in detail]
    if missing:
        raise OutputsError(f"{where}: no {', '.join(missing)} (outputs of an older coe-provider, "
                           "or not a coe-provider stack; run pulumi up with this version)")
    hidden = _hidden_secrets(detail, where)
    if hidden:
        raise OutputsError(f"{', '.join(hidden)}: hidden; pass --show-secrets to pulumi stack "
                           "output")
    try:
        driver = get_driver(str(detail["driver"]))
    except DriverNotFound as error:
        raise OutputsError(f"{where}.driver: {error}") from error
    external_host, port = host_and_port(str(detail["apiAddress"]), driver.cls.api_port)
    internal_host = str(detail["apiInternalHost"])
    tunnel = None
    if external_host == internal_host and detail.get("bastionAddress"):
        tunnel = Tunnel(bastion_host=str(detail["bastionAddress"]),
                        user=str(detail.get("sshUser", "coe")),
                        private_key=str(detail["sshPrivateKey"]))
    try:
        credentials = driver.cls.client_credentials(detail)
        check_credentials(credentials)
    except CredentialsUnusable as error:
        raise OutputsError(f"{where}: the {driver.name} client credentials in the outputs do "
                           f"not load: {error}") from None
    except ValueError as error:  # the driver's reader says what is wrong, in a sentence
        raise OutputsError(f"{where}: cannot read the {driver.name} client credentials from "
                           f"the outputs: {error}") from None
    except (KeyError, TypeError, AttributeError):
        raise OutputsError(f"{where}: cannot read the {driver.name} client credentials from "
                           "the outputs: they are not of the shape the driver writes (outputs "
                           "of another version, or edited)") from None
    return HealthTarget(
        cluster=name, driver=driver.name, api_host=internal_host if tunnel else external_host,
        api_port=port, credentials=credentials,
        expected=tuple(ExpectedNode.from_dict(node) for node in detail["nodes"]),
        tunnel=tunnel)


def server_ids_from_detail(detail: Mapping[str, Any]) -> dict[str, str]:
    """Node name -> server ID, from a ``cluster:<name>`` output (empty for outputs of an
    older coe-provider, which did not export them)."""
    return {str(node["name"]): str(node["serverId"]) for node in detail.get("nodes") or []
            if isinstance(node, Mapping) and node.get("serverId")}


def targets_from_outputs(outputs: Mapping[str, Any],
                         only: str | None = None) -> list[HealthTarget]:
    """Every cluster of the stack (or the one named ``only``)."""
    names = sorted(key[len(CLUSTER_PREFIX):] for key in outputs
                   if key.startswith(CLUSTER_PREFIX))
    if not names:
        raise OutputsError("no cluster:<name> outputs: not the outputs of a coe-provider stack")
    if only is not None:
        if only not in names:
            raise OutputsError(f"no cluster {only!r} in the outputs (clusters: "
                               f"{', '.join(names)})")
        names = [only]
    targets = []
    for name in names:
        detail = outputs[f"{CLUSTER_PREFIX}{name}"]
        if not isinstance(detail, Mapping):
            raise OutputsError(f"{CLUSTER_PREFIX}{name}: not an object")
        targets.append(target_from_detail(name, detail))
    return targets
