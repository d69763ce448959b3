"""Tools that check clients and the emulator: conformance, parity, live runs.

The contract-test harness (conformance): does a user's client of fal or WaveSpeed behave
correctly?

    from emulator.harness import check

    def generate(endpoint_id: str, arguments: dict) -> dict:
        return fal_client.subscribe(endpoint_id, arguments=arguments)

    report = check(generate, provider="fal", endpoint="fal-ai/bitdance")
    assert report.ok, report.text()

A client in another language is a command: ``check(CommandClient("node client.mjs"), ...)``.

Entry points: this Python API, ``emulator.harness.pytest.check_client`` and the CLI's
``provider-emulator conformance``. See docs/harness.md. Live runs and parity snapshots are
``emulator.harness.live``, ``.parity`` and ``.snapshots``.
"""

from emulator.harness.command import CommandClient, CommandFailed
from emulator.harness.guard import Limits
from emulator.harness.options import Options
from emulator.harness.properties import PROPERTIES
from emulator.harness.ran_away import ClientRanAway
from emulator.harness.report import FAILED, HELD, NOT_APPLICABLE, PropertyOutcome, Report
from emulator.harness.runner import check
from emulator.harness.scenario import Scenario
from emulator.harness.webhooks import WebhookVerdict, check_webhook_handler

__all__ = [
    "FAILED",
    "HELD",
    "NOT_APPLICABLE",
    "PROPERTIES",
    "ClientRanAway",
    "CommandClient",
    "CommandFailed",
    "Limits",
    "Options",
    "PropertyOutcome",
    "Report",
    "Scenario",
    "WebhookVerdict",
    "check",
    "check_webhook_handler",
]
