"""The mapping table: every Magnum field and label coe-provider knows, and what it becomes.

Each :class:`Rule` carries the text the README table shows (``becomes``) and the function the
import applies (``apply``); both come from the same factory, so they cannot disagree. Magnum's
defaults are the documented ones (``doc/source/user/index.rst`` of openstack/magnum, the
labels table and the per-label paragraphs; ``--network-driver`` and ``--master-lb-enabled``
from its ClusterTemplate section, where the API's own default is quoted when they differ).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from coe_provider.magnum.context import Context, as_bool, as_int, as_list
from coe_provider.magnum.report import Outcome, Status

Handler = Callable[[Any, Context], Outcome]
"""Turns one Magnum value into an outcome, writing into ``context.draft``."""

KUBERNETES = ("kubernetes",)
"""Rules for Kubernetes templates only."""

SWARM = ("swarm",)
"""Rules for Swarm templates only."""

BOTH = ("kubernetes", "swarm")
"""Rules for every COE."""


@dataclass(frozen=True)
class Rule:
    """One Magnum field or label: its documented default and what coe-provider makes of it."""

    name: str
    """The Magnum field or label name."""

    magnum_default: str
    """Magnum's documented default ("" when it has none)."""

    becomes: str
    """What it becomes, for the README table."""

    apply: Handler
    """What the import does with a value."""

    coes: tuple[str, ...] = BOTH
    """The COEs whose templates it belongs to."""


# ------------------------------------------------------------------------------- factories


def carried(target: str, written: Any, note: str = "") -> Outcome:
    """The value became ``target``."""
    return Outcome(Status.CARRIED, target, written, note)


def to_template(key: str, convert: Callable[[Any], Any] = str, skip_null: bool = True
                ) -> tuple[str, Handler]:
    """A template field, converted."""

    def apply(value: Any, context: Context) -> Outcome:
        if value is None and skip_null:
            return Outcome(Status.DEFAULT, note="unset")
        context.draft.template[key] = convert(value)
        return carried(f"template.{key}", context.draft.template[key])

    return f"`template.{key}`", apply


def to_label(key: str, convert: Callable[[Any], Any] = str) -> tuple[str, Handler]:
    """A label of the chosen driver, checked by its label model."""

    def apply(value: Any, context: Context) -> Outcome:
        written = convert(value)
        problem = label_problem(context, key, written)
        if problem:
            return Outcome(Status.UNSUPPORTED, f"labels.{key}", written, problem)
        context.draft.labels[key] = written
        return carried(f"labels.{key}", written)

    return f"label `{key}`", apply


def label_problem(context: Context, key: str, value: Any) -> str:
    """The driver's rule a label value breaks, or ""."""
    try:
        context.label_model.model_validate({key: value})
    except ValidationError as exc:
        return "; ".join(str(error["msg"]) for error in exc.errors())
    return ""


def off_unless(off: str, reason: str, magnum_default: str) -> tuple[str, Handler]:
    """A feature coe-provider does not have: fine while it is off."""

    def apply(value: Any, context: Context) -> Outcome:
        del context
        if as_bool(value) == as_bool(off):
            status = Status.DEFAULT if as_bool(value) == as_bool(magnum_default) else Status.SAME
            return Outcome(status, note="" if status is Status.DEFAULT else reason)
        return Outcome(Status.UNSUPPORTED, note=reason)

    return f"not supported unless {off}: {reason}", apply


def only_default(default: str, reason: str) -> tuple[str, Handler]:
    """A setting coe-provider does not have: fine while it is Magnum's default (or empty)."""

    def apply(value: Any, context: Context) -> Outcome:
        del context
        if str(value if value is not None else "").strip() in (default, ""):
            return Outcome(Status.DEFAULT)
        return Outcome(Status.UNSUPPORTED, note=reason)

    shown = default or '""'
    return f"not supported unless `{shown}`: {reason}", apply


def dropped(reason: str) -> tuple[str, Handler]:
    """No effect on the cluster built."""
    return f"dropped: {reason}", lambda value, context: Outcome(Status.DROPPED, note=reason)


def replaced(reason: str) -> tuple[str, Handler]:
    """coe-provider does it its own way."""
    return f"replaced: {reason}", lambda value, context: Outcome(Status.REPLACED, note=reason)


