"""Assemble a node's cloud-config from the driver's payload and the cluster's common settings.

Every node gets the same frame: its identity and the cluster endpoint in ``/etc/coe/node.env``,
the shared shell library, the driver's files and environment, and one ``runcmd`` that runs the
driver's script. Values are shell-quoted into env files, so nothing is templated into shell.
"""

from __future__ import annotations

import base64
import functools
import gzip
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import pulumi
import yaml

from coe_provider.cluster.contract import BootstrapPayload, NodeContext
from coe_provider.cluster.pacing import RegistrationWindow
from coe_provider.spec.yamldump import SafeDumper

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


@functools.cache
def common_library() -> str:
    """The shared shell library (``coe_provider/bootstrap/scripts/common.sh``)."""
    return files("coe_provider.bootstrap").joinpath("scripts/common.sh").read_text()


def env_file(values: dict[str, Any]) -> str:
    """Render ``KEY='value'`` lines that bash can source safely."""
    return "".join(f"{key}={shlex.quote(str(value))}\n" for key, value in values.items())


class _LiteralDumper(SafeDumper):  # type: ignore[valid-type,misc]
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


@functools.lru_cache(maxsize=64)
def packed_file_entry(path: str, permissions: str, content: str) -> str:
    """One ``write_files`` item whose content is gzipped (cloud-init's ``gz+b64`` encoding):
    the shell library and the driver's script are most of a node's user_data, and a master's
    (with the cluster PKI) must stay under Nova's limit. ``mtime=0`` keeps the bytes, and so
    the user_data, the same from one run to the next."""
    packed = base64.b64encode(gzip.compress(content.encode(), compresslevel=9, mtime=0))
    return _dump([{"path": path, "permissions": permissions, "encoding": "gz+b64",
                   "content": packed.decode()}])


def source_entries(apt: dict[str, Any] | None, trusted_ca_bundle: str | None) -> str:
    """The cloud-config entries that point every node of a cluster at the operator's mirrors
    and trust store: cloud-init's ``apt`` module (run before the bootstrap installs anything)
    and its ``ca_certs`` module (the certificates land in the system store, which APT,
    containerd, Docker and curl read). Empty when neither is set, so a cluster without them
    renders exactly as before."""
    document: dict[str, Any] = {}
    if apt:
        document["apt"] = apt
    if trusted_ca_bundle:
        document["ca_certs"] = {"trusted": [trusted_ca_bundle]}
    return _dump(document) if document else ""


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
    scale manager's removal commands log in as. A cluster renders all its nodes through one
    :class:`CloudConfigRenderer`, which resolves these cluster-wide values once.
    """
    return CloudConfigRenderer(api_host, api_port, proxy, admin_key).render(node, payload)


@dataclass(frozen=True)
class _ClusterValues:
    """What every node's cloud-config shares, once resolved. Not a list or a mapping, so
    ``Output.all`` passes it along as one value instead of lifting each item again."""

    api_host: str
    admin_key: str
    network_mtu: str


class CloudConfigRenderer:
    """Renders the cloud-config of every node of one cluster.

    A large cluster has thousands of nodes whose cloud-configs differ in a handful of values,
    and every input lifted into a Pulumi output costs the runtime tasks and futures. So the
    cluster-wide values (the API host, the admin key) resolve once, as one secret output;
    each node joins it with only its own dynamic values (its address, volume IDs, rendered
    configuration) in one ``Output.all``, and its plain strings are merged when that resolves.
    The YAML of the parts that are the same on every node is emitted once.
    """

    def __init__(self, api_host: pulumi.Input[str], api_port: int, proxy: ProxySettings,
                 admin_key: pulumi.Input[str],
                 network_mtu: pulumi.Input[int | None] = None, sources: str = "",
                 window: RegistrationWindow | None = None) -> None:
        self.api_port = api_port
        """The API's port on the masters and the load balancer."""
        self.proxy = proxy
        """Proxy settings handed to every node."""
        self.sources = sources
        """The mirror and trust entries of every node (:func:`source_entries`)."""
        self.window = window
        """When set, a node's cloud-config renders only once the window lets the node in (its
        server must then be given to :meth:`RegistrationWindow.leave_after`)."""
        # Secret because every cloud-config carries cluster credentials: each node's render
        # joins this output, so each is a secret whatever its own inputs are.
        self._cluster: pulumi.Output[_ClusterValues] = pulumi.Output.secret(
            pulumi.Output.all(api_host, admin_key, network_mtu).apply(
                lambda v: _ClusterValues(v[0], v[1], str(v[2] or ""))))

    def render(self, node: NodeContext, payload: BootstrapPayload) -> pulumi.Output[str]:
        """The node's complete cloud-config, a secret."""
        proxy = self.proxy
        inputs = _DynamicInputs()
        cluster = inputs.take(self._cluster)
        node_environment: dict[str, Any] = {
            "COE_CLUSTER": node.cluster,
            "COE_ROLE": node.role,
            "COE_GROUP": node.group,
            "COE_INDEX": str(node.index),
            "COE_NODE_NAME": node.name,
            "COE_NODE_ADDRESS": inputs.take(node.address),
            "COE_FIRST_MASTER": "true" if node.first_master else "false",
            "COE_API_HOST": None,  # the cluster's, filled in below
            "COE_API_PORT": str(self.api_port),
            "COE_ETCD_VOLUME_ID": inputs.take(node.etcd_volume_id)
            if node.etcd_volume_id is not None else "",
            "COE_DATA_VOLUME_GIB": str(node.data_volume_gib),
            "COE_NETWORK_MTU": None,  # the cluster's, filled in below
            "HTTP_PROXY": proxy.http_proxy or "",
            "HTTPS_PROXY": proxy.https_proxy or "",
            "NO_PROXY": proxy.no_proxy or "",
        }
        driver_env = inputs.take_dict(payload.environment)
        contents = inputs.take_list([item.content for item in payload.files])
        host_keys = inputs.take_dict(payload.ssh_host_keys)

        def build(resolved: list[Any]) -> str:
            fill = inputs.filler(resolved)
            shared: _ClusterValues = fill(cluster)
            node_env = fill(node_environment)
            node_env["COE_API_HOST"] = shared.api_host
            node_env["COE_NETWORK_MTU"] = shared.network_mtu
            write_files = [
                ("/etc/coe/node.env", "0600", env_file(node_env)),
                ("/etc/coe/driver.env", "0600", env_file(fill(driver_env))),
            ]
            write_files += [
                (item.path, item.permissions, content)
                for item, content in zip(payload.files, fill(contents), strict=True)
            ]
            head = [_dump({"hostname": node.name, "preserve_hostname": False}),
                    _users_entry(shared.admin_key)]
            if host_keys:
                # Preset host keys replace the generated ones, so peers can pin them.
                head.append(_dump({"ssh_keys": fill(host_keys)}))
            text = "".join([
                "#cloud-config\n", *head, self.sources, "write_files:\n",
                packed_file_entry(COMMON_LIBRARY_PATH, "0644", common_library()),
                *(write_file_entry(*entry) for entry in write_files),
                packed_file_entry(BOOTSTRAP_PATH, "0755", payload.script),
                _RUN_ENTRIES,
                _dump({"final_message": f"coe bootstrap of {node.name} finished after $UPTIME s"}),
            ])
            return check_user_data_size(node.name, text)

        window = self.window
        if window is None:
            return inputs.resolve().apply(build)
        return inputs.resolve().apply(
            lambda resolved: window.admit(node.name, lambda: build(resolved)))


