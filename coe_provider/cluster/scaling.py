"""The scale manager's wiring: a removal command per node, run before its server is deleted.

Each node with ``drainOnDelete`` gets a pulumi-command ``remote.Command`` that does nothing on
create and runs the driver's removal script on delete. It depends on the node's server (and on
whatever it connects through), so the engine deletes it, running the script, before the
server, on a scale-down as on a plain ``pulumi destroy``.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command

from coe_provider.cluster.contract import RemovalStep

SSH_USER = "coe"
"""The user cloud-init creates on every node for the cluster's own key."""


@dataclass(frozen=True)
class SshPath:
    """How ``pulumi up`` reaches a node: directly, or through the bastion."""

    private_key: pulumi.Output[str]
    """The cluster's private key (OpenSSH format, a secret)."""

    bastion_host: pulumi.Output[str] | None
    """The bastion's floating IP, when there is one."""

    def connection(self, host: pulumi.Input[str]) -> command.remote.ConnectionArgs:
        """Connection to ``host`` (a fixed IP through the bastion, or a floating IP)."""
        proxy = None
        if self.bastion_host is not None:
            proxy = command.remote.ProxyConnectionArgs(
                host=self.bastion_host, user=SSH_USER, private_key=self.private_key)
        return command.remote.ConnectionArgs(
            host=host, user=SSH_USER, private_key=self.private_key, proxy=proxy,
            dial_error_limit=20)


def removal_script(step: RemovalStep, node: str, timeout: int) -> str:
    """The driver's script with the node and the drain budget fixed in (no env over SSH)."""
    return (f"#!/bin/bash\nset -u\nNODE={shlex.quote(node)}\nTIMEOUT={int(timeout)}\n"
            f"export NODE TIMEOUT\n{step.script}")


def create_removal_command(
    node: str,
    step: RemovalStep,
    timeout: int,
    host: pulumi.Input[str],
    path: SshPath,
    depends_on: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> command.remote.Command:
    """The node's removal command; its delete runs the driver's removal script."""
    script = removal_script(step, node, timeout)
    return command.remote.Command(
        f"{node}-drain",
        connection=path.connection(host),
        # The script goes through stdin of a plain shell: nothing to quote, nothing to upload.
        delete=f"sudo bash -s <<'COE_REMOVAL'\n{script}\nCOE_REMOVAL",
        # pulumi-command replaces a command whose connection changes, and a replacement runs
        # the delete: a new bastion address would drain and remove every node of a running
        # cluster. The command keeps the connection it was created with instead.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on),
                                    ignore_changes=["connection"]),
    )