def option_of(feature: str) -> tuple[str, Handler]:
    """An option of a feature coe-provider does not deploy (the feature's own row says so)."""
    return dropped(f"an option of {feature}, which coe-provider does not deploy")


def unsupported(reason: str) -> tuple[str, Handler]:
    """Never carried."""
    return (f"not supported: {reason}",
            lambda value, context: Outcome(Status.UNSUPPORTED, note=reason))


def rule(name: str, magnum_default: str, made: tuple[str, Handler],
         coes: tuple[str, ...] = BOTH) -> Rule:
    """A table entry from a factory's ``(becomes, apply)``."""
    return Rule(name, magnum_default, made[0], made[1], coes)


# --------------------------------------------------------------------------- special cases

STATE = "Magnum's record of the object, not its configuration"
"""Why read-only fields are dropped."""


def _image(value: Any, context: Context) -> Outcome:
    if context.image and context.image != value:
        context.draft.template["image"] = context.image
        return carried("template.image", context.image,
                       f"--image replaces {value!r}: the distro changes with the driver")
    context.draft.template["image"] = str(value)
    return carried("template.image", str(value))


def _driver_field(value: Any, context: Context) -> Outcome:
    return carried("driver", context.driver, "chosen through the driver registry")


def _dns(value: Any, context: Context) -> Outcome:
    servers = as_list(value)
    if not servers:
        return Outcome(Status.DEFAULT, note="unset")
    context.draft.template["dnsNameservers"] = servers
    return carried("template.dnsNameservers", servers)


def _network_driver(value: Any, context: Context) -> Outcome:
    name = str(value or "").strip()
    if context.coe == "swarm":
        if name in ("", "docker"):
            return Outcome(Status.SAME, note="Docker's own overlay network")
        return Outcome(Status.REPLACED, note="swarm mode's own overlay network (see labels "
                                             "default_addr_pool)")
    if name not in ("flannel", "calico"):
        return Outcome(Status.UNSUPPORTED, note=f"k8s_ubuntu runs calico or flannel (got {name!r})")
    context.draft.labels["cni"] = name
    return carried("labels.cni", name)


def _volume_driver(value: Any, context: Context) -> Outcome:
    name = str(value or "").strip()
    if not name:
        return Outcome(Status.DEFAULT, note="no volume driver")
    if context.coe == "kubernetes" and name == "cinder":
        return Outcome(Status.SAME, note="Cinder CSI runs with cloud_provider_enabled "
                                         "(see that row)")
    return Outcome(Status.UNSUPPORTED, note=f"no {name} volume plugin in coe-provider")


def _apiserver_port(value: Any, context: Context) -> Outcome:
    if value in (None, ""):
        return Outcome(Status.DEFAULT, note="unset")
    wanted = {"kubernetes": 6443, "swarm": 2376}[context.coe]
    if as_int(value) == wanted:
        return Outcome(Status.SAME, note=f"the API listens on {wanted}")
    return Outcome(Status.UNSUPPORTED, note=f"the API port is fixed at {wanted}")


def _floating_ip(value: Any, context: Context) -> Outcome:
    context.draft.template["floatingIpEnabled"] = as_bool(value)
    return carried("template.floatingIpEnabled", as_bool(value))


def _master_lb(value: Any, context: Context) -> Outcome:
    enabled = as_bool(value)
    context.draft.template["masterLbEnabled"] = enabled
    if enabled and "master_lb_floating_ip_enabled" not in context.labels:
        # Magnum: "If not specified, the default value is the same as floating_ip_enabled".
        fip = as_bool(context.fields.get("floating_ip_enabled", True))
        context.draft.template["masterLbFloatingIpEnabled"] = fip
    return carried("template.masterLbEnabled", enabled)


def _master_lb_fip(value: Any, context: Context) -> Outcome:
    if not as_bool(context.fields.get("master_lb_enabled") or False):
        return Outcome(Status.DROPPED, note="only applies with master_lb_enabled")
    context.draft.template["masterLbFloatingIpEnabled"] = as_bool(value)
    return carried("template.masterLbFloatingIpEnabled", as_bool(value))


