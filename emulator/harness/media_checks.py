"""Judgements of media: the URLs a client returns, the bytes it downloads, and faults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import strategies as st

from emulator.harness.checks import (
    inline_media,
    media_urls,
    returned_bytes,
    without_bytes,
)
from emulator.harness.context import (
    Context,
    minimal,
    ran_away,
    scenarios,
)
from emulator.harness.scenario import Scenario
from emulator.harness.session import Observation

# -- downloads_work ------------------------------------------------------------------------


def judge_downloads(context: Context, seen: Observation) -> list[str]:
    if not seen.succeeded:
        return []  # returns_valid_output's concern
    problems = []
    for entry in seen.of_kind("media"):
        if entry.status >= 400:
            problems.append(f"downloaded {entry.path} and got {entry.status}, yet succeeded")
    for url, declared in media_urls(without_bytes(seen.output)):
        answer = context.fetch(url)
        if answer.status_code != 200:
            problems.append(f"returned {url}, which answers {answer.status_code}")
            continue
        problems += _declared_matches(url, answer, declared)
    problems += _attached_bytes_match(context, seen.output)
    return problems


def _declared_matches(url: str, answer: httpx.Response, declared: Any) -> list[str]:
    declared = declared if isinstance(declared, dict) else {}
    problems = []
    kind, served = declared.get("content_type"), answer.headers.get("content-type", "")
    if kind and served.split(";")[0] != kind:
        problems.append(f"{url} is declared {kind}, served {served}")
    size = declared.get("file_size")
    if isinstance(size, int) and size != len(answer.content):
        problems.append(f"{url} is declared {size} bytes, served {len(answer.content)}")
    return problems


def _attached_bytes_match(context: Context, output: Any) -> list[str]:
    """Bytes returned beside a media URL must be what that URL serves."""
    problems = []
    for url, declared in media_urls(without_bytes(output)):
        original = _same_object(output, declared)
        attached = [v for v in original.values() if isinstance(v, bytes)] if original else []
        if attached and any(data != context.fetch(url).content for data in attached):
            problems.append(f"the bytes returned beside {url} are not what it serves")
    return problems


def _same_object(output: Any, stripped: Any) -> dict[str, Any] | None:
    """The dict of ``output`` that ``stripped`` (its copy without bytes) was made from."""
    if isinstance(output, dict):
        if without_bytes(output) == stripped:
            return output
        found = (_same_object(v, stripped) for v in output.values())
    elif isinstance(output, list | tuple):
        found = (_same_object(v, stripped) for v in output)
    else:
        return None
    return next((item for item in found if item is not None), None)


# -- survives_media_faults -----------------------------------------------------------------


def media_fault_scenarios(context: Context, name: str) -> st.SearchStrategy[Scenario]:
    rules = st.builds(
        lambda effect, times: ({"effect": effect, "times": times},),
        st.sampled_from(["media_missing", "media_truncated"]),
        st.sampled_from([None, 1]),
    )
    return scenarios(context, name, faults=rules.map(lambda r: tuple(_compact(x) for x in r)))


def _compact(rule: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if v is not None}


def judge_media_faults(context: Context, seen: Observation) -> list[str]:
    if seen.ran_away:
        return ran_away(seen)
    if seen.error is not None:
        return []
    whole = [context.fetch(url).content for url, _ in media_urls(without_bytes(seen.output))]
    # media the provider answered inline (fal's sync_mode) are whole: no download to cut
    whole += [data for output in seen.references.values() for data in inline_media(output)]
    problems = [
        f"returned {len(data)} bytes that are not a whole medium (a download cut short, "
        "or an error's answer kept as the medium)"
        for data in returned_bytes(seen.output)
        if data not in whole
    ]
    missing = [e for e in seen.of_kind("media") if e.status == 404]
    fetched = {e.path for e in seen.of_kind("media") if e.status == 200}
    problems += [
        f"a download of {e.path} failed (404) and the call still succeeded"
        for e in missing
        if e.path not in fetched
    ]
    return problems


def downloads(seen: Observation) -> bool:
    return bool(seen.of_kind("media")) or any(True for _ in returned_bytes(seen.output))


def applies_media(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    seen = probe(Scenario("survives_media_faults", minimal(context)))
    return None if downloads(seen) else "the client never downloads media"


def applies_downloads(context: Context, probe: Callable[[Scenario], Observation]) -> str | None:
    seen = probe(Scenario("downloads_work", minimal(context)))
    if downloads(seen) or any(True for _ in media_urls(without_bytes(seen.output))):
        return None
    return "the client neither returns media URLs nor downloads media"
