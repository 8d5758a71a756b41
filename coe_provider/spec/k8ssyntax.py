"""Kubernetes' syntax for label keys, label values and taints, and the node labels a kubelet
may give itself.

The rules follow k8s.io/apimachinery's ``IsQualifiedName`` and ``IsValidLabelValue``, and
kubelet's ``--node-labels`` check (``ValidateKubeletFlags`` with ``IsKubeletLabel``, in
kubernetes/kubernetes cmd/kubelet/app/options and pkg/kubelet/apis/well_known_labels.go): a
label in the ``kubernetes.io`` or ``k8s.io`` namespaces that is not on kubelet's list stops the
kubelet at start-up, and the NodeRestriction admission plugin refuses it too, so the node
never joins.
"""

from __future__ import annotations

import re

NAME_MAX = 63
"""Longest label name (the part after ``/``) and label value."""

PREFIX_MAX = 253
"""Longest label prefix: a DNS subdomain."""

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
"""The effects a taint may have."""

KUBERNETES_NAMESPACES = ("kubernetes.io", "k8s.io")
"""Label namespaces reserved for Kubernetes itself (with their subdomains)."""

KUBELET_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
"""Reserved namespaces (with their subdomains) a kubelet may still label its node in."""

KUBELET_LABELS = frozenset({
    "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type", "beta.kubernetes.io/os",
    "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
    "kubernetes.io/arch", "kubernetes.io/hostname", "kubernetes.io/os",
    "node.kubernetes.io/instance-type", "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
})
"""Reserved label keys a kubelet may set on its own node (kubelet's allowed set)."""

_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NAME_CHARS = ("at most 63 characters: letters, digits, '-', '_' and '.', starting and ending "
               "with a letter or digit")


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a Kubernetes label key (``[prefix/]name``), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return f"label key {key!r} has an empty prefix before '/'"
    if prefix and (len(prefix) > PREFIX_MAX or not _SUBDOMAIN.match(prefix)):
        return (f"label key prefix {prefix!r} must be a DNS subdomain of at most {PREFIX_MAX} "
                "characters: lowercase letters, digits, '-' and '.'")
    if len(name) > NAME_MAX or not _NAME.match(name):
        return f"label key {key!r}: the name after any prefix/ must be {_NAME_CHARS}"
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a Kubernetes label value (empty, or a name), or None."""
    if value == "" or (len(value) <= NAME_MAX and _NAME.match(value)):
        return None
    return f"label value {value!r} must be empty or {_NAME_CHARS}"


def _in_namespace(prefix: str, namespaces: tuple[str, ...]) -> bool:
    return any(prefix == space or prefix.endswith("." + space) for space in namespaces)


def kubelet_label_problem(key: str) -> str | None:
    """Why a kubelet may not put ``key`` on its own node, or None."""
    prefix = key.rpartition("/")[0]
    if not _in_namespace(prefix, KUBERNETES_NAMESPACES) or key in KUBELET_LABELS:
        return None
    if _in_namespace(prefix, KUBELET_NAMESPACES):
        return None
    return (f"label {key!r} is in a namespace reserved for Kubernetes: kubelet refuses to start "
            "with it and the NodeRestriction admission plugin refuses it, so the node would "
            "never join; use your own prefix, node.kubernetes.io/ or kubelet.kubernetes.io/, "
            "or set it with kubectl label once the node has joined")


def taint_problem(taint: str) -> str | None:
    """Why ``taint`` is not ``key[=value]:Effect``, or None."""
    key_value, colon, effect = taint.rpartition(":")
    if not colon or effect not in TAINT_EFFECTS:
        return (f"taint {taint!r} must look like key=value:Effect with Effect one of "
                f"{', '.join(TAINT_EFFECTS)}")
    key, _, value = key_value.partition("=")
    problem = label_key_problem(key) or label_value_problem(value)
    return f"taint {taint!r}: {problem}" if problem else None


__all__ = ["kubelet_label_problem", "label_key_problem", "label_value_problem",
           "taint_problem"]
