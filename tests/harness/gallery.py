"""A careful fal client written with httpx, and variants of it that go wrong the way real
code does, one mistake each. The harness must flag each variant by exactly the property its
mistake breaks."""

from __future__ import annotations

import itertools
import ssl
import time
from typing import Any

import httpx

QUEUE = "https://queue.fal.run"
HEADERS = {"Authorization": "Key gallery-key"}
POLL_INTERVAL = 0.06  # about 16 polls a second: under the harness's default bound
SHARED_STATE_WINDOW = 0.3
PATIENCE = 15  # status polls before the client gives up on a job (retries not counted)
HASTY_TIMEOUT = 1.0  # seconds: the mistaken client's, shorter than a slow answer
INGRESS = (502, 503, 504)  # transient only from fal's nginx: no x-fal-request-id
LARGEST_DOWNLOAD = 256 * 2**20  # bytes: a medium declared larger is refused unread
# One TLS context for every call: loading the CA bundle afresh took 48 ms a client here, a
# third of a test's CPU time (the harness intercepts https:// in-process; none is opened).
TLS = ssl.create_default_context()


class GenerationFailed(RuntimeError):
    pass


class CarefulClient:
    """Holds every property. Each switch below turns one mistake on."""

    mistakes: frozenset[str] = frozenset()

    def __call__(self, endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
        timeout = HASTY_TIMEOUT if "empty_on_timeout" in self.mistakes else 10
        with httpx.Client(headers=HEADERS, timeout=timeout, verify=TLS) as http:
            queued = self.submit(http, endpoint_id, arguments)
            if "shares_request_state" in self.mistakes:
                self.queued = queued  # "the" current request, on an object every call shares
                queued = self.queued
                # any pause lets another call overwrite it: one long enough that the calls
                # the harness starts together overlap even on a loaded machine
                time.sleep(SHARED_STATE_WINDOW)
                queued = self.queued
            self.wait(http, queued)
            output = self.result(http, queued["response_url"])
            self.download(http, output)
            return self.shape(output)

    def send(self, http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        tries = itertools.count() if "retries_forever" in self.mistakes else range(5)
        for _ in tries:  # "it will come back": no limit of its own
            answer = http.request(method, url, **kwargs)
            if not _transient(answer):
                return answer
            wait = float(answer.headers.get("retry-after", 0.05))
            time.sleep(0.02 if "ignores_retry_after" in self.mistakes else wait)
        raise GenerationFailed(f"{url} kept answering {answer.status_code}")

    def submit(self, http: httpx.Client, endpoint_id: str, arguments: dict) -> dict:
        try:
            answer = self.send(http, "POST", f"{QUEUE}/{endpoint_id}", json=arguments)
        except httpx.TransportError:
            if "resubmits" not in self.mistakes:
                raise  # the job may exist: resubmitting could pay for it twice
            answer = self.send(http, "POST", f"{QUEUE}/{endpoint_id}", json=arguments)
        self.raise_for(answer)
        return answer.json()

    def wait(self, http: httpx.Client, queued: dict) -> None:
        for _ in range(PATIENCE):
            status = self.send(http, "GET", queued["status_url"]).json()
            if status["status"] == "COMPLETED":
                if status.get("error") and "empty_on_failure" in self.mistakes:
                    raise _Empty()
                if "polls_after_done" in self.mistakes:
                    time.sleep(POLL_INTERVAL)  # "once more, to be sure": at the usual pace
                    self.send(http, "GET", queued["status_url"])
                return
            if "busy_polls" not in self.mistakes:
                time.sleep(POLL_INTERVAL)
        if "never_cancels" not in self.mistakes:
            http.put(queued["cancel_url"])
        raise TimeoutError(f"gave up on {queued['request_id']}")

    def result(self, http: httpx.Client, url: str) -> dict:
        answer = self.send(http, "GET", url)
        self.raise_for(answer)
        return answer.json()

    def raise_for(self, answer: httpx.Response) -> None:
        if answer.status_code < 400:
            return
        if "hides_error_body" in self.mistakes:
            raise GenerationFailed("the generation failed")
        raise GenerationFailed(f"HTTP {answer.status_code}: {answer.text}")

    def download(self, http: httpx.Client, output: dict) -> None:
        images = output.get("images", [])
        for image in images:
            source = images[0] if "downloads_first_only" in self.mistakes else image
            if source["url"].startswith("https://"):  # sync_mode answers data URIs
                self.check_size(source)
                image["content"] = self.fetch(http, source["url"])

    def check_size(self, image: dict) -> None:
        """Refuses a medium declared too large to hold, before reading it. ``file_size`` is
        optional in fal's File schema: a careful client reads it only where it is given."""
        if "expects_file_size" in self.mistakes:
            declared = image["file_size"]  # "fal always says": not where its schema need not
        else:
            declared = image.get("file_size", 0)
        if declared > LARGEST_DOWNLOAD:
            raise GenerationFailed(f"{image['url']} is {declared} bytes: too large to hold")

    def fetch(self, http: httpx.Client, url: str) -> bytes:
        if "keeps_partial_bytes" not in self.mistakes:
            answer = http.get(url)
            self.raise_for(answer)
            return answer.content
        got = b""
        try:
            with http.stream("GET", url) as answer:
                for chunk in answer.iter_bytes():
                    got += chunk
        except httpx.TransportError:
            pass  # "good enough": what arrived is kept
        return got

    def shape(self, output: dict) -> dict:
        if "renames_seed" in self.mistakes:
            output["seed_used"] = output.pop("seed")
        return output


def _transient(answer: httpx.Response) -> bool:
    if answer.status_code == 429:
        return True
    return answer.status_code in INGRESS and "x-fal-request-id" not in answer.headers


class _Empty(Exception):
    """Raised inside the client only to return ``{}`` (see `Wrong.__call__`)."""


class Wrong(CarefulClient):
    def __init__(self, *mistakes: str) -> None:
        self.mistakes = frozenset(mistakes)

    def __call__(self, endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            return super().__call__(endpoint_id, arguments)
        except _Empty:
            return {}  # "the job failed, so there is nothing to return"
        except httpx.TimeoutException:
            if "empty_on_timeout" not in self.mistakes:
                raise
            return {}  # "no answer in time: nothing to show"


#: each mistake, and the one property that must flag it
GALLERY = {
    "renames_seed": "returns_valid_output",
    "downloads_first_only": "downloads_work",
    "empty_on_failure": "surfaces_job_failure",
    "hides_error_body": "surfaces_validation_errors",
    "polls_after_done": "stops_polling_when_done",
    "busy_polls": "polls_politely",
    "ignores_retry_after": "retries_transient_errors",
    "retries_forever": "gives_up_during_outage",
    "resubmits": "no_duplicate_jobs",
    "never_cancels": "cancels_abandoned_jobs",
    "keeps_partial_bytes": "survives_media_faults",
    "empty_on_timeout": "survives_slow_answers",
    "expects_file_size": "tolerates_optional_fields",
    "shares_request_state": "keeps_calls_apart",
}


#: ready-made instances, importable as MODULE:CALLABLE by the CLI
careful = CarefulClient()
ignores_retry_after = Wrong("ignores_retry_after")
empty_on_timeout = Wrong("empty_on_timeout")