def _allowed_cidrs(value: Any, context: Context) -> Outcome:
    cidrs = as_list(value)
    if not cidrs:
        return Outcome(Status.DEFAULT, note='"" opens the API to 0.0.0.0/0')
    context.draft.template["apiAllowedCidrs"] = cidrs
    return carried("template.apiAllowedCidrs", cidrs,
                   "the node subnet reaches the API through its own rules")


def _pod_cidr(driver: str) -> tuple[str, Handler]:
    def apply(value: Any, context: Context) -> Outcome:
        network = str(context.fields.get("network_driver") or "flannel")
        if context.coe == "swarm":
            return Outcome(Status.REPLACED, note="swarm overlays come from default_addr_pool")
        if network != driver:
            return Outcome(Status.DROPPED, note=f"applies to {driver}; network_driver is "
                                                f"{network}")
        return to_label("pod_cidr")[1](value, context)

    return f"label `pod_cidr` when network_driver is {driver}", apply


def _service_cidr() -> tuple[str, Handler]:
    return to_label("service_cidr")


def _kube_tag(value: Any, context: Context) -> Outcome:
    # The driver's label model decides, and its refusal names the installable and supported
    # minors with the newest patch of each.
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", str(value).strip())
    if not match:
        return Outcome(Status.UNSUPPORTED, "labels.kube_tag", None,
                       f"not a Kubernetes release (got {value!r})")
    tag = "v{}.{}.{}".format(*match.groups())
    problem = label_problem(context, "kube_tag", tag)
    if not problem:
        context.draft.labels["kube_tag"] = tag
        return carried("labels.kube_tag", tag, "" if tag == value else f"from {value}")
    return Outcome(Status.UNSUPPORTED, "labels.kube_tag", None,
                   f"{problem} (Kubernetes upgrades one minor at a time: rebuild, or move "
                   "workloads)")


def _cloud_provider(value: Any, context: Context) -> Outcome:
    return to_label("cloud_provider_enabled", as_bool)[1](value, context)


def _cinder_csi(value: Any, context: Context) -> Outcome:
    wanted = as_bool(value)
    provider = context.draft.labels.get("cloud_provider_enabled",
                                        cloud_provider_default(context))
    if wanted == provider:
        return Outcome(Status.SAME, note="cloud_provider_enabled runs the cloud controller "
                                         "manager and Cinder CSI together")
    if wanted and not provider:
        return Outcome(Status.DROPPED, note="Magnum needs cloud_provider_enabled for Cinder "
                                            "CSI, which is off: it had no effect")
    return Outcome(Status.UNSUPPORTED, note="Cinder CSI cannot be left out while the cloud "
                                            "provider runs (cloud_provider_enabled runs both)")


def cloud_provider_default(context: Context) -> bool:
    """Magnum's default for ``cloud_provider_enabled``: ``[trust] cluster_user_trust``
    (documented default false), implied true by ``volume_driver: cinder``."""
    return str(context.fields.get("volume_driver") or "") == "cinder"


def _boot_volume_size(value: Any, context: Context) -> Outcome:
    return to_template("bootVolumeSize", as_int)[1](value, context)


def _etcd_volume_size(value: Any, context: Context) -> Outcome:
    if context.coe == "swarm":
        return Outcome(Status.DROPPED, note="Magnum's swarm drivers did not read it")
    return to_template("etcdVolumeSize", as_int)[1](value, context)


VOLUME_TYPES = {"docker_volume_type": "docker_volume_size",
                "boot_volume_type": "boot_volume_size", "etcd_volume_type": "etcd_volume_size"}
"""Each volume type label and the size that makes its volume exist."""


def _size_of(context: Context, size_key: str) -> int:
    if size_key == "docker_volume_size":
        return as_int(context.fields.get(size_key))
    return as_int(context.label(size_key, "0"))


def _volume_type(name: str) -> tuple[str, Handler]:
    def apply(value: Any, context: Context) -> Outcome:
        if not str(value).strip():
            return Outcome(Status.DEFAULT, note="the cloud's default volume type")
        if not _size_of(context, VOLUME_TYPES[name]):
            return Outcome(Status.DROPPED, note=f"no such volume ({VOLUME_TYPES[name]} is 0)")
        chosen = context.draft.template.setdefault("volumeType", str(value))
        if chosen != value:
            return Outcome(Status.UNSUPPORTED, "template.volumeType", chosen,
                           f"one volumeType serves every volume ({chosen!r} already)")
        return carried("template.volumeType", chosen)

    return "`template.volumeType` (one type for every volume)", apply


