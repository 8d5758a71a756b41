"""Driver discovery through the ``coe_provider.drivers`` entry-point group.

A driver's name is the name of its entry point, which must equal the directory its module
lives in (``drivers/{name}``), as in Magnum. Drivers are found by name, or by what they
provide (``coe``, ``os``, ``server_type``), like Magnum's ``provides``. Out-of-tree drivers
plug in exactly like in-tree ones: by declaring an entry point.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coe_provider.health.check import Probe

ENTRY_POINT_GROUP = "coe_provider.drivers"
"""The entry-point group every driver registers in."""


class DriverNotFound(LookupError):
    """No registered driver matches; the message lists the available ones."""


@dataclass(frozen=True)
class DriverInfo:
    """A registered driver and what it provides."""

    name: str
    """Entry-point name, equal to the driver's directory name."""

    cls: type[Any]
    """The driver's component class, a :class:`~coe_provider.cluster.base.CoeCluster` subclass
    (typed loosely on purpose: the registry imports nothing of the base, which looks drivers up
    here through the spec checks and the gate; the compliance test checks the subclassing)."""

    @property
    def coe(self) -> str:
        """The orchestration engine it builds (``kubernetes``, ``swarm``)."""
        return self.cls.provides.coe

    @property
    def os(self) -> str:
        """The operating system distro of its images."""
        return self.cls.provides.os

    @property
    def os_distros(self) -> tuple[str, ...]:
        """Every distro whose images the driver supports, its own :attr:`os` first."""
        return (self.cls.provides.os, *self.cls.provides.also_os)

    @property
    def server_type(self) -> str:
        """``vm`` or ``bm``, as in Magnum."""
        return self.cls.provides.server_type

    @property
    def version(self) -> str:
        """The driver's own version."""
        return self.cls.driver_version

    @property
    def module(self) -> str:
        """Dotted path of the driver class."""
        return f"{self.cls.__module__}.{self.cls.__qualname__}"


def driver_directory(cls: type) -> str:
    """The name of the directory the driver's class is defined in."""
    return Path(inspect.getfile(cls)).resolve().parent.name


@functools.cache
def _load(name: str) -> DriverInfo:
    """Import one driver; a broken driver fails here, naming itself, without hiding others."""
    (entry,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == name]
    cls = entry.load()
    directory = driver_directory(cls)
    if directory != entry.name:
        raise RuntimeError(
            f"driver entry point {entry.name!r} must live in a directory of the same name "
            f"(its class {cls.__qualname__} is in {directory!r})"
        )
    return DriverInfo(name=entry.name, cls=cls)


def driver_names() -> list[str]:
    """Names of every declared driver, without importing any."""
    return sorted({entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)})


def registered_drivers() -> dict[str, DriverInfo]:
    """Every driver declared in the entry-point group, imported, keyed by name."""
    return {name: _load(name) for name in driver_names()}


def _available() -> str:
    names = driver_names()
    if not names:
        return "no drivers are installed"
    return "available: " + ", ".join(names)


def get_driver(name: str) -> DriverInfo:
    """The driver registered under ``name`` (only that driver is imported)."""
    if name not in driver_names():
        raise DriverNotFound(f"unknown driver {name!r}; {_available()}")
    return _load(name)


def probe_for(driver: str) -> Probe:
    """The probe of the driver named ``driver`` (the readiness gate's and ``coe status``'s
    way to read the COE): only that driver is imported."""
    probe: Probe = get_driver(driver).cls.probe_members
    return probe


def find_driver(coe: str, os: str | None = None, server_type: str = "vm") -> DriverInfo:
    """The one driver that provides ``coe`` (and ``os``, ``server_type`` when given)."""
    matches = [
        info
        for info in registered_drivers().values()
        if info.coe == coe
        and (os is None or os in info.os_distros)
        and info.server_type == server_type
    ]
    wanted = f"coe={coe!r}" + (f", os={os!r}" if os else "") + f", server_type={server_type!r}"
    if not matches:
        raise DriverNotFound(f"no driver provides {wanted}; {_available()}")
    if len(matches) > 1:
        names = ", ".join(info.name for info in matches)
        raise DriverNotFound(f"several drivers provide {wanted} ({names}); name one with driver")
    return matches[0]
