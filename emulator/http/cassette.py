"""The recordings arranged for replay, as a cassette: the calls that match an input get its
recorded answers in the order they were recorded, and once those run out, the last again.

A call is matched by endpoint and normalised input (`input_key`); a submit's answer is the
final result recorded for the job it made (or its own answer, when that was the result:
WaveSpeed's sync mode, or when it made no job: a refused submit), a sync run's the
recorded answer itself. A submit whose result was never fetched is matched too, its own
answer standing in (`result_recorded` says it holds no result): a client that waits for
the webhook never asks for the result, and the provider posts the webhook to the client,
around the recorder, so the recording holds no result to play. What
has been played is kept in this process only, as the replayed jobs are (``serve --replay``
runs in one process): each start, and each reset of its emulator, plays the cassette from
its beginning.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from emulator.http.grammar import Grammar
from emulator.http.recordings import Recording

#: the calls answered from a cassette: a queued submit's result, a sync run's answer
QUEUED, SYNC = "queued", "sync"


def input_key(endpoint: str, body: Any) -> str:
    """Recordings match by endpoint and normalised input (keys sorted, spacing dropped)."""
    return endpoint + " " + json.dumps(body, sort_keys=True, separators=(",", ":"))


class Cassette:
    """The recordings, arranged for replay."""

    def __init__(self, recordings: list[Recording], grammars: Mapping[str, Grammar]) -> None:
        """``recordings`` oldest first (as `RecordingStore.read` gives them)."""
        #: QUEUED or SYNC → input key → its answers, in the order recorded
        self.answers: dict[str, dict[str, list[Recording]]] = {QUEUED: {}, SYNC: {}}
        #: (surface, path) → a recorded GET answered byte for byte (media)
        self.static: dict[tuple[str, str], Recording] = {}
        #: how many recorded submits hold no result (it was never fetched)
        self.unfetched = 0
        self._grammars = grammars
        self._submits: list[tuple[Grammar, str, Recording]] = []
        self._results: dict[str, Recording] = {}
        for recording in recordings:
            grammar = grammars.get(recording.provider)
            if grammar is not None:
                self._add(grammar, recording)
        for grammar, key, submit in self._submits:
            answer = submit.response.get("json")
            job = None if refused(submit) else grammar.job_id(answer)
            settled = refused(submit) or grammar.settled(answer)
            result = submit if settled else self._results.get(job) if job else None
            if result is None:
                self.unfetched += 1
            self.answers[QUEUED].setdefault(key, []).append(result or submit)
        self._played: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()  # in-process, requests may run on several threads

    def _add(self, grammar: Grammar, recording: Recording) -> None:
        route = recording.surface + recording.path
        payload = recording.request.get("json")
        if recording.method == "POST" and (match := grammar.submit.fullmatch(route)):
            self._submits.append((grammar, input_key(match["endpoint"], payload), recording))
        elif (
            recording.method == "POST" and grammar.sync and (match := grammar.sync.fullmatch(route))
        ):
            key = input_key(match["endpoint"], payload)
            self.answers[SYNC].setdefault(key, []).append(recording)
        elif recording.method == "GET" and (match := grammar.result.fullmatch(route)):
            if grammar.final(recording.response.get("json")):
                self._results[match["id"]] = recording
        elif recording.method == "GET" and recording.surface in grammar.static:
            if recording.response_body() is not None:
                self.static[(recording.surface, recording.path)] = recording

    def rewind(self) -> None:
        """Play every input's answers from its first again."""
        with self._lock:
            self._played.clear()

    def matches(self, kind: str, key: str) -> bool:
        """Whether a call of ``kind`` (QUEUED or SYNC) with the input ``key`` has an answer."""
        return key in self.answers[kind]

    def nearest(self, kind: str, key: str) -> str:
        """How a call of ``kind`` with the input ``key``, which none matches, differs from
        the nearest input recorded for its endpoint, in words."""
        endpoint, _, sent = key.partition(" ")
        recorded = [
            json.loads(text)
            for each in self.answers[kind]
            for named, _, text in [each.partition(" ")]
            if named == endpoint
        ]
        if not recorded:
            return f"no {kind} call of {endpoint} was recorded"
        differing = min((_differing(json.loads(sent), each) for each in recorded), key=len)
        return f"the nearest recorded input differs in {', '.join(differing)}"

    def result_recorded(self, answer: Recording) -> bool:
        """Whether a queued call's ``answer`` holds its job's result (a result fetched, a
        submit answered with it, a refusal), not a submit's answer alone."""
        if answer.method == "GET" or refused(answer):
            return True
        return self._grammars[answer.provider].settled(answer.response.get("json"))

    def play(self, kind: str, key: str) -> Recording | None:
        """The next answer to a call of ``kind`` with the input ``key`` (None: it has none),
        counted as played."""
        return self._play(kind, key, lambda answer: True)

    def play_refusal(self, key: str) -> Recording | None:
        """The next answer to a queued submit with the input ``key`` if it is a recorded
        refusal (played in place of a job), counted as played; None if it is a job's."""
        return self._play(QUEUED, key, refused)

    def _play(self, kind: str, key: str, wanted: Callable[[Recording], bool]) -> Recording | None:
        answers = self.answers[kind].get(key)
        if not answers:
            return None
        with self._lock:
            played = self._played[(kind, key)]
            answer = answers[min(played, len(answers) - 1)]
            if not wanted(answer):
                return None
            self._played[(kind, key)] = played + 1
        return answer


def _differing(sent: Any, recorded: Any) -> list[str]:
    """The fields in which the input ``sent`` differs from a ``recorded`` one."""
    if not isinstance(sent, Mapping) or not isinstance(recorded, Mapping):
        return ["the whole input"]
    fields = []
    for name in sorted(sent.keys() | recorded.keys()):
        if name not in sent:
            fields.append(f"{name} (not sent)")
        elif name not in recorded:
            fields.append(f"{name} (not recorded)")
        elif sent[name] != recorded[name]:
            fields.append(name)
    return fields


def refused(recording: Recording) -> bool:
    """Whether a submit's recorded answer refused it (a 400 for its input, a 429…): the
    answer replayed to that call, which made no job."""
    return recording.method == "POST" and recording.status >= 300
