"""What a mapping rule sees: the effective Magnum values and the coe-provider draft."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
"""Label text Magnum's drivers read as true."""

FALSE_WORDS = frozenset({"false", "0", "no", "off", ""})
"""Label text Magnum's drivers read as false."""


def as_bool(value: Any) -> bool:
    """A Magnum boolean (a JSON bool, or a label's text)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"not a boolean (got {value!r})")


def as_int(value: Any) -> int:
    """A Magnum size or count (a JSON number, or a label's text); null is 0."""
    if value is None or value == "":
        return 0
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"not a whole number (got {value!r})") from None


def as_list(value: Any) -> list[str]:
    """A Magnum comma-separated list (``dns_nameserver``, ``master_lb_allowed_cidrs``)."""
    return [item.strip() for item in str(value or "").split(",") if item.strip()]


@dataclass
class Draft:
    """The coe-provider cluster being assembled (camelCase keys, as in YAML)."""

    template: dict[str, Any] = field(default_factory=dict)
    """Template fields."""

    labels: dict[str, Any] = field(default_factory=dict)
    """The driver's labels."""

    cluster: dict[str, Any] = field(default_factory=dict)
    """Cluster fields (``masterCount``)."""

    worker_defaults: dict[str, Any] = field(default_factory=dict)
    """Fields every worker node group gets unless its own document says otherwise
    (``availabilityZone``, ``minCount``, ``maxCount`` from cluster-wide labels)."""


@dataclass
class Context:
    """The effective Magnum values (template overlaid by the cluster) and the draft."""

    coe: str
    """``kubernetes`` or ``swarm``."""

    driver: str
    """The coe-provider driver chosen."""

    label_model: type[BaseModel]
    """The driver's label model, which validates carried labels."""

    fields: dict[str, Any]
    """Effective Magnum fields (template, with the cluster's values where it has one)."""

    labels: dict[str, str]
    """Effective Magnum labels (template, cluster over template as Magnum merged them)."""

    image: str | None = None
    """The image that replaces the template's (``--image``)."""

    draft: Draft = field(default_factory=Draft)
    """What the import writes."""

    def label(self, name: str, default: str = "") -> str:
        """An effective label's text, or ``default``."""
        return self.labels.get(name, default)