# A cloud-config is one block mapping, so its YAML is the concatenation of its entries' YAML,
# in order: the entries that are the same on every node are emitted once.

@functools.lru_cache(maxsize=64)
def _users_entry(public_key: str) -> str:
    return _dump({"users": admin_users(public_key)})


# Packages are the bootstrap's to install (coe_apt_install, which waits for apt's locks), never
# cloud-init's package_update/packages: that module waits 30 s for the lock, and with
# unattended-upgrades holding it at first boot the module fails and cloud-init reports an error.
_RUN_ENTRIES = _dump({"runcmd": [[BOOTSTRAP_PATH]]})


class _Slot:
    """Stands for the ``index``-th dynamic input until the inputs resolve."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _DynamicInputs:
    """Collects the inputs of a render that are not plain strings, so one ``Output.all``
    resolves them all (keeping their dependencies and secretness) and the plain strings
    never become outputs."""

    def __init__(self) -> None:
        self._inputs: list[pulumi.Input[Any]] = []

    def take(self, value: pulumi.Input[Any]) -> Any:
        """``value`` itself when it is a plain string, else a slot for its resolved value."""
        if isinstance(value, str):
            return value
        self._inputs.append(value)
        return _Slot(len(self._inputs) - 1)

    def take_dict(self, values: dict[str, pulumi.Input[Any]]) -> dict[str, Any]:
        """:meth:`take` for each value of a mapping."""
        return {name: self.take(value) for name, value in values.items()}

    def take_list(self, values: list[pulumi.Input[Any]]) -> list[Any]:
        """:meth:`take` for each item of a list."""
        return [self.take(value) for value in values]

    def resolve(self) -> pulumi.Output[list[Any]]:
        """All dynamic inputs as one output (an empty list when there are none)."""
        return pulumi.Output.all(*self._inputs)

    @staticmethod
    def filler(resolved: list[Any]) -> Callable[[Any], Any]:
        """A function that replaces the slots in a taken value, mapping or list by what they
        resolved to."""

        def fill(taken: Any) -> Any:
            if isinstance(taken, _Slot):
                return resolved[taken.index]
            if isinstance(taken, dict):
                return {name: fill(value) for name, value in taken.items()}
            if isinstance(taken, list):
                return [fill(value) for value in taken]
            return taken

        return fill
