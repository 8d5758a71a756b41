"""The nodes' cloud-configs render a window at a time, as their servers register (issue 25:
the plan of 5,000 workers peaked at 1.77 GB, most of it every server's registration serialized
at once when the API's address resolved). The window changes memory only: the plan is the same
whatever its width."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import pulumi
import pytest

from coe_provider.bootstrap import cloudconfig
from coe_provider.cluster import pacing
from coe_provider.cluster.pacing import RegistrationWindow
from coe_provider.plan.openstack_answers import INSTANCE
from coe_provider.plan.recorder import RecordingMonitor
from tests.conftest import Recorded, cluster_settings

WORKERS = 40
"""Enough workers that rendering them all before the first registration shows."""


class _Registration:
    """Stands for a resource whose ``urn`` resolves (or fails) when the test says so."""

    def __init__(self) -> None:
        self.done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.urn = self

    async def future(self) -> str:
        return await self.done


def _run(scenario: Any) -> None:
    """Run a coroutine on a loop of its own, leaving the thread's current loop alone (the
    plans below run on it)."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(scenario)
    finally:
        loop.close()


def _appender(rendered: list[str], key: str) -> Callable[[], None]:
    """A render that notes ``key``."""
    return lambda: rendered.append(key)


def _resource(registration: _Registration) -> pulumi.Resource:
    return cast(pulumi.Resource, registration)


def test_at_most_size_nodes_are_inside_until_their_registration_returns() -> None:
    async def scenario() -> None:
        window = RegistrationWindow(size=2)
        rendered: list[str] = []
        registrations = {key: _Registration() for key in "abcd"}
        for key, registration in registrations.items():
            window.leave_after(key, _resource(registration))
        renders = [asyncio.ensure_future(window.admit(key, _appender(rendered, key)))
                   for key in registrations]
        await asyncio.sleep(0.01)
        assert rendered == ["a", "b"]
        registrations["a"].done.set_result("urn-a")
        await asyncio.sleep(0.01)
        assert rendered == ["a", "b", "c"]
        # A failed registration lets its node out too: the nodes behind it are not stuck.
        registrations["b"].done.set_exception(RuntimeError("Nova said no"))
        await asyncio.sleep(0.01)
        assert rendered == ["a", "b", "c", "d"]
        await asyncio.gather(*renders)

    _run(scenario())


def test_a_failed_render_leaves_and_its_registration_does_not_leave_twice() -> None:
    async def scenario() -> None:
        window = RegistrationWindow(size=1)
        failing = _Registration()
        window.leave_after("bad", _resource(failing))

        def boom() -> str:
            raise ValueError("user_data too large")

        with pytest.raises(ValueError, match="too large"):
            await window.admit("bad", boom)
        failing.done.set_exception(ValueError("user_data too large"))
        await asyncio.sleep(0.01)
        # One slot still, not two: the later leave of "bad" released nothing.
        rendered: list[str] = []
        first = asyncio.ensure_future(window.admit("x", lambda: rendered.append("x")))
        second = asyncio.ensure_future(window.admit("y", lambda: rendered.append("y")))
        await asyncio.sleep(0.01)
        assert rendered == ["x"]
        first.cancel(), second.cancel()

    _run(scenario())


def test_a_node_never_admitted_releases_nothing() -> None:
    """In a preview with an unknown API address the render never runs, so the node never
    entered; its registration must not open a slot."""
    async def scenario() -> None:
        window = RegistrationWindow(size=1)
        unknown = _Registration()
        window.leave_after("unknown", _resource(unknown))
        unknown.done.set_result("urn")
        await asyncio.sleep(0.01)
        rendered: list[str] = []
        tasks = [asyncio.ensure_future(window.admit(key, _appender(rendered, key)))
                 for key in ("x", "y")]
        await asyncio.sleep(0.01)
        assert rendered == ["x"]
        for task in tasks:
            task.cancel()

    _run(scenario())


def test_the_window_is_as_wide_as_the_sdks_thread_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing.pulumi_settings.SETTINGS, "parallel", None)
    assert pacing.window_size() == pacing.MIN_WINDOW
    monkeypatch.setattr(pacing.pulumi_settings.SETTINGS, "parallel", 8)
    assert pacing.window_size() == pacing.MIN_WINDOW
    monkeypatch.setattr(pacing.pulumi_settings.SETTINGS, "parallel", 64)
    assert pacing.window_size() == 256


def _plan_counting_pending(monkeypatch: pytest.MonkeyPatch, run_root_program: Any,
                           width: int) -> tuple[Recorded, int]:
    """Plan one master and :data:`WORKERS` workers with a window ``width`` wide; also return
    the most cloud-configs rendered whose server had not yet been registered."""
    monkeypatch.setattr(pacing, "MIN_WINDOW", width)
    counts = {"rendered": 0, "registered": 0, "most_pending": 0}
    check = cloudconfig.check_user_data_size
    register = RecordingMonitor.RegisterResource

    def counting_check(name: str, user_data: str) -> str:
        counts["rendered"] += 1
        counts["most_pending"] = max(counts["most_pending"],
                                     counts["rendered"] - counts["registered"])
        return check(name, user_data)

    def counting_register(self: RecordingMonitor, request: Any) -> Any:
        response = register(self, request)
        if request.type == INSTANCE:
            counts["registered"] += 1
        return response

    monkeypatch.setattr(cloudconfig, "check_user_data_size", counting_check)
    monkeypatch.setattr(RecordingMonitor, "RegisterResource", counting_register)
    recorded = run_root_program(cluster_settings(
        "k8s_ubuntu", labels={"cloud_provider_enabled": False},
        nodeGroups=[{"name": "default-worker", "count": WORKERS, "maxCount": WORKERS}]))
    assert counts["rendered"] == WORKERS + 1
    return recorded, counts["most_pending"]


def test_a_render_waits_for_room_in_the_window(monkeypatch: pytest.MonkeyPatch,
                                               run_root_program: Any) -> None:
    _, pending = _plan_counting_pending(monkeypatch, run_root_program, width=4)
    assert pending <= 4


def test_without_a_narrow_window_every_node_renders_before_the_first_registers(
        monkeypatch: pytest.MonkeyPatch, run_root_program: Any) -> None:
    """The control: what the window prevents does happen without it."""
    _, pending = _plan_counting_pending(monkeypatch, run_root_program, width=10_000)
    assert pending > WORKERS // 2


def test_the_plan_is_the_same_whatever_the_width(monkeypatch: pytest.MonkeyPatch,
                                                 run_root_program: Any) -> None:
    """A window of one (strictly one node at a time, which must not deadlock) plans exactly
    what an unbounded one does: inputs revealed, dependencies, options and answers."""
    narrow, _ = _plan_counting_pending(monkeypatch, run_root_program, width=1)
    wide, _ = _plan_counting_pending(monkeypatch, run_root_program, width=10_000)
    assert narrow.plan.dumps() == wide.plan.dumps()
    assert [(r.urn, Recorded.inputs(r), r.dependencies, r.options, r.state)
            for r in narrow.resources] == [
        (r.urn, Recorded.inputs(r), r.dependencies, r.options, r.state)
        for r in wide.resources]
