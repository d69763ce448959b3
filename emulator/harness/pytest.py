"""The harness inside a pytest run: ``check_client`` fails the test with the report.

    from emulator.harness.pytest import check_client

    def test_my_client():
        check_client(generate, provider="fal", endpoint="fal-ai/bitdance")

It honours the active Hypothesis profile (``max_examples``, ``derandomize``, ``database``).
Beside the ``provider_emulator`` fixture, pass it as ``emulation=`` and the harness uses
that emulation (resetting it per example) instead of starting its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from emulator.emulation import Emulation
from emulator.harness.options import Options
from emulator.harness.report import Report
from emulator.harness.runner import check

__all__ = ["check_client"]


def check_client(
    client: Callable[..., Any],
    *,
    provider: str,
    endpoint: str,
    properties: Iterable[str] | None = None,
    options: Options | None = None,
    emulation: Emulation | None = None,
) -> Report:
    """Run the properties; fail the calling test with the report if one fails."""
    report = check(
        client,
        provider=provider,
        endpoint=endpoint,
        properties=properties,
        options=options,
        emulation=emulation,
    )
    if not report.ok:
        pytest.fail(report.text(), pytrace=False)
    return report
