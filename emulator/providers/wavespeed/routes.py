"""WaveSpeed's v3 prediction API and CDN, over the engine.

``/wavespeed/…`` stands for ``https://api.wavespeed.ai/…``; generated media is served under
``/wavespeed/cdn/…``, standing for WaveSpeed's CloudFront output host.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope

from emulator.config import EmulatorConfig
from emulator.contracts.documents import Endpoint
from emulator.core.engine import Engine
from emulator.core.file_urls import parse_upload_path
from emulator.core.holds import TooManyHeld
from emulator.core.jobs import Job
from emulator.core.lifecycle import Phase
from emulator.core.timeline import Look
from emulator.core.webhook_targets import is_webhook_url
from emulator.http.asgi import disconnected, note_endpoint
from emulator.http.bodies import query_value, read_payload, retained_size
from emulator.http.cdn import cdn_path, download, run_linked
from emulator.http.hosts import public_base, scope_base
from emulator.http.prefixed import PrefixedRoutes
from emulator.http.responses import (
    ALL_METHODS,
    HandlerApp,
    RawHeaders,
    encode_json,
    encoded_json_response,
    json_headers,
    json_response,
)
from emulator.http.submits import offloads
from emulator.media.links import Linker, url_linker
from emulator.providers.wavespeed.account import WaveSpeedAccount
from emulator.providers.wavespeed.auth import caller
from emulator.providers.wavespeed.envelopes import (
    deleted_prediction,
    envelope,
    finished_prediction,
    outputs_linker,
    pending_answer,
    prediction,
    result_url,
    task_id,
    wants_inline,
)
from emulator.providers.wavespeed.errors import (
    WaveSpeedError,
    answer,
    method_not_allowed,
    only,
    validation_error,
)
from emulator.providers.wavespeed.paths import API, ModelRoute, job_id_of
from emulator.providers.wavespeed.uploads import WaveSpeedUploads
from emulator.providers.wavespeed.webhooks import WaveSpeedWebhooks

#: Why a prediction the emulator had is gone (a guess: WaveSpeed's wording was not observed).
EXPIRED = "its result is no longer kept (retention or memory budget passed)"
#: How many encoded answers of finished predictions are remembered.
DONE_MEMO_SIZE = 4096
#: How often a sync-mode request looks at its job.
SYNC_TICK = 0.02
BASE64_WITH_WEBHOOK = (
    "webhook callback does not support base64 output, please use the normal API to use "
    "base64 output"
)


def _still_processing(data: dict[str, Any], why: str) -> dict[str, Any]:
    """The documented answer of a sync-mode wait cut short: the prediction goes on."""
    data["status"] = "processing"  # as documented, whether queued or running
    data["code"] = 5004
    data["error"] = f"{why} The prediction is still processing asynchronously."
    return data


def _not_found(what: str) -> WaveSpeedError:
    return WaveSpeedError(404, f"{what} not found")


class WaveSpeedApi:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.webhooks = WaveSpeedWebhooks(engine)
        self.uploads = WaveSpeedUploads(
            engine, lambda request: public_base(request, "wavespeed/cdn", self.config.public_url)
        )
        # A finished prediction answers every later poll alike: its encoding is memoised.
        self._done_answers: dict[tuple[Any, ...], tuple[bytes, RawHeaders]] = {}

    @property
    def config(self) -> EmulatorConfig:
        return self.engine.config  # read afresh: controls may replace it at run time

    def routes(self) -> list[BaseRoute]:
        return [PrefixedRoutes("/wavespeed/", self._routes())]

    def _routes(self) -> list[BaseRoute]:
        submit = HandlerApp(self._not_posted, answer, post=self.submit)
        named = [
            # before a prediction's own path: ``predictions/delete`` is not a prediction id
            *WaveSpeedAccount(self.engine).routes(),
            Route(
                "/wavespeed/api/v3/predictions/{task}",
                HandlerApp(self.result, answer),
                methods=ALL_METHODS,
            ),
            Route(
                "/wavespeed/api/v3/webhook/secret",
                HandlerApp(only("GET", self.webhook_secret), answer),
                methods=ALL_METHODS,
            ),
            Route(
                "/wavespeed/api/v3/upload",
                HandlerApp(only("POST", self.upload), answer),
                methods=ALL_METHODS,
            ),
            Route(
                "/wavespeed/api/v3/media/{kind:path}",
                HandlerApp(self.media, answer),
                methods=ALL_METHODS,
            ),
        ]
        return [
            # first, the hot paths: no other route has the result's shape, and a model's
            # path starts with no word another API route starts with
            Route(
                "/wavespeed/api/v3/predictions/{task}/result",
                HandlerApp(self.result, answer),
                methods=ALL_METHODS,
            ),
            ModelRoute(submit, reserved=named),
            *named,
            # what is left under the API, a model path under a reserved word: as before
            Route(API + "{model:path}", submit, methods=ALL_METHODS),
            Route("/wavespeed/cdn/{path:path}", HandlerApp(self.cdn, answer), methods=ALL_METHODS),
        ]

    # -- helpers -------------------------------------------------------------------------

    def _api(self, scope: Scope) -> str:
        return scope_base(scope, "wavespeed", self.config.public_url)

    def _result_url(self, scope: Scope, job: Job) -> str:
        return result_url(self._api(scope), task_id(job))

    def _linker(self, scope: Scope, job: Job) -> Linker:
        cdn = scope_base(scope, "wavespeed/cdn", self.config.public_url)
        return outputs_linker(job, url_linker(self.engine.media, cdn))

    async def _prediction(self, scope: Scope, job: Job, look: Look | None = None) -> dict[str, Any]:
        """The prediction now; ``look`` is the job's, if the caller has just polled it."""
        if look is None:
            look = self.engine.look(job)
        url = self._result_url(scope, job)
        if look.phase is not Phase.DONE:
            return prediction(self.engine, job, look, url)
        linker = self._linker(scope, job)
        return await run_linked(
            functools.partial(self._finished, job, url),
            linker,
            made=self.engine.outcome_made(job, linker),
        )

    def _finished(self, job: Job, result_url: str, link: Linker) -> dict[str, Any]:
        """The prediction of a finished job: its outputs, or its failure."""
        return finished_prediction(self.engine, job, result_url, link)

    # -- the API -------------------------------------------------------------------------

    async def _not_posted(self, request: Request) -> Response:
        """Anything but a POST under the API: 405 on a model's path, 404 on a path that
        names no model (a mistyped API path: a 405 would send its caller to POST it)."""
        model = request.path_params["model"].strip("/")
        if self.engine.contracts.get("wavespeed", model) is None:
            raise _not_found(f"{request.method} /api/v3/{model}")
        raise method_not_allowed("POST")

    async def submit(self, scope: Scope, receive: Receive) -> Response:
        """``POST /api/v3/{model}``: a new prediction. The hot path: read from the ASGI scope
        and ``receive`` themselves, no Starlette `Request` built (`HandlerApp`)."""
        config = self.config  # a property: read once (issue 17)
        owner = caller(scope, config)
        model = scope["path_params"]["model"].strip("/")
        endpoint = self.engine.contracts.get("wavespeed", model)
        if endpoint is None:
            self.engine.unknown_ids.note("wavespeed", model)
            raise _not_found(f"Model '{model}'")
        note_endpoint(scope, endpoint.id)
        payload = await read_payload(scope, receive, config)
        violations = self.engine.violations(endpoint, payload)
        if violations:
            raise validation_error(violations)
        webhook = query_value(scope, "webhook") or payload.get("webhook_url")
        if webhook and payload.get("enable_base64_output") is True:
            # WaveSpeed words this refusal {"error": …}; sent beside the usual envelope, the
            # body is both that and the contracts' ErrorResponse.
            body = {"code": 400, "message": BASE64_WITH_WEBHOOK, "data": None}
            raise WaveSpeedError(400, BASE64_WITH_WEBHOOK, {**body, "error": BASE64_WITH_WEBHOOK})
        if webhook and not is_webhook_url(webhook):
            raise WaveSpeedError(
                400, f"Invalid parameters: webhook must be an http(s) URL, not {webhook!r}"
            )
        if payload.get("enable_sync_mode") is True:
            return await self._submit_and_wait(scope, receive, endpoint, payload, owner, webhook)
        if webhook or self.engine.store is not None:
            job = await self._submit(scope, endpoint, payload, owner, webhook)
        else:  # in memory, nothing to watch (nearly every submit): `_submit` without its
            # coroutine and its call to `offloads`, 1,700 instructions (issue 17)
            size = retained_size(scope)  # the webhook too: an empty one is kept as sent
            job = self.engine.submit(
                endpoint, payload, owner, webhook=webhook, size=size, checked=True
            )
        look = self.engine.look(job)
        if look.phase is not Phase.DONE:  # as nearly every new job: no coroutine (issue 17)
            return self._pending(scope, job, look)
        return await self._answer(scope, job, look)

    async def _submit_and_wait(
        self,
        scope: Scope,
        receive: Receive,
        endpoint: Endpoint,
        payload: dict[str, Any],
        owner: str,
        webhook: str | None,
    ) -> Response:
        """Sync mode: the wait is held for the key before its prediction is made, so that
        a key holding as many as it may is refused with nothing made (a 429)."""
        try:
            with self.engine.holds.held(owner, self.config.max_held_per_key):
                job = await self._submit(scope, endpoint, payload, owner, webhook)
                return json_response(envelope(await self._wait(scope, receive, job)))
        except TooManyHeld as refused:  # raised only on entering: nothing was made
            raise WaveSpeedError(429, str(refused), headers={"Retry-After": "1"}) from None

    async def _submit(
        self,
        scope: Scope,
        endpoint: Endpoint,
        payload: dict[str, Any],
        owner: str,
        webhook: str | None,
    ) -> Job:
        size = retained_size(scope)
        if offloads(self.engine, scope):
            job = await run_in_threadpool(
                self.engine.submit, endpoint, payload, owner, webhook=webhook, size=size,
                checked=True,
            )  # fmt: skip
        else:  # at once, as nearly all are (a partial for both ways cost 1.7 % a submit)
            job = self.engine.submit(
                endpoint, payload, owner, webhook=webhook, size=size, checked=True
            )
        if webhook:
            result_url = self._result_url(scope, job)
            finished = functools.partial(self._finished, job, result_url, self._linker(scope, job))
            bases = {"result": result_url}
            if not wants_inline(job):
                bases["cdn"] = scope_base(scope, "wavespeed/cdn", self.config.public_url)
            self.webhooks.watch(job, webhook, finished, bases)
        return job

    async def _wait(self, scope: Scope, receive: Receive, job: Job) -> dict[str, Any]:
        """Sync mode: the finished prediction, or the documented 5004 answer at the limit,
        or when the wait is called off (the server shutting down, the client gone: a
        wait held for no one polled on until its limit)."""
        gone = asyncio.ensure_future(disconnected(receive))
        try:
            async with asyncio.timeout(self.config.sync_timeout):
                async for _ in self.engine.polls(job, SYNC_TICK):
                    if gone.done():
                        break
        except TimeoutError:
            waited = self.config.sync_timeout
            why = f"Sync mode timed out after {waited:g} second{'' if waited == 1 else 's'}."
            return _still_processing(await self._prediction(scope, job), why)
        except asyncio.CancelledError:
            # Whoever cancels the wait drops the request: the server, once its graceful
            # shutdown has waited long enough (uvicorn then cancels every open request,
            # and answers a bare text/plain 500 for one that lets the cancellation
            # through), or an in-process caller that gave up (no one reads this answer).
            # The job was accepted and goes on (a shared store keeps it), so the answer
            # is the one for a wait cut short: the 5004 prediction, with its id to poll.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # handled here: later awaits of the answer are not cut short
            look = self.engine.look(job)
            url = self._result_url(scope, job)
            why = "Sync mode ended early: the emulator is shutting down."
            return _still_processing(prediction(self.engine, job, look, url), why)
        finally:
            gone.cancel()
        return await self._prediction(scope, job)

    async def result(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise method_not_allowed("GET", "HEAD")
        owner = caller(request.scope, self.config)
        job_id = job_id_of(request.path_params["task"])
        if job_id is None:
            raise _not_found("Prediction")
        job = self.engine.find(job_id, owner, polling=True)
        if job is not None and job.endpoint.provider != "wavespeed":
            job = None  # the key's fal job, under the same id: no prediction of WaveSpeed's
        if job is None and self.engine.expired(job_id, owner):
            raise WaveSpeedError(404, f"Prediction expired: {EXPIRED}")
        if job is None:
            raise _not_found("Prediction")
        note_endpoint(request.scope, job.endpoint.id)
        if job.deleted:
            url = self._result_url(request.scope, job)
            return json_response(envelope(deleted_prediction(self.engine, job, url)))
        look = self.engine.poll(job)
        linker = self._linker(request.scope, job)
        if look.phase is Phase.DONE and self.engine.outcome_made(job, linker):
            encoded, headers = self._done_answer(request.scope, job, look, linker)
            return encoded_json_response(encoded, 200, headers)
        return await self._answer(request.scope, job, look)

    async def _answer(self, scope: Scope, job: Job, look: Look) -> Response:
        """The prediction as ``look`` finds it, in the envelope."""
        if look.phase is not Phase.DONE:
            return self._pending(scope, job, look)
        return json_response(envelope(await self._prediction(scope, job, look)))

    def _pending(self, scope: Scope, job: Job, look: Look) -> Response:
        """`_answer` of a prediction neither done nor failed."""
        encoded = pending_answer(job, look, self._api(scope))
        return encoded_json_response(encoded, 200, json_headers(encoded))

    def _done_answer(
        self, scope: Scope, job: Job, look: Look, linker: Linker
    ) -> tuple[bytes, RawHeaders]:
        """The encoded answer (body and headers) of a finished job whose output is kept:
        the same for every poll with the same values in it."""
        url = self._result_url(scope, job)
        key = (job.id, url, linker, self.engine.inference_time(job, look))
        answer = self._done_answers.get(key)
        if answer is None:
            if len(self._done_answers) >= DONE_MEMO_SIZE:
                self._done_answers.clear()
            encoded = encode_json(envelope(self._finished(job, url, linker)))
            answer = self._done_answers[key] = encoded, json_headers(encoded)
        return answer

    async def webhook_secret(self, request: Request) -> Response:
        return json_response(
            envelope({"secret": self.webhooks.secret(caller(request.scope, self.config))})
        )

    async def media(self, request: Request) -> Response:
        """``media/uploads`` (a ticket) and ``media/upload/binary`` (a form)."""
        if request.method != "POST":
            raise method_not_allowed("POST")
        owner = caller(request.scope, self.config)
        kind = request.path_params["kind"]
        if kind == "uploads":
            return await self.uploads.ticket(request, owner)
        if kind == "upload/binary":
            return await self.uploads.binary(request, owner)
        raise WaveSpeedError(404, "Not Found")  # as any other path the API does not have

    async def upload(self, request: Request) -> Response:
        """``POST /api/v3/upload``: the documented form upload, answering ``data.url``."""
        response = await self.uploads.binary(request, caller(request.scope, self.config))
        data = json.loads(bytes(response.body))["data"]
        return json_response(envelope({**data, "url": data["download_url"]}))

    async def cdn(self, request: Request) -> Response:
        path = cdn_path(request)
        if request.method in ("GET", "HEAD"):
            response = await download(self.engine, "wavespeed", path, request)
            if response is None:
                raise _not_found("File")
            return response
        upload = parse_upload_path(path)
        if request.method == "PUT" and upload is not None and not upload.multipart_id:
            return await self.uploads.put(request, upload)
        raise method_not_allowed(*(("GET", "HEAD", "PUT") if upload else ("GET", "HEAD")))
