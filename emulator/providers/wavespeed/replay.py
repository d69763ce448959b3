"""What replaying recordings (``serve --replay``) needs to know of WaveSpeed's API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulator.http.grammar import Grammar


def _data(body: Any) -> Mapping[str, Any]:
    data = body.get("data") if isinstance(body, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def _merge(emulated: Any, recorded: Any) -> Any:
    # The emulator's id and URLs (the client polls them), the recorded prediction otherwise.
    ours = _data(emulated)
    data = {**_data(recorded), **{k: ours[k] for k in ("id", "urls") if k in ours}}
    return {**recorded, "data": data}


def _final(body: Any) -> bool:
    return _data(body).get("status") in ("completed", "failed")


GRAMMAR = Grammar(
    "wavespeed",
    submit=re.compile(r"wavespeed/api/v3/(?P<endpoint>(?!predictions/|media/).+?)/?"),
    result=re.compile(r"wavespeed/api/v3/predictions/(?P<id>[^/]+)/result/?"),
    job_id=lambda body: _data(body).get("id"),
    final=_final,
    merge=_merge,
    static=("wavespeed/cdn",),
    settled=_final,  # sync mode (enable_sync_mode) answers the completed prediction
)
