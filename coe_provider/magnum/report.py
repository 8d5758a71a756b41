"""The import report: one row per Magnum field and label, saying what became of it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any

from coe_provider.magnum.redact import scrub, shown


class Status(Enum):
    """What became of one Magnum field or label."""

    CARRIED = "carried"
    """It became a coe-provider field or label (``target``, ``written``)."""

    DEFAULT = "default"
    """Its value is Magnum's documented default and coe-provider does the same: dropped."""

    SAME = "same"
    """coe-provider behaves as this value asks without a field for it: dropped."""

    REPLACED = "replaced"
    """coe-provider does this its own way (a component release, a runtime); the note says how."""

    OVERRIDDEN = "overridden"
    """A template value the cluster (or a node group) replaced, as Magnum did."""

    DROPPED = "dropped"
    """It has no effect on the cluster built: Magnum's record of the cluster, or an option
    of a feature that is off."""

    UNSUPPORTED = "unsupported"
    """coe-provider cannot do what it asks: the import fails unless ``--allow-drop``."""


@dataclass(frozen=True)
class Outcome:
    """What a rule made of one value."""

    status: Status
    """What became of it."""

    target: str = ""
    """The coe-provider field it became (``template.flavor``, ``labels.pod_cidr``)."""

    written: Any = None
    """The value written there."""

    note: str = ""
    """Why, in a sentence."""


@dataclass(frozen=True)
class Row:
    """One Magnum field or label and its outcome."""

    field: str
    """``image_id``, ``labels.kube_tag``, ``nodegroups[gpu].flavor_id``."""

    source: str
    """Which document it came from: ``template``, ``cluster``, ``nodegroup <name>``."""

    value: Any
    """Its value in that document."""

    outcome: Outcome
    """What became of it."""

    @property
    def blocking(self) -> bool:
        """True when the cluster built would behave differently from Magnum's."""
        return self.outcome.status is Status.UNSUPPORTED

    def redacted(self) -> Row:
        """The row as it may be printed: secret values and URL credentials as ``[secret]``."""
        outcome = replace(self.outcome, written=shown(self.field, shown(
            self.outcome.target, self.outcome.written)), note=scrub(self.outcome.note))
        return replace(self, value=shown(self.field, self.value), outcome=outcome)

    def as_json(self) -> dict[str, Any]:
        """The row as a JSON object."""
        outcome = asdict(self.outcome)
        outcome["status"] = self.outcome.status.value
        return {"field": self.field, "source": self.source, "value": self.value, **outcome}

    def describe(self) -> str:
        """The outcome in words, as the report's table shows it."""
        status, target, note = self.outcome.status, self.outcome.target, self.outcome.note
        text = {
            Status.CARRIED: f"{target} = {self.outcome.written!r}" if target else "carried",
            Status.DEFAULT: "Magnum default, dropped",
            Status.SAME: "dropped: coe-provider does the same",
            Status.REPLACED: "replaced",
            Status.OVERRIDDEN: "overridden",
            Status.DROPPED: "dropped",
            Status.UNSUPPORTED: "not supported",
        }[status]
        return f"{text} ({note})" if note else text


@dataclass
class Report:
    """Every row of an import, the driver chosen and what was written."""

    driver: str | None = None
    """The coe-provider driver chosen, or None when the import was refused."""

    rows: list[Row] = field(default_factory=list)
    """One per Magnum field and label (and per default the import wrote)."""

    problems: list[str] = field(default_factory=list)
    """Refusals and validation failures that are not one field's (``path: rule``)."""

    written: str | None = None
    """Where the output went (a path, or ``-``), when it was written."""

    def add(self, field_name: str, source: str, value: Any, outcome: Outcome) -> None:
        """Record one row."""
        self.rows.append(Row(field_name, source, value, outcome))

    @property
    def blocking(self) -> list[Row]:
        """Rows whose behaviour the cluster built would lose."""
        return [row for row in self.rows if row.blocking]

    @property
    def ok(self) -> bool:
        """Nothing that changes the cluster's behaviour was lost, and nothing was refused."""
        return not self.blocking and not self.problems

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "driver": self.driver,
            "ok": self.ok,
            "written": self.written,
            "rows": [row.redacted().as_json() for row in self.rows],
            "notCarried": [row.field for row in self.blocking],
            "problems": [scrub(problem) for problem in self.problems],
        }
