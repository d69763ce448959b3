"""What record and replay need to know of one provider's wire protocol: a `Grammar`, which
each provider declares (its ``replay.py``) and the neutral middleware (``replay.py``) reads.
Apart from the middleware, so that declaring one loads no HTTP client."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Grammar:
    """What replay needs to know of one provider's wire protocol."""

    provider: str
    #: ``surface/path`` of a POST that submits a job; group ``endpoint``
    submit: re.Pattern[str]
    #: ``surface/path`` of a GET answering a job's result; group ``id``
    result: re.Pattern[str]
    #: the job id in a submit answer
    job_id: Callable[[Any], str | None]
    #: whether a result answer is final (only final answers are replayed)
    final: Callable[[Any], bool]
    #: the replayed answer: the emulator's answer with the recorded result put in
    merge: Callable[[Any, Any], Any]
    #: surfaces whose GETs are answered byte for byte from recordings (media)
    static: tuple[str, ...] = ()
    #: ``surface/path`` of a POST answered at once (a synchronous run); group ``endpoint``
    sync: re.Pattern[str] | None = None
    #: whether a submit's answer is already its job's final result (WaveSpeed's sync mode),
    #: replayed as a result is
    settled: Callable[[Any], bool] = lambda body: False
