"""What replaying recordings (``serve --replay``) needs to know of fal's queue."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulator.http.grammar import Grammar


def _job(body: Any) -> str | None:
    return body.get("request_id") if isinstance(body, Mapping) else None


GRAMMAR = Grammar(
    "fal",
    submit=re.compile(r"fal/queue/(?P<endpoint>(?:(?!/requests/).)+?)/?"),
    result=re.compile(r"fal/queue/.+?/requests/(?P<id>[^/]+)/?"),
    job_id=_job,
    final=lambda body: True,  # fal answers a result only once the job is done
    merge=lambda emulated, recorded: recorded,
    static=("fal/cdn",),
    sync=re.compile(r"fal/run/(?P<endpoint>.+?)/?"),
)
