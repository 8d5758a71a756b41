"""Assemble a node's cloud-config from the driver's payload and the cluster's common settings.

Every node gets the same frame: its identity and the cluster endpoint in ``/etc/coe/node.env``,
the shared shell library, the driver's files and environment, and one ``runcmd`` that runs the
driver's script. Values are shell-quoted into env files, so nothing is templated into shell.
"""

from __future__ import annotations

import base64
import functools
import shlex
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import pulumi
import yaml

from coe_provider.contract import BootstrapPayload, NodeContext

NOVA_USER_DATA_LIMIT = 65535
"""Nova rejects user_data longer than this many bytes after base64 encoding."""

COMMON_LIBRARY_PATH = "/usr/local/lib/coe/common.sh"
"""Where the shared shell library lands on every node."""

BOOTSTRAP_PATH = "/usr/local/bin/coe-bootstrap"
"""Where the driver's script lands; cloud-init's runcmd runs it once per instance."""


class UserDataTooLarge(ValueError):
    """The rendered cloud-config exceeds Nova's user_data limit."""


@dataclass(frozen=True)
class ProxySettings:
    """Proxy settings handed to every node's bootstrap."""

    http_proxy: str | None = None
    """HTTP proxy URL."""

    https_proxy: str | None = None
    """HTTPS proxy URL."""

    no_proxy: str | None = None
    """Hosts and CIDRs that bypass the proxy."""


def common_library() -> str:
    """The shared shell library (``coe_provider/bootstrap/scripts/common.sh``)."""
    return files("coe_provider.bootstrap").joinpath("scripts/common.sh").read_text()


def env_file(values: dict[str, Any]) -> str:
    """Render ``KEY='value'`` lines that bash can source safely."""
    return "".join(f"{key}={shlex.quote(str(value))}\n" for key, value in values.items())


# libyaml's emitter when PyYAML was built with it: the same output, several times faster.
_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _LiteralDumper(_BaseDumper):  # type: ignore[valid-type,misc]
    """Dump multi-line strings as literal blocks so payloads stay readable in the console."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _represent_str)


def _dump(document: Any) -> str:
    return yaml.dump(document, Dumper=_LiteralDumper, sort_keys=False, width=1000)


@functools.lru_cache(maxsize=512)
def write_file_entry(path: str, permissions: str, content: str) -> str:
    """One ``write_files`` item as YAML. Scripts and libraries are the same on every node of
    a cluster, so each is emitted once, not once per node (PyYAML's emitter is the slowest
    part of planning a large cluster)."""
    return _dump([{"path": path, "permissions": permissions, "content": content}])


def admin_users(public_key: str) -> list[Any]:
    """The image's default user plus ``coe``, which logs in with the cluster's key only."""
    return ["default", {
        "name": "coe",
        "gecos": "coe-provider scale manager",
        "shell": "/bin/bash",
        "sudo": "ALL=(ALL) NOPASSWD:ALL",
        "lock_passwd": True,
        "ssh_authorized_keys": [public_key.strip()],
    }]


def render_bastion_cloud_config(admin_key: pulumi.Input[str]) -> pulumi.Output[str]:
    """The bastion only needs the ``coe`` user; it runs nothing of the cluster's."""
    return pulumi.Output.from_input(admin_key).apply(lambda key: "#cloud-config\n" + yaml.dump(
        {"users": admin_users(key)}, Dumper=_LiteralDumper, sort_keys=False, width=1000))


def check_user_data_size(name: str, user_data: str) -> str:
    """Fail at plan time, not at the cloud, when Nova would refuse the payload."""
    encoded = len(base64.b64encode(user_data.encode()))
    if encoded > NOVA_USER_DATA_LIMIT:
        raise UserDataTooLarge(
            f"{name}: user_data is {encoded} bytes after base64, over Nova's limit of "
            f"{NOVA_USER_DATA_LIMIT}; trim labels or files handed to the bootstrap"
        )
    return user_data


def render_cloud_config(
    node: NodeContext,
    payload: BootstrapPayload,
    api_host: pulumi.Input[str],
    api_port: int,
    proxy: ProxySettings,
    admin_key: pulumi.Input[str],
) -> pulumi.Output[str]:
    """The node's complete cloud-config, a secret because it carries cluster credentials.

    ``admin_key`` is the cluster's SSH public key, authorised for the ``coe`` user that the
    scale manager's removal commands log in as.
    """
    node_environment: dict[str, pulumi.Input[str]] = {
        "COE_CLUSTER": node.cluster,
        "COE_ROLE": node.role,
        "COE_GROUP": node.group,
        "COE_INDEX": str(node.index),
        "COE_NODE_NAME": node.name,
        "COE_NODE_ADDRESS": node.address,
        "COE_FIRST_MASTER": "true" if node.first_master else "false",
        "COE_API_HOST": api_host,
        "COE_API_PORT": str(api_port),
        "COE_ETCD_VOLUME_ID": node.etcd_volume_id if node.etcd_volume_id is not None else "",
        "COE_DATA_VOLUME_GIB": str(node.data_volume_gib),
        "HTTP_PROXY": proxy.http_proxy or "",
        "HTTPS_PROXY": proxy.https_proxy or "",
        "NO_PROXY": proxy.no_proxy or "",
    }
    file_contents = [item.content for item in payload.files]

    def build(resolved: list[Any]) -> str:
        node_env, driver_env, contents, key, host_keys = resolved
        write_files = [
            {"path": COMMON_LIBRARY_PATH, "permissions": "0644", "content": common_library()},
            {"path": "/etc/coe/node.env", "permissions": "0600", "content": env_file(node_env)},
            {"path": "/etc/coe/driver.env", "permissions": "0600",
             "content": env_file(driver_env)},
        ]
        write_files += [
            {"path": item.path, "permissions": item.permissions, "content": content}
            for item, content in zip(payload.files, contents, strict=True)
        ]
        write_files.append({"path": BOOTSTRAP_PATH, "permissions": "0755",
                            "content": payload.script})
        head: dict[str, Any] = {
            "hostname": node.name,
            "preserve_hostname": False,
            "users": admin_users(key),
        }
        if host_keys:
            # Preset host keys replace the generated ones, so peers can pin them.
            head["ssh_keys"] = dict(host_keys)
        tail: dict[str, Any] = {}
        if payload.packages:
            tail["package_update"] = True
            tail["packages"] = list(payload.packages)
        tail["runcmd"] = [[BOOTSTRAP_PATH]]
        tail["final_message"] = f"coe bootstrap of {node.name} finished after $UPTIME s"
        text = "".join([
            "#cloud-config\n", _dump(head), "write_files:\n",
            *(write_file_entry(f["path"], f["permissions"], f["content"]) for f in write_files),
            _dump(tail),
        ])
        return check_user_data_size(node.name, text)

    rendered = pulumi.Output.all(
        pulumi.Output.all(**node_environment),
        pulumi.Output.all(**payload.environment),
        pulumi.Output.all(*file_contents),
        admin_key,
        pulumi.Output.all(**payload.ssh_host_keys),
    ).apply(build)
    return pulumi.Output.secret(rendered)
