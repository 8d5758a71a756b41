"""Pace the rendering of the nodes' cloud-configs to the pace their servers register at.

Every node's cloud-config waits for the same cluster-wide values (the API's address above
all). When those resolve, the event loop would render every node's cloud-config and serialize
every server's registration, each some 100 KB of strings and protobuf, before the SDK's thread
pool sends the first: the registrations of the whole cluster in memory at once (about 0.5 GB
at 5,000 workers, issue 25). A :class:`RegistrationWindow` lets a bounded number of nodes
between the render and the end of their server's registration; the others wait, unrendered.

The SDK sends at most its thread pool's size of registrations at a time (four times the
engine's ``--parallel`` under ``pulumi up``; see ``_set_default_executor`` in pulumi's
``sdk/python/cmd/pulumi-language-python-exec``), so a window at least that wide holds back no
registration the engine could have started: only the memory changes, not the resource graph,
the inputs or the order of operations the engine sees.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

import pulumi
from pulumi.runtime import settings as pulumi_settings

T = TypeVar("T")

MIN_WINDOW = 64
"""The narrowest window: what the SDK's own thread pool holds on a small machine, or when the
runtime gives no ``--parallel`` (the offline plan)."""

EXECUTOR_PER_PARALLEL = 4
"""Threads of the SDK's pool per unit of ``--parallel`` (pulumi-language-python-exec)."""


def window_size() -> int:
    """As wide as the SDK's thread pool, and at least :data:`MIN_WINDOW`."""
    parallel = pulumi_settings.SETTINGS.parallel
    if isinstance(parallel, int) and not isinstance(parallel, bool) and parallel > 0:
        return max(MIN_WINDOW, parallel * EXECUTOR_PER_PARALLEL)
    return MIN_WINDOW


class RegistrationWindow:
    """At most :attr:`size` nodes between the render of their large inputs and the end of
    their server's registration.

    A node enters in :meth:`admit` (inside its render's ``apply``, so unknown values in a
    preview never enter) and leaves when the resource given to :meth:`leave_after` has
    registered, or failed to, or when its render fails.
    """

    def __init__(self, size: int | None = None) -> None:
        self.size = size if size is not None else window_size()
        """How many nodes may be inside at once."""
        self._slots: asyncio.Semaphore | None = None
        self._inside: set[str] = set()
        # asyncio keeps only weak references to tasks: these keep the watchers alive.
        self._watchers: set[asyncio.Future[None]] = set()

    async def admit(self, key: str, render: Callable[[], T]) -> T:
        """``render()`` once ``key`` is let in."""
        if self._slots is None:
            # Made on first use, inside the program's running event loop.
            self._slots = asyncio.Semaphore(self.size)
        await self._slots.acquire()
        self._inside.add(key)
        try:
            return render()
        except BaseException:
            self._leave(key)
            raise

    def leave_after(self, key: str, resource: pulumi.Resource) -> None:
        """Let ``key`` out once ``resource``'s registration has returned."""
        watcher = asyncio.ensure_future(self._wait_for(key, resource))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    async def _wait_for(self, key: str, resource: pulumi.Resource) -> None:
        # A failed registration is the resource's own to report; the node leaves either way,
        # so the nodes behind it are not stuck.
        with contextlib.suppress(Exception):
            await resource.urn.future()
        self._leave(key)

    def _leave(self, key: str) -> None:
        if key in self._inside:
            self._inside.discard(key)
            assert self._slots is not None
            self._slots.release()
