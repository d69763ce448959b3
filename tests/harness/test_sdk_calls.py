"""Which SDK call a request was sent from (emulator/harness/sdk_calls.py), with stand-in
SDK modules: functions whose globals name them ``fal_client.x`` and ``wavespeed.y``, as the
real packages' functions are named (the official clients' slow tests run the real ones)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from emulator.harness.sdk_calls import SdkCalls

#: an SDK's calls: ``subscribe`` submits and polls (the poll a function of its own),
#: ``stream`` hands back a task that sends later, from a stack that starts in it
SDK = """
def subscribe(send):
    def poll():
        return send()
    return [submit(send), poll()]

def submit(send):
    return send()

def stream(send):
    def task():
        return send()
    return task
"""


def sdk(module: str) -> Any:
    """A stand-in SDK module named ``module``: its functions' frames say so."""
    namespace: dict[str, Any] = {"__name__": module}
    exec(SDK, namespace)  # noqa: S102 (the fixed source above)
    return type("Module", (), {name: staticmethod(f) for name, f in namespace.items()
                               if callable(f)})  # fmt: skip


@pytest.fixture
def calls() -> SdkCalls:
    return SdkCalls()


def sender(calls: SdkCalls) -> Callable[[], str | None]:
    """What the guard does as a request passes: names the SDK call it is sent from."""
    return lambda: calls.current(sys._getframe(1))


@pytest.mark.parametrize(("module", "package"), [("fal_client.x", "fal_client"),
                                                 ("wavespeed.y", "wavespeed")])  # fmt: skip
def test_the_outermost_sdk_frame_names_the_call_and_its_requests_share_it(
    calls: SdkCalls, module: str, package: str
) -> None:
    submitted, polled = sdk(module).subscribe(sender(calls))
    assert submitted is not None and submitted.startswith(f"{package} subscribe ")
    assert polled == submitted  # submit's own frame and poll's are inside subscribe


def test_a_function_of_its_own_is_named_by_the_one_called(calls: SdkCalls) -> None:
    task = sdk("fal_client.x").stream(sender(calls))
    named = task()  # the stack starts in stream.<locals>.task, as an async SDK's task's does
    assert named is not None and named.startswith("fal_client stream ")
    assert "<locals>" not in named


def test_two_calls_are_told_apart(calls: SdkCalls) -> None:
    fal = sdk("fal_client.x")
    first, _ = fal.subscribe(sender(calls))
    second, _ = fal.subscribe(sender(calls))
    assert first != second


def test_a_request_from_no_sdk_has_no_call(calls: SdkCalls) -> None:
    assert sender(calls)() is None
    assert sdk("fal_client_extras.x").submit(sender(calls)) is None  # a look-alike package
