"""``container_infra_prefix`` (Magnum's label): its rule, and its split into the registry host
and path that Calico's operator takes separately.

Layout (Magnum's, flat): every image is pulled as ``<prefix>/<name>:<tag>``, ``<name>`` being
the last path component of the upstream repository. The prefix needs a path: the operator
builds ``<registry>/<imagePath>/<image>`` and puts its default path ``calico`` in place of an
empty ``imagePath`` (tigera/operator ``pkg/components/references.go`` GetReference, v1.40 and
v1.42), so a bare host would leave Calico's images at ``<host>/calico/<name>``. The host must
read as a registry (a dot, a port or ``localhost``): otherwise containerd takes the first path
component for a Docker Hub namespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HOST = r"(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PREFIX = re.compile(rf"^(?P<host>{_HOST})/(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)/?$")

PREFIX_RULE = (
    "must be host[:port]/path (registry.example.com/mycloud, trailing slash optional): a "
    "registry host (a DNS name with a dot, an IP address or localhost) and at least one "
    "lowercase path component, since Calico's operator replaces an empty path with calico/; "
    "every image is pulled as <prefix>/<name>:<tag>, <name> being the last component of its "
    "upstream repository (Magnum's flat layout)")
"""The rule ``container_infra_prefix`` follows, named in every refusal."""


@dataclass(frozen=True)
class Prefix:
    """A valid ``container_infra_prefix``, split as Calico's operator needs it."""

    host: str
    """``registry.example.com[:port]``: the operator's and Installation's ``registry``."""

    path: str
    """``mycloud`` (no leading or trailing slash): the Installation's ``imagePath``."""

    @property
    def base(self) -> str:
        """``host/path``, what every image name is appended to."""
        return f"{self.host}/{self.path}"


def prefix_problem(value: str) -> str | None:
    """Why ``value`` cannot be ``container_infra_prefix``, or ``None``."""
    if _PREFIX.match(value):
        return None
    return f"{PREFIX_RULE} (got {value!r})"


def parse_prefix(value: str) -> Prefix:
    """``value`` split into host and path; ``ValueError`` (with the rule) if it is invalid."""
    match = _PREFIX.match(value)
    if match is None:
        raise ValueError(f"container_infra_prefix {PREFIX_RULE} (got {value!r})")
    return Prefix(match.group("host"), match.group("path"))


__all__ = ["PREFIX_RULE", "Prefix", "parse_prefix", "prefix_problem"]