def _availability_zone(value: Any, context: Context) -> Outcome:
    zone = str(value).strip()
    if not zone:
        return Outcome(Status.DEFAULT)
    context.draft.template["masterAvailabilityZone"] = zone
    context.draft.worker_defaults["availabilityZone"] = zone
    return carried("template.masterAvailabilityZone, nodeGroups[].availabilityZone", zone)


def _node_count_bound(key: str) -> tuple[str, Handler]:
    def apply(value: Any, context: Context) -> Outcome:
        context.draft.worker_defaults[key] = as_int(value)
        return carried(f"nodeGroups[default-worker].{key}", as_int(value),
                       "unless the node group's own document says otherwise")

    return f"`nodeGroups[].{key}` of the default worker group", apply


def _subnet_cidr(value: Any, context: Context) -> Outcome:
    if context.fields.get("fixed_network"):
        return Outcome(Status.DROPPED, note="fixed_network is set: the subnet exists")
    if not str(value).strip():
        return Outcome(Status.DEFAULT)
    ipaddress.ip_network(str(value))  # a ValueError is reported on the row
    context.draft.template["subnetCidr"] = str(value)
    return carried("template.subnetCidr", str(value))


def _calico_ipip(value: Any, context: Context) -> Outcome:
    mode = str(value).strip()
    if str(context.fields.get("network_driver")) != "calico":
        return Outcome(Status.DROPPED, note="applies to calico only")
    if mode == "Always":
        return Outcome(Status.SAME, note="the calico manifest's IPIP mode is Always")
    if mode in ("Off", ""):
        return Outcome(Status.REPLACED, note="IP-in-IP Always (the calico manifest's mode)")
    return Outcome(Status.UNSUPPORTED, note="the calico manifest's IPIP mode is Always")


def _swarm_strategy(value: Any, context: Context) -> Outcome:
    if str(value).strip() in ("", "spread"):
        return Outcome(Status.DEFAULT, note="swarm mode spreads tasks")
    return Outcome(Status.UNSUPPORTED, note="swarm mode has no scheduling strategy but spread")


def _cgroup_driver(value: Any, context: Context) -> Outcome:
    if str(value).strip() == "systemd":
        return Outcome(Status.SAME, note="kubelet and containerd use the systemd driver")
    return Outcome(Status.REPLACED, note="the systemd driver (kubeadm's default)")


def _container_runtime(value: Any, context: Context) -> Outcome:
    if str(value).strip() == "containerd":
        return Outcome(Status.SAME, note="containerd from its release tarball")
    return Outcome(Status.REPLACED, note="containerd (Kubernetes removed its Docker shim)")


def _cloud_provider_tag(value: Any, context: Context) -> Outcome:
    minor = re.match(r"^v(\d+\.\d+)\.\d+$", str(value).strip())
    kube = str(context.draft.labels.get("kube_tag", ""))
    if minor and kube.startswith(f"v{minor.group(1)}."):
        return to_label("cloud_provider_tag")[1](value, context)
    return Outcome(Status.REPLACED, note="the driver's cloud-provider-openstack release")


# ------------------------------------------------------------------------------- the table

