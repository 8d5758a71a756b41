"""A node whose bootstrap failed says so on its console: read it there, so the readiness gate
fails within minutes with the node's own error line instead of waiting out its timeout.

Every bootstrap logs through ``coe_log`` (``coe-bootstrap[PID]: ...``) to the serial console,
which Nova keeps as the server's console log, and ends a failed run with ``ERROR: ...``
(``coe_die``) or ``bootstrap FAILED ...`` (the error trap); cloud-init then says it failed to
run the script. A bootstrap that stopped that way does not start again by itself, so its last
such line is a verdict. A later bootstrap line (a re-run by hand) takes it back. The swarm VM
test reads real consoles with the same function.

The console is asked through the Nova API with the OpenStack provider's settings. Clouds that
do not serve console logs, or credentials that cannot be used from here, only turn the look
off: the gate then waits and reports as it does without it.

A look never holds the gate past its deadline: it runs in a worker thread that the gate waits
for only until :data:`DEADLINE_SLACK_SECONDS` before the deadline, no read starts with less
than one request's timeout left, and a look still out when the next one is due is not
doubled. One slow Nova (20 servers at 20 s each would be 400 s) costs the gate nothing.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

BOOTSTRAP_LINE = re.compile(r"coe-bootstrap\[\d+\]: (?P<message>.*?)\s*$")
"""A line the bootstrap logged, wherever the console puts it (after a timestamp or a prefix)."""

FAILURE = re.compile(r"^(ERROR: |bootstrap FAILED |cloud-init: )")
"""The ways a bootstrap ends in failure: ``coe_die``, the error trap, and cloud-init giving
up on the script that runs it."""

CLOUD_INIT_GAVE_UP = re.compile(r"Failed to run module scripts.user")
"""cloud-init's line when the bootstrap it runs (runcmd) exited non-zero."""

CONSOLE_LINES = 200
"""Lines read from the end of a console log."""

LOOK_EVERY_SECONDS = 60.0
"""Seconds between two looks at the consoles (the gate checks the COE more often)."""

NODES_PER_LOOK = 20
"""Consoles read per look at most; the rest are read at the next looks, in turn."""

REQUEST_TIMEOUT_SECONDS = 20.0
"""Seconds one OpenStack API request of a look may take (the connection's ``api_timeout``)."""

DEADLINE_SLACK_SECONDS = 5.0
"""A look ends (for the gate) this long before the gate's deadline."""


def bootstrap_failure(console: str) -> str | None:
    """The error line the last bootstrap run ended with, or None (still running, done, or no
    bootstrap line at all)."""
    last = None
    for line in console.splitlines():
        match = BOOTSTRAP_LINE.search(line)
        if match:
            last = match.group("message")
        elif CLOUD_INIT_GAVE_UP.search(line) and not (last and FAILURE.match(last)):
            # The script failed before it could say why (or cloud-init could not start it).
            last = "cloud-init: the bootstrap exited with an error before logging one"
    return last if last is not None and FAILURE.match(last) else None


class ConsoleWatch:
    """Looks at the consoles of nodes that are not ready, at most every
    :data:`LOOK_EVERY_SECONDS`, and reports the ones whose bootstrap failed."""

    def __init__(self, servers: Mapping[str, str], connect: Callable[[], Any],
                 interval: float = LOOK_EVERY_SECONDS, per_look: int = NODES_PER_LOOK,
                 clock: Callable[[], float] = time.monotonic,
                 speaker: str = "coe readiness gate", deadline: float | None = None) -> None:
        self.servers = dict(servers)
        """Node name -> server ID."""
        self.speaker = speaker
        """Who says so when the consoles cannot be read."""
        self._connect = connect
        self._interval = interval
        self._per_look = per_look
        self._clock = clock
        self._connection: Any = None
        # Nothing has failed in the first minute: the first look comes one interval in.
        self._last_look = clock()
        self._turn = 0
        self.disabled_because: str | None = None
        """Why the consoles are no longer read (None while they are)."""
        self.deadline = deadline
        """When (on ``clock``) the gate gives up: no look runs past it (None: no bound)."""
        self._running: threading.Thread | None = None

    def failures(self, names: Sequence[str]) -> dict[str, str]:
        """Node name -> the error line its bootstrap ended with, for those of ``names`` (nodes
        not ready) read at this look; empty between looks."""
        now = self._clock()
        if self.disabled_because is not None or now - self._last_look < self._interval:
            return {}
        if self._running is not None and self._running.is_alive():
            return {}  # the last look is still out: do not pile up requests
        budget = None if self.deadline is None else (
            self.deadline - now - DEADLINE_SLACK_SECONDS)
        if budget is not None and budget < 1:
            return {}
        self._last_look = now
        candidates = [name for name in names if name in self.servers]
        if not candidates:
            return {}
        start = self._turn % len(candidates)
        chosen = (candidates[start:] + candidates[:start])[:self._per_look]
        self._turn = start + len(chosen)
        found: dict[str, str] = {}
        failed: list[Exception] = []

        def look() -> None:
            try:
                if self._connection is None:
                    self._connection = self._connect()
                found.update(self._read(chosen))
            except Exception as error:  # no credentials here, no Nova, no console logs
                failed.append(error)

        worker = threading.Thread(target=look, name="coe-console-look", daemon=True)
        worker.start()
        worker.join(budget)
        if worker.is_alive():
            self._running = worker
            return {}
        if failed:
            self._disable(f"{type(failed[0]).__name__}: {failed[0]}")
            return {}
        return found

    def _read(self, names: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unread: list[Exception] = []
        for name in names:
            if self.deadline is not None and (
                    self.deadline - self._clock() < REQUEST_TIMEOUT_SECONDS):
                break  # this read could end after the gate's deadline
            try:
                reply = self._connection.compute.get_server_console_output(
                    self.servers[name], length=CONSOLE_LINES)
            except Exception as error:  # this server's log: another may still be served
                unread.append(error)
                continue
            line = bootstrap_failure(str(reply.get("output") or ""))
            if line is not None:
                found[name] = line
        if unread and len(unread) == len(names):
            raise unread[0]
        return found

    def _disable(self, why: str) -> None:
        self.disabled_because = why
        # The dynamic provider host owns stdout (the engine reads its port there): use stderr.
        print(f"{self.speaker}: console logs not read ({why})", file=sys.stderr, flush=True)
