"""fal's surfaces over the engine: the sync run and the REST API's routes here, the queue
in `queue` (whose helpers the run shares), the CDN's routes (their uploads and tokens in
`uploads` and `tokens`).

``/fal/queue/…`` stands for ``https://queue.fal.run/…``, ``/fal/run/…`` for
``https://fal.run/…``, ``/fal/cdn/…`` for ``https://v3.fal.media/…`` and ``/fal/rest/…`` for
``https://rest.fal.ai/…``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from emulator.contracts.query_input import query_input
from emulator.core.engine import Engine
from emulator.core.jobs import Failure, Job
from emulator.core.timeline import QUEUE_TIMEOUT, START_TIMEOUT
from emulator.http.asgi import held_while_connected, note_endpoint
from emulator.http.bodies import read_payload
from emulator.http.responses import ALL_METHODS, HandlerApp, json_response
from emulator.providers.fal.auth import caller
from emulator.providers.fal.discovery import FalDiscovery
from emulator.providers.fal.errors import FalError, answer, failure_response, method_not_allowed
from emulator.providers.fal.platform import platform_options
from emulator.providers.fal.proxy import PROXY_PATH, FalProxy
from emulator.providers.fal.queue import FalQueue
from emulator.providers.fal.realtime import RealtimeSessions
from emulator.providers.fal.streams import run_stream
from emulator.providers.fal.uploads import FalUploads

#: how a sync run ends whose client left during it (recorded; no one reads it)
CLIENT_GONE = Failure("client_disconnected", "The client disconnected before the run ended")


class FalApi(FalQueue):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.uploads = FalUploads(engine, lambda request: self._base(request.scope, "fal/cdn"))
        self.realtime = RealtimeSessions(engine, self.tokens)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/fal/queue/{path:path}",
                HandlerApp(self.queue, answer, quick=self.quick_status, post=self.submit),
                methods=ALL_METHODS,
            ),
            Route("/fal/run/{path:path}", HandlerApp(self.run, answer), methods=ALL_METHODS),
            WebSocketRoute("/fal/run/{path:path}", self.realtime.session),
            Route(
                "/fal/cdn/{path:path}", HandlerApp(self.uploads.cdn, answer), methods=ALL_METHODS
            ),
            Route("/fal/rest/{path:path}", HandlerApp(self.rest, answer), methods=ALL_METHODS),
            Route(PROXY_PATH, FalProxy(self.config.proxy_key), methods=ALL_METHODS),
            *FalDiscovery(self.engine).routes(),
        ]

    # -- sync run and media --------------------------------------------------------------

    async def run(self, request: Request) -> Response:
        """``POST fal.run/{id}``: the output; ``POST fal.run/{id}/stream``: as SSE. A GET
        (``fal_client.run(…, method="GET")``) takes its input from the query string, typed as
        its contract declares (`query_input`)."""
        if request.method not in ("POST", "GET"):
            raise method_not_allowed("GET", "POST")
        path = request.path_params["path"].strip("/")
        owner = self.tokens.owner(request, path)  # a client-mode `fal.stream` sends a token
        streamed = path.endswith("/stream") and self.engine.contracts.get("fal", path[:-7])
        endpoint = self._endpoint(path[:-7] if streamed else path)
        note_endpoint(request.scope, endpoint.id)
        platform = platform_options(request.scope)
        if request.method == "GET":
            payload: Any = query_input(endpoint, request.query_params.multi_items())
        else:
            payload = await read_payload(request.scope, request.receive, self.config)
        job = self.engine.submit(
            endpoint, payload, owner, queued=False, queue_weight=platform.queue_weight
        )
        unmade = await self._unmade(request, job, owner, platform.start_timeout)
        if unmade is not None:
            return unmade
        response = await self._output(request, job)
        if response.status_code != 200:
            return response  # an invalid input is answered at once, as JSON
        hold = self.engine.run_hold(job)  # the model's wait and run
        if streamed:
            self._hold(owner)
            give_back = functools.partial(self.engine.holds.give_back, owner)
            return run_stream(bytes(response.body), hold, job.id, give_back)
        if hold and not await self._held(request, owner, hold):
            return failure_response(CLIENT_GONE, job.id)  # no one is left to read an answer
        return response

    async def _unmade(
        self, request: Request, job: Job, owner: str, start_timeout: float | None
    ) -> Response | None:
        """The answer of a run whose job never gets to its output, when it is answered: in
        its queue past the caller's start timeout, starved there (held while its client
        stays, up to `sync_timeout`: a guess, fal's own bound is not documented), or cut
        short by its fault as it leaves the queue."""
        delay = self.engine.start_delay(job)
        if start_timeout is not None and delay > start_timeout:
            wait = self.engine.deadline_hold(start_timeout)  # fal holds it until its deadline
            if wait and not await self._held(request, owner, wait):
                return failure_response(CLIENT_GONE, job.id)
            return failure_response(START_TIMEOUT, job.id)
        if math.isinf(delay):
            stayed = await self._held(request, owner, self.config.sync_timeout)
            return failure_response(QUEUE_TIMEOUT if stayed else CLIENT_GONE, job.id)
        cut_short = self.engine.cut_short(job)
        if cut_short is None:
            return None
        wait = self.engine.queue_hold(job)  # it ends as it would leave the queue
        if wait and not await self._held(request, owner, wait):
            return failure_response(CLIENT_GONE, job.id)
        return failure_response(cut_short, job.id)

    async def _held(self, request: Request, owner: str, seconds: float) -> bool:
        """Hold the request ``seconds``, and one of its key's slots meanwhile: whether its
        client stayed to the end."""
        self._hold(owner)
        try:
            return await held_while_connected(request.receive, seconds)
        finally:
            self.engine.holds.give_back(owner)

    async def rest(self, request: Request) -> Response:
        """``rest.fal.ai``: storage tokens and uploads, client tokens, the webhook keys."""
        path = request.path_params["path"].strip("/")
        if path == "tokens":
            if request.method != "POST":
                raise method_not_allowed("POST")
            return await self.tokens.answer(request, caller(request.scope, self.config))
        if path == ".well-known/jwks.json" and request.method in ("GET", "HEAD"):
            return json_response(self.webhooks.jwks)
        if path in (
            "storage/auth/token",
            "storage/upload/initiate",
            "storage/upload/initiate-multipart",
        ):
            if request.method != "POST":
                raise method_not_allowed("POST")
            owner = caller(request.scope, self.config)
            if path == "storage/auth/token":
                return self.uploads.token(request, owner)
            multipart = path.endswith("multipart")
            return await self.uploads.initiate(request, owner, multipart=multipart)
        raise FalError.detail(404, "Not Found")