TEMPLATE_FIELDS: tuple[Rule, ...] = (
    rule("coe", "", ("`driver` (through the registry)", _driver_field)),
    rule("server_type", "vm", ("`driver` (through the registry)", _driver_field)),
    rule("cluster_distro", "", ("`driver` (through the registry)", _driver_field)),
    rule("driver", "", ("`driver` (through the registry)", _driver_field)),
    rule("image_id", "", ("`template.image` (or `--image`)", _image)),
    rule("flavor_id", "m1.small", to_template("flavor")),
    rule("master_flavor_id", "m1.small", to_template("masterFlavor")),
    rule("keypair_id", "", to_template("keypair")),
    rule("external_network_id", "", to_template("externalNetwork")),
    rule("fixed_network", "", to_template("fixedNetwork")),
    rule("fixed_subnet", "", to_template("fixedSubnet")),
    rule("dns_nameserver", "8.8.8.8", ("`template.dnsNameservers`", _dns)),
    rule("network_driver", "flannel", ("label `cni` (Kubernetes)", _network_driver)),
    rule("volume_driver", "", ("Cinder CSI with `cloud_provider_enabled`", _volume_driver)),
    rule("docker_volume_size", "", to_template("dockerVolumeSize", as_int)),
    rule("docker_storage_driver", "devicemapper", replaced(
        "the container runtime's overlayfs storage")),
    rule("http_proxy", "", to_template("httpProxy")),
    rule("https_proxy", "", to_template("httpsProxy")),
    rule("no_proxy", "", to_template("noProxy")),
    rule("master_lb_enabled", "true (API: false)", ("`template.masterLbEnabled`", _master_lb)),
    rule("floating_ip_enabled", "true", ("`template.floatingIpEnabled`", _floating_ip)),
    rule("apiserver_port", "", ("the API port (fixed: 6443, 2376)", _apiserver_port)),
    rule("tls_disabled", "false", off_unless(
        "false", "the APIs always use TLS", "false")),
    rule("registry_enabled", "false", off_unless(
        "false", "no in-cluster registry is deployed", "false")),
    rule("insecure_registry", "", to_label("insecure_registry")),
    rule("labels", "{}", ("one row per label", lambda value, context: Outcome(
        Status.DROPPED, note="one row per label follows"))),
    *(rule(name, "", dropped(STATE)) for name in (
        "uuid", "name", "public", "hidden", "tags", "project_id", "user_id", "links",
        "created_at", "updated_at")),
)
"""Cluster template fields (``GET /v1/clustertemplates/{id}``)."""

INHERITED = {"flavor_id": "flavor_id", "master_flavor_id": "master_flavor_id",
             "docker_volume_size": "docker_volume_size", "fixed_network": "fixed_network",
             "fixed_subnet": "fixed_subnet", "floating_ip_enabled": "floating_ip_enabled",
             "master_lb_enabled": "master_lb_enabled", "keypair": "keypair_id"}
"""Cluster fields that override the template field of the same meaning (cluster -> template)."""

CLUSTER_FIELDS: tuple[Rule, ...] = (
    rule("master_count", "1", ("`masterCount`", lambda value, context: Outcome(
        Status.CARRIED, "masterCount", as_int(value)))),
    rule("node_count", "1", ("`count` of the default worker group (or the node groups')",
                             lambda value, context: Outcome(Status.CARRIED,
                                                            "nodeGroups[].count",
                                                            as_int(value)))),
    rule("create_timeout", "60", replaced("pulumi up's own resource timeouts")),
    rule("merge_labels", "false", dropped(
        "applied when the labels were merged (the API always shows false)")),
    *(rule(name, "", dropped("a diff against the template's labels, already in labels"))
      for name in ("labels_overridden", "labels_added", "labels_skipped")),
    *(rule(name, "", dropped(STATE)) for name in (
        "uuid", "name", "cluster_template_id", "status", "status_reason", "health_status",
        "health_status_reason", "node_addresses", "master_addresses", "api_address",
        "stack_id", "cluster_id", "coe_version", "container_version", "discovery_url",
        "faults", "project_id", "user_id", "links", "created_at", "updated_at", "labels")),
)
"""Cluster-only fields (``GET /v1/clusters/{id}``); the fields in :data:`INHERITED` follow
the template's rule."""

_NOT_DEPLOYED = "coe-provider does not deploy it; install it on the cluster yourself"

