"""Files a driver ships inside its package: its VERSION and its templates."""

from __future__ import annotations

import functools
from importlib.resources import files


@functools.cache
def driver_file(package: str | None, *path: str) -> str:
    """The text of ``path`` (e.g. ``"templates", "bootstrap.sh"``) inside ``package`` (a
    driver module's ``__package__``), read once per process: drivers ask for the same
    template for every node."""
    if not package:
        raise ValueError("driver files are read relative to a package; got none")
    return files(package).joinpath(*path).read_text()


def driver_version(package: str | None) -> str:
    """The driver's own version: its package's ``VERSION`` file."""
    return driver_file(package, "VERSION").strip()


__all__ = ["driver_file", "driver_version"]
