"""``provider-emulator conformance MODULE:CALLABLE`` (or ``--command 'COMMAND'``): the
harness from the command line.

Exit 0 when every selected property holds (or does not apply), 1 when one fails, 2 on a
usage error (an unknown endpoint or property, a callable that cannot be imported, a
``--report`` that cannot be written).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulator.config import EmulatorConfig
from emulator.contracts.documents import Endpoint
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR
from emulator.contracts.served import served_contracts
from emulator.contracts.validation import input_violations
from emulator.core.faults import Fault
from emulator.core.lifecycle import Progression
from emulator.harness.command import CommandClient
from emulator.harness.context import SLOW_ANSWER
from emulator.harness.exchange_checks import replay_problem
from emulator.harness.guard import Limits
from emulator.harness.options import Options
from emulator.harness.properties import PROPERTIES
from emulator.harness.report import PropertyOutcome, heading
from emulator.harness.runner import check
from emulator.harness.scenario import Scenario
from emulator.harness.surfaces import surface_of
from emulator.harness.webhooks import check_webhook_handler

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from emulator.cli import OneLineParser  # a usage error in one line, as every command's

    parser = OneLineParser(
        prog="provider-emulator conformance",
        description="Check a client of the providers' APIs against their contracts.",
    )
    _add_client_options(parser)
    parser.add_argument("--provider", required=True, choices=["fal", "wavespeed"])
    parser.add_argument("--endpoint", metavar="ENDPOINT_ID", help="required for a generate")
    parser.add_argument("--max-examples", type=int, metavar="N", help="per property")
    parser.add_argument("--seed", type=int, metavar="S", help="Hypothesis's seed")
    parser.add_argument(
        "--property",
        action="append",
        dest="properties",
        choices=sorted(PROPERTIES),
        metavar="NAME",
        help="check only this property (repeatable); one of: " + ", ".join(PROPERTIES),
    )
    parser.add_argument("--report", type=Path, metavar="FILE.json", help="write the report")
    parser.add_argument("--replay", metavar="JSON", help="run one scenario (from a report)")
    parser.add_argument(
        "--contracts",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="contract documents (or folders) of your own, beside the shipped ones and "
        "$PROVIDER_EMULATOR_CONTRACTS (repeatable)",
    )
    parser.add_argument(
        "--call-timeout",
        type=_positive,
        default=Limits.call_timeout,
        metavar="SECONDS",
        help="the most one call of the client may take before the harness stops it "
        "(default: %(default)g)",
    )
    parser.add_argument(
        "--max-polls-per-second",
        type=_positive,
        default=Options.max_polls_per_second,
        metavar="N",
        help="the fastest average pace of status polls polls_politely lets pass "
        "(default: %(default)g)",
    )
    parser.add_argument(
        "--slow-answer",
        type=_positive,
        default=SLOW_ANSWER,
        metavar="SECONDS",
        help="how long survives_slow_answers keeps the client waiting: past your client's own "
        "timeout (and --call-timeout past it) to check what it does when it stops waiting "
        "(default: %(default)g)",
    )
    return parser


def _add_client_options(parser: argparse.ArgumentParser) -> None:
    """What is checked: a callable, a command, or a webhook handler (and its key)."""
    parser.add_argument(
        "target",
        nargs="?",
        metavar="MODULE:CALLABLE",
        help="generate(endpoint_id, args), or with --webhook-handler handler(body, headers)",
    )
    parser.add_argument(
        "--command",
        metavar="COMMAND",
        help="a client in any language, run once per call: it reads {endpoint, arguments} "
        "as JSON on stdin and prints the output as JSON (docs/harness.md)",
    )
    parser.add_argument(
        "--webhook-handler",
        action="store_true",
        help="check a webhook handler with signed, forged, replayed, late and impostor "
        "deliveries instead (--seed repeats the same deliveries)",
    )
    parser.add_argument(
        "--key", help="with --webhook-handler: the API key its WaveSpeed secret is for"
    )


def _positive(text: str) -> float:
    """A number of seconds or a rate: finite and more than 0 (0 would refuse every call)."""
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number more than 0, not {text!r}")
    return number


def main(argv: list[str]) -> int:
    """``provider-emulator conformance`` with ``argv`` (what follows the sub-command)."""
    return run(_parser().parse_args(argv))


class UsageError(Exception):
    pass


def load_callable(target: str) -> Callable[..., Any]:
    module_name, colon, name = target.partition(":")
    if not colon or not module_name or not name:
        raise UsageError(f"{target!r} is not MODULE:CALLABLE")
    sys.path.insert(0, str(Path.cwd()))  # as `python -m` would find the user's module
    try:
        found: Any = importlib.import_module(module_name)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise UsageError(f"cannot import {target}: {error}") from None
    except Exception as error:  # the module itself fails as it loads: its own error, in one line
        raise UsageError(f"cannot import {target}: {type(error).__name__}: {error}") from None
    finally:
        sys.path.remove(str(Path.cwd()))
    if not callable(found):
        raise UsageError(f"{target} is not callable")
    return found


def _client(args: argparse.Namespace) -> tuple[Callable[..., Any], str]:
    """The client under test, and how the report and replay lines name it."""
    if args.target is None and args.command is None:
        raise UsageError("name the client: MODULE:CALLABLE, or --command 'COMMAND'")
    if args.target is not None and args.command is not None:
        raise UsageError(
            f"MODULE:CALLABLE ({args.target}) and --command exclude each other: name one "
            "client, a callable or a command"
        )
    if args.target is not None:
        return load_callable(args.target), args.target
    try:
        command = CommandClient(args.command)  # killed at the time limit of each call
    except ValueError as error:  # unbalanced quotes, an empty line, no such program
        raise UsageError(f"--command: {error}") from None
    return command, command.target


def _checked(
    args: argparse.Namespace, config: EmulatorConfig
) -> tuple[tuple[Callable[..., Any], str], Scenario | None]:
    if args.endpoint is None:
        raise UsageError("--endpoint is required (or --webhook-handler, to check a handler)")
    if args.key is not None:
        raise UsageError("--key is for --webhook-handler (a generate has the environment's)")
    # The endpoints the emulator serves: curated contracts, fal's whole catalogue and the
    # user's own (the environment's, as `serve` reads them, and --contracts).
    endpoint = served_contracts(config).get(args.provider, args.endpoint)
    if endpoint is None:
        raise UsageError(
            f"no {args.provider} contract for {args.endpoint!r} (`provider-emulator contracts "
            "list` lists them; a document of your own needs --contracts PATH)"
        )
    if args.max_examples is not None and args.max_examples < 1:
        raise UsageError("--max-examples must be at least 1")
    replay = None if args.replay is None else _replayed(args, endpoint)
    return _client(args), replay


def _replayed(args: argparse.Namespace, endpoint: Endpoint) -> Scenario:
    """The ``--replay`` scenario, checked as the run will stage it."""
    named: list[str] | None = args.properties
    try:
        scenario = Scenario.from_json(args.replay)
        if not isinstance(scenario.input, dict):
            raise ValueError(f"input must be a JSON object, not {scenario.input!r}")
        Progression.parse(scenario.progression)
        for rule in scenario.faults:
            Fault.from_dict(rule)
    except (ValueError, TypeError) as error:  # FaultError is a ValueError
        raise UsageError(f"--replay is not a scenario: {error}") from None
    if scenario.property not in PROPERTIES:
        raise UsageError(f"--replay names no property of the harness: {scenario.property!r}")
    if named and named != [scenario.property]:
        raise UsageError(
            f"--replay replays {scenario.property}, but --property names {', '.join(named)}: "
            "drop --property, or name that one"
        )
    problem = replay_problem(scenario, surface_of(args.provider), endpoint.id)
    if problem:
        raise UsageError(f"--replay of {scenario.property} {problem}")
    # Only a scenario that names its broken field stages an input the endpoint refuses:
    # any other would blame the client for the provider's 422.
    violations = [] if scenario.broken_field else input_violations(endpoint, scenario.input)
    if violations:
        where = ".".join(map(str, violations[0].loc)) or "the input"
        raise UsageError(
            f"--replay's input is not one {endpoint.id} accepts ({where}: "
            f"{violations[0].msg}), and it names no broken_field"
        )
    return scenario


def _check_report(path: Path | None) -> None:
    """`UsageError` for a ``--report`` that cannot be written (no such folder, a folder),
    found before the run: after it, which takes minutes, the report was lost to a
    traceback, with the exit status of a failed property."""
    if path is None:
        return
    existed = path.exists()
    try:
        with path.open("a"):
            pass
    except OSError as error:
        raise UsageError(f"cannot write --report {path}: {error.strerror}") from None
    if not existed:  # only tried: a run stopped early leaves no empty report behind
        path.unlink()


def _print_summary(outcome: PropertyOutcome) -> None:
    print("\n".join(outcome.summary()), flush=True)


def run(args: argparse.Namespace) -> int:
    if args.webhook_handler:
        return _run_webhook_check(args)
    try:
        # the contracts `serve` would serve: the environment's settings (one that cannot
        # be read is a usage error, as serve's is), then --contracts
        config = EmulatorConfig().with_environment().with_contracts(*args.contracts)
        (client, target), replay = _checked(args, config)
        _check_report(args.report)
        options = Options(
            max_examples=args.max_examples,
            seed=args.seed,
            limits=Limits(call_timeout=args.call_timeout),
            max_polls_per_second=args.max_polls_per_second,
            slow_answer=args.slow_answer,
            target=target,
            contracts=tuple(p for p in config.contracts if p != DEFAULT_CONTRACTS_DIR),
            progress=_print_summary,  # each line as its property ends: a run takes minutes
        )
    except (UsageError, ValueError) as error:  # a ContractError is a ValueError
        print(f"provider-emulator conformance: {error}", file=sys.stderr)
        return 2
    properties = [replay.property] if replay else args.properties
    print(heading(target, args.provider, args.endpoint), flush=True)
    report = check(
        client,
        provider=args.provider,
        endpoint=args.endpoint,
        properties=properties,
        options=options,
        replay=replay,
    )
    details = report.details()
    if details:
        print("\n".join(details), flush=True)
    if args.report is not None:
        args.report.write_text(report.to_json())
    return 0 if report.ok else 1


#: what --webhook-handler does not take, options of a generate's check: argument → flag
_GENERATE_ONLY = {
    "command": "--command",
    "endpoint": "--endpoint",
    "max_examples": "--max-examples",
    "properties": "--property",
    "replay": "--replay",
    "contracts": "--contracts",
}


def _run_webhook_check(args: argparse.Namespace) -> int:
    """``--webhook-handler``: one delivery of each kind, a line each; 1 when one is wrong."""
    try:
        given = [flag for name, flag in _GENERATE_ONLY.items() if getattr(args, name)]
        if given:
            raise UsageError(f"{given[0]} is for checking a generate, not --webhook-handler")
        if args.target is None:
            raise UsageError("--webhook-handler checks a handler: name it, MODULE:CALLABLE")
        handler = load_callable(args.target)
        _check_report(args.report)
    except UsageError as error:
        print(f"provider-emulator conformance: {error}", file=sys.stderr)
        return 2
    verdicts = check_webhook_handler(handler, provider=args.provider, key=args.key, seed=args.seed)
    print(f"{args.target}, a {args.provider} webhook handler, given each kind of delivery:")
    print("\n".join(verdict.line() for verdict in verdicts), flush=True)
    if args.report is not None:
        rows = [dataclasses.asdict(verdict) | {"ok": verdict.ok} for verdict in verdicts]
        args.report.write_text(json.dumps({"target": args.target, "verdicts": rows}, indent=2))
    return 0 if all(verdict.ok for verdict in verdicts) else 1
