"""fal's queue over the engine: ``/fal/queue/…`` stands for ``https://queue.fal.run/…``.

A submit, its status (polled, answered from memory at once, or streamed), its result and
its cancel; and what fal's other surfaces (`routes`: the sync run) share with the queue:
the endpoint a path names, an output's answer, a request held open.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from emulator.config import EmulatorConfig
from emulator.contracts.documents import Endpoint
from emulator.core.engine import Engine
from emulator.core.holds import TooManyHeld
from emulator.core.jobs import Job
from emulator.core.lifecycle import Phase
from emulator.core.outcomes import JobFailed
from emulator.core.webhook_targets import is_webhook_url
from emulator.http.asgi import note_endpoint
from emulator.http.bodies import query_value, read_payload, retained_size
from emulator.http.cdn import run_linked
from emulator.http.hosts import scope_base
from emulator.http.responses import (
    QuickAnswer,
    RawHeaders,
    encode_json,
    encoded_json_response,
    json_headers,
    json_response,
)
from emulator.http.submits import offloads
from emulator.media.links import Linker, url_linker
from emulator.providers.fal.auth import accepted_key, caller
from emulator.providers.fal.envelopes import (
    billable_units,
    outputs_linker,
    request_urls,
    status_body,
    submit_answer,
    wants_inline,
)
from emulator.providers.fal.errors import (
    FalError,
    failure_response,
    method_not_allowed,
    validation_error,
)
from emulator.providers.fal.paths import (
    RequestPath,
    alias,
    names_endpoint,
    parse_request_path,
    wants_logs,
)
from emulator.providers.fal.platform import platform_options
from emulator.providers.fal.streams import HeldStream, status_events
from emulator.providers.fal.tokens import Tokens
from emulator.providers.fal.webhooks import FalWebhooks

#: Why a request the emulator had is gone (a guess at fal's wording: it was not observed).
EXPIRED = "its result is no longer kept (retention or memory budget passed)"
#: How many encoded status bodies are remembered (one or two per job being polled).
STATUS_MEMO_SIZE = 4096


def _ids(job: Job) -> dict[str, str]:
    """fal names the request on every queue answer, and clients read it from there."""
    return {"x-fal-request-id": job.id}


def _id_header(job: Job) -> RawHeaders:
    """`_ids` as raw headers."""
    return ((b"x-fal-request-id", job.id.encode("latin-1")),)


class FalQueue:
    """The queue's answers, and the helpers the sync run shares. `routes.FalApi` adds fal's
    other surfaces by inheriting these, not by holding a queue: a submit or a status poll
    stays one method call, with no hop through another object (the hot paths, issue 17)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._status_answers: dict[tuple[Any, ...], tuple[bytes, RawHeaders]] = {}
        self.webhooks = FalWebhooks(engine)
        self.tokens = Tokens(engine)

    @property
    def config(self) -> EmulatorConfig:
        return self.engine.config  # read afresh: controls may replace it at run time

    # -- helpers (the sync run's too) ----------------------------------------------------

    def _base(self, scope: Scope, surface: str) -> str:
        return scope_base(scope, surface, self.config.public_url)

    def _endpoint(self, path: str) -> Endpoint:
        endpoint_id = path.strip("/")
        endpoint = self.engine.contracts.get("fal", endpoint_id)
        if endpoint is not None:
            return endpoint
        if any(endpoint_id.startswith(e.id + "/") for e in self.engine.contracts.of("fal")):
            raise FalError.detail(404, "Not Found")  # a known app, but no such sub-path
        self.engine.unknown_ids.note("fal", endpoint_id)
        raise FalError.detail(404, f"Application '{alias(endpoint_id)}' not found")

    def _submitted_to(self, path: str) -> Endpoint:
        """The endpoint a submit's path names: a request's own path (its cancel, say) is
        answered 405 with the method it takes."""
        try:
            return self._endpoint(path)
        except FalError:
            request = parse_request_path(path)
            if request is None or not self._is_app(request.app):
                raise
            raise method_not_allowed("PUT" if request.action == "cancel" else "GET") from None

    def _is_app(self, app: str) -> bool:
        """Whether a request path's app (a full id, or its app path) is one served."""
        return any(names_endpoint(app, endpoint.id) for endpoint in self.engine.contracts.of("fal"))

    def _job(self, path: RequestPath, owner: str, *, polling: bool = False) -> Job:
        job = self.engine.find(path.request_id, owner, polling=polling)
        if job is None and self.engine.expired(path.request_id, owner):
            raise FalError.detail(404, f"Request '{path.request_id}' has expired: {EXPIRED}")
        if job is None or not names_endpoint(path.app, job.endpoint.id):
            raise FalError.detail(404, f"Request '{path.request_id}' not found")
        return job

    def _linker(self, scope: Scope, job: Job) -> Linker:
        """Media as CDN URLs, or as data URIs when the input asked for ``sync_mode``."""
        return outputs_linker(job, url_linker(self.engine.media, self._base(scope, "fal/cdn")))

    async def _output(self, request: Request, job: Job) -> Response:
        linker = self._linker(request.scope, job)
        try:
            output = await run_linked(
                functools.partial(self.engine.outcome, job),
                linker,
                made=self.engine.outcome_made(job, linker),
            )
        except JobFailed as failed:
            return failure_response(failed.failure, job.id)
        headers = {**_ids(job), "x-fal-billable-units": str(billable_units(output))}
        return json_response(output, 200, headers)

    # -- the queue -----------------------------------------------------------------------

    async def queue(self, request: Request) -> Response:
        """What the queue answers but a submit (`submit`)."""
        parsed = parse_request_path(request.path_params["path"])
        owner = self._owner(request, parsed)
        if parsed is None:  # an app's own path takes a submit; any other is none of fal's
            if self.engine.contracts.get("fal", request.path_params["path"].strip("/")):
                raise method_not_allowed("POST")
            raise FalError.detail(404, "Not Found")
        wanted_method = "PUT" if parsed.action == "cancel" else "GET"
        if request.method != wanted_method:
            raise method_not_allowed(wanted_method)
        job = self._job(parsed, owner, polling=parsed.action == "status")
        note_endpoint(request.scope, job.endpoint.id)
        if parsed.action == "cancel":
            return self._cancel(job)
        with_logs = wants_logs(request.scope["query_string"])
        if parsed.action == "status":
            return self._status(request, job, with_logs)
        if parsed.action == "stream":
            return self._stream(request, job, with_logs)
        if self.engine.look(job).phase is not Phase.DONE:
            raise FalError(400, {"detail": "Request is still in progress"}, _ids(job))
        return await self._output(request, job)

    def _owner(self, request: Request, parsed: RequestPath | None) -> str:
        """Whose request it is: its key's, or, on the status stream (where a client-mode
        `FalStream` sends ``?fal_jwt_token=`` and no key), the job's owner if the token
        acts for it, else the token's own (which then finds none of another key's jobs)."""
        if parsed is None or parsed.action != "stream":
            return caller(request.scope, self.config)
        claims = self.tokens.admitted(request, parsed.app)
        if claims is None:
            return caller(request.scope, self.config)
        job = self.engine.jobs.peek(parsed.request_id)
        return job.owner if job is not None and claims.speaks_for(job.owner) else claims.owner

    async def submit(self, scope: Scope, receive: Receive) -> Response:
        """``POST queue.fal.run/{app}``: a new request. The hot path: read from the ASGI
        scope and ``receive`` themselves, no Starlette `Request` built (`HandlerApp`)."""
        config = self.config
        owner = caller(scope, config)
        endpoint = self._submitted_to(scope["path_params"]["path"])
        note_endpoint(scope, endpoint.id)
        payload = await read_payload(scope, receive, config)
        if config.validate_on_submit:
            violations = self.engine.violations(endpoint, payload)
            if violations:
                raise validation_error(violations)
        webhook = query_value(scope, "fal_webhook")
        if webhook is not None and not is_webhook_url(webhook):
            raise FalError.detail(422, f"fal_webhook must be an http(s) URL, not {webhook!r}")
        platform = platform_options(scope)
        limit = platform.max_queue_length
        if limit is not None and self.engine.queue_length(endpoint, limit + 1, owner) >= limit:
            raise FalError.detail(429, f"The queue of {endpoint.id} holds {limit} requests or more")
        size, start_timeout = retained_size(scope), platform.start_timeout
        weight, checked = platform.queue_weight, config.validate_on_submit
        if offloads(self.engine, scope):
            job = await run_in_threadpool(
                self.engine.submit, endpoint, payload, owner, webhook=webhook, size=size,
                start_timeout=start_timeout, queue_weight=weight, checked=checked,
            )  # fmt: skip
        else:  # at once, as nearly all are (a partial for both ways cost 1.7 % a submit)
            job = self.engine.submit(
                endpoint, payload, owner, webhook=webhook, size=size,
                start_timeout=start_timeout, queue_weight=weight, checked=checked,
            )  # fmt: skip
        if webhook:
            bases = {} if wants_inline(job) else {"cdn": self._base(scope, "fal/cdn")}
            link = functools.partial(self._linker, scope, job)
            self.webhooks.watch(job, webhook, link, bases)
        encoded = submit_answer(self._base(scope, "fal/queue"), job, self.engine.look(job))
        return encoded_json_response(encoded, 200, json_headers(encoded, _id_header(job)))

    def quick_status(self, scope: Scope, path: str) -> QuickAnswer | None:
        """A status poll without logs, of a job the caller has, in memory: the answer
        `queue` would give, made at once (the hot path, `HandlerApp.quick`); None for any
        other request, and for one `queue` would refuse."""
        if scope["method"] != "GET" or self.engine.store is not None:
            return None
        parsed = parse_request_path(path)
        if parsed is None or parsed.action != "status" or wants_logs(scope["query_string"]):
            return None
        owner = accepted_key(scope, self.config)
        job = self.engine.find(parsed.request_id, owner, polling=True) if owner else None
        if job is None or not names_endpoint(parsed.app, job.endpoint.id):
            return None
        base = scope_base(scope, "fal/queue", self.config.public_url)
        code, encoded, headers = self._status_answer(job, base)
        return QuickAnswer(code, headers, encoded, job.endpoint.id)

    def _status(self, request: Request, job: Job, with_logs: bool) -> Response:
        base = self._base(request.scope, "fal/queue")
        if not with_logs:
            code, encoded, headers = self._status_answer(job, base)
            return encoded_json_response(encoded, code, headers)
        look = self.engine.poll(job)
        body = status_body(self.engine, job, look, request_urls(base, job), with_logs=True)
        return json_response(body, 200 if look.phase is Phase.DONE else 202, _ids(job))

    def _status_answer(self, job: Job, base: str) -> tuple[int, bytes, RawHeaders]:
        """A status poll without logs: its code, body and headers."""
        look = self.engine.poll(job)
        # Polls without logs are the hot path and repeat the same answer: it is a function
        # of exactly these values, so its encoding (body and headers) is memoised.
        done, failure = look.phase is Phase.DONE, look.failure
        key = (
            job.id,
            job.endpoint.id,  # a reset with the same seed gives the id to another job
            base,
            look.phase,
            look.queue_position,
            done and self.engine.inference_time(job, look),
            failure and (failure.kind, failure.message),  # its details may not hash
        )
        answer = self._status_answers.get(key)
        if answer is None:
            if len(self._status_answers) >= STATUS_MEMO_SIZE:
                self._status_answers.clear()
            body = status_body(self.engine, job, look, request_urls(base, job), with_logs=False)
            encoded = encode_json(body)
            answer = encoded, json_headers(encoded, _id_header(job))
            self._status_answers[key] = answer
        return 200 if done else 202, *answer

    def _stream(self, request: Request, job: Job, with_logs: bool) -> Response:
        urls = request_urls(self._base(request.scope, "fal/queue"), job)
        events = status_events(self.engine, job, urls, with_logs, self.config.stream_keepalive)
        self._hold(job.owner)
        return HeldStream(
            functools.partial(self.engine.holds.give_back, job.owner),
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", **_ids(job)},
        )

    def _hold(self, owner: str) -> None:
        """One more request ``owner`` holds open; fal's 429 past the most it may."""
        try:
            self.engine.holds.take(owner, self.config.max_held_per_key)
        except TooManyHeld as refused:
            raise FalError(429, {"detail": str(refused)}, {"Retry-After": "1"}) from None

    def _cancel(self, job: Job) -> Response:
        if not self.engine.cancel(job):
            return json_response(
                {
                    "status": "ALREADY_COMPLETED",
                    "detail": f"Request {job.id} is already completed.",
                },
                400,
                _ids(job),
            )
        return json_response({"status": "CANCELLATION_REQUESTED"}, 202, _ids(job))