LABELS: tuple[Rule, ...] = (
    # Networking
    rule("flannel_network_cidr", "10.100.0.0/16", _pod_cidr("flannel")),
    rule("calico_ipv4pool", "10.100.0.0/16", _pod_cidr("calico"), KUBERNETES),
    rule("service_cluster_ip_range", "10.254.0.0/16", _service_cidr(), KUBERNETES),
    rule("flannel_backend", "vxlan", only_default("vxlan", "flannel runs VXLAN")),
    rule("flannel_network_subnetlen", "24", only_default(
        "24", "each node gets a /24 of the pod network")),
    rule("calico_ipv4pool_ipip", "Off", ("IP-in-IP Always", _calico_ipip), KUBERNETES),
    rule("fixed_subnet_cidr", "\"\" (10.0.0.0/24)", ("`template.subnetCidr`", _subnet_cidr)),
    rule("master_lb_allowed_cidrs", "\"\" (0.0.0.0/0)", (
        "`template.apiAllowedCidrs`", _allowed_cidrs)),
    rule("master_lb_floating_ip_enabled", "floating_ip_enabled", (
        "`template.masterLbFloatingIpEnabled`", _master_lb_fip)),
    rule("octavia_provider", "amphora", only_default(
        "amphora", "the cloud provider uses Octavia's default provider")),
    rule("octavia_lb_algorithm", "ROUND_ROBIN", only_default(
        "ROUND_ROBIN", "the cloud provider balances round robin")),
    rule("octavia_lb_healthcheck", "true", off_unless(
        "false", "the cloud provider creates no Octavia health monitors", "true")),
    # Volumes and placement
    rule("boot_volume_size", "0", ("`template.bootVolumeSize`", _boot_volume_size)),
    rule("etcd_volume_size", "0", ("`template.etcdVolumeSize` (Kubernetes)", _etcd_volume_size)),
    *(rule(name, "\"\" (a type the cloud lists)", _volume_type(name)) for name in VOLUME_TYPES),
    rule("availability_zone", "\"\"", (
        "`template.masterAvailabilityZone` and every node group's `availabilityZone`",
        _availability_zone)),
    rule("min_node_count", "1", _node_count_bound("minCount")),
    rule("max_node_count", "", _node_count_bound("maxCount")),
    # Kubernetes itself
    rule("kube_tag", "v1.23.3-rancher1 (Yoga)", (
        "label `kube_tag` when the driver can install its minor (else refused, naming the "
        "range and each minor's newest patch)", _kube_tag), KUBERNETES),
    rule("cloud_provider_enabled", "cluster_user_trust (false); true with volume_driver cinder",
         ("label `cloud_provider_enabled`", _cloud_provider), KUBERNETES),
    rule("cinder_csi_enabled", "true (Victoria)", (
        "with `cloud_provider_enabled` (one label runs both; false alone is not supported)",
        _cinder_csi), KUBERNETES),
    rule("cloud_provider_tag", "v1.23.1", (
        "label `cloud_provider_tag` when it matches kube_tag's minor, else the driver's",
        _cloud_provider_tag), KUBERNETES),
    rule("container_runtime", "\"\" (host docker)", ("containerd", _container_runtime),
         KUBERNETES),
    rule("cgroup_driver", "cgroupfs", ("the systemd cgroup driver", _cgroup_driver), KUBERNETES),
    rule("containerd_version", "1.4.4 (Victoria)", to_label("containerd_version"), KUBERNETES),
    *(rule(name, "see Magnum's docs", replaced(
        "labels containerd_tarball_url / containerd_tarball_sha256 take containerd's own "
        "release tarball (bin/ inside); Magnum's URL is not carried over"), KUBERNETES)
      for name in ("containerd_tarball_url", "containerd_tarball_sha256")),
    rule("admission_control_list", "the recommended list", only_default(
        "", "kube-apiserver runs kubeadm's default admission plugins"), KUBERNETES),
    *(rule(name, "\"\"", only_default("", "component flags are kubeadm's defaults"), KUBERNETES)
      for name in ("kubelet_options", "kubeapi_options", "kubescheduler_options",
                   "kubecontroller_options", "kubeproxy_options")),
    rule("container_infra_prefix", "\"\"", to_label("container_infra_prefix"), KUBERNETES),
    rule("container_infra_prefix", "\"\"", only_default(
        "", "the Swarm driver runs no image of its own: name workload images by the mirror"),
        SWARM),
    rule("hyperkube_prefix", "docker.io/rancher/", only_default(
        "docker.io/rancher/", "Kubernetes comes from pkgs.k8s.io packages, not hyperkube"),
        KUBERNETES),
    rule("use_podman", "true (Fedora CoreOS)", replaced(
        "kubelet runs from packages, the control plane as static pods"), KUBERNETES),
    rule("selinux_mode", "enforcing (Fedora CoreOS)", replaced(
        "Ubuntu confines containers with AppArmor, not SELinux"), KUBERNETES),
    *(rule(name, "see Magnum's docs", replaced(
        "the driver installs the release that matches kube_tag"), KUBERNETES)
      for name in ("etcd_tag", "coredns_tag", "flannel_tag", "flannel_cni_tag", "calico_tag",
                   "cinder_csi_plugin_tag", "csi_attacher_tag", "csi_provisioner_tag",
                   "csi_snapshotter_tag", "csi_resizer_tag", "csi_node_driver_registrar_tag",
                   "csi_liveness_probe_tag", "heat_container_agent_tag")),
    # Add-ons coe-provider does not deploy
    *(rule(name, default, off_unless("false", _NOT_DEPLOYED, default), KUBERNETES)
      for name, default in (
          ("kube_dashboard_enabled", "true"), ("keystone_auth_enabled", "true"),
          ("metrics_server_enabled", "true"), ("npd_enabled", "true"),
          ("monitoring_enabled", "false"), ("prometheus_monitoring", "false"),
          ("heapster_enabled", "false"), ("influx_grafana_dashboard_enabled", "false"),
          ("prometheus_adapter_enabled", "true"), ("cert_manager_api", "false"),
          ("tiller_enabled", "false"))),
    rule("auto_scaling_enabled", "false", off_unless(
        "false", "no cluster-autoscaler: minCount/maxCount only bound the count you set",
        "false")),
    rule("auto_healing_enabled", "false", off_unless(
        "false", "no auto-healer: replace a node with its group's replace list", "false")),
    rule("ingress_controller", "\"\"", only_default(
        "", "no ingress controller is deployed; install one on the cluster"), KUBERNETES),
    *(rule(name, "see Magnum's docs", option_of(feature), KUBERNETES) for name, feature in (
        ("kube_dashboard_version", "the dashboard"), ("metrics_scraper_tag", "the dashboard"),
        ("k8s_keystone_auth_tag", "k8s-keystone-auth"),
        ("metrics_server_chart_tag", "metrics-server"),
        ("node_problem_detector_tag", "node-problem-detector"),
        ("monitoring_retention_days", "monitoring"), ("monitoring_retention_size", "monitoring"),
        ("monitoring_storage_class_name", "monitoring"),
        ("monitoring_interval_seconds", "monitoring"),
        ("monitoring_ingress_enabled", "monitoring"),
        ("cluster_basic_auth_secret", "monitoring"), ("cluster_root_domain_name", "monitoring"),
        ("prometheus_operator_chart_tag", "monitoring"), ("grafana_admin_passwd", "monitoring"),
        ("prometheus_adapter_chart_tag", "prometheus-adapter"),
        ("prometheus_adapter_configmap", "prometheus-adapter"),
        ("ingress_controller_role", "an ingress controller"),
        ("traefik_ingress_controller_tag", "an ingress controller"),
        ("octavia_ingress_controller_tag", "an ingress controller"),
        ("nginx_ingress_controller_tag", "an ingress controller"),
        ("nginx_ingress_controller_chart_tag", "an ingress controller"),
        ("auto_healing_controller", "auto-healing"), ("magnum_auto_healer_tag", "auto-healing"),
        ("draino_tag", "auto-healing"), ("autoscaler_tag", "the cluster-autoscaler"),
        ("tiller_tag", "tiller"), ("tiller_namespace", "tiller"),
        ("helm_client_url", "the helm client"), ("helm_client_sha256", "the helm client"),
        ("helm_client_tag", "the helm client"))),
    # Swarm
    rule("swarm_strategy", "spread", ("spread (swarm mode's only strategy)", _swarm_strategy),
         SWARM),
    rule("rexray_preempt", "false", off_unless("false", "no rexray volume plugin", "false"),
         SWARM),
)
"""Magnum's documented labels."""


def find_rule(table: tuple[Rule, ...], name: str, coe: str) -> Rule | None:
    """The rule for ``name`` in a COE's templates, if the table has one."""
    return next((item for item in table if item.name == name and coe in item.coes), None)


__all__ = ["CLUSTER_FIELDS", "INHERITED", "LABELS", "TEMPLATE_FIELDS", "Rule", "find_rule"]
