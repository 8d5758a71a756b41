"""``coe drivers``: every registered COE driver and what it provides, as a table or JSON."""

from __future__ import annotations

import json
import sys

from rich import box
from rich.table import Table

from coe_provider.cliio import EXIT_FAILED, fail, make_console
from coe_provider.cluster.registry import registered_drivers

COLUMNS = ("name", "coe", "os_distros", "server_type", "version", "module")
"""The table's columns (``os_distros`` headed ``os``)."""


def drivers_command(as_json: bool) -> None:
    """``coe drivers``: exit 2 with one line when a driver package fails to load."""
    try:
        found = registered_drivers()
    except Exception as error:  # a broken driver package must not end in a traceback
        fail(EXIT_FAILED, f"error: cannot load the registered drivers: {error}")
    rows = [
        {"name": info.name, "coe": info.coe, "os": info.os,
         "os_distros": list(info.os_distros), "server_type": info.server_type,
         "version": info.version, "module": info.module}
        for info in found.values()
    ]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in COLUMNS:
        table.add_column("os" if column == "os_distros" else column)
    for row in rows:
        table.add_row(*(", ".join(v) if isinstance(v := row[key], list) else str(v)
                        for key in COLUMNS))
    make_console().print(table)
