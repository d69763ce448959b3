"""The dashboard's pages: server-rendered HTML of the engine's state. It reads the engine
and never changes it: every action in a page is a call to the control plane from the
browser (static/dashboard.js)."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from emulator.core.clock import ManualClock
from emulator.core.engine import Engine
from emulator.core.faults import EFFECTS, Fault
from emulator.core.file_urls import MEDIA_PREFIX
from emulator.core.jobs import Job
from emulator.core.record import mask_key
from emulator.core.registry import LAYOUTS
from emulator.http.cdn import SERVED_HEADERS, serve_file
from emulator.http.hosts import public_base
from emulator.http.ui import Results, Told, job_views, media_tiles, request_views
from emulator.http.ui.access import AdminOnly
from emulator.http.ui.forms import SUBMIT, form_fields
from emulator.http.ui.headers import SECURITY_HEADERS, SecurityHeaders
from emulator.http.ui.pages import page_number, paginate
from emulator.http.ui.thumbnails import Thumbnails
from emulator.media.links import Linker, url_linker

if TYPE_CHECKING:  # Jinja loads with the first page drawn, not with every server
    import jinja2
    from starlette.templating import Jinja2Templates

HERE = Path(__file__).parent
_MEDIA_ID = re.compile(r"[0-9a-f]{32}")
_SURROGATE = re.compile("[\ud800-\udfff]")
_DYNAMIC = {"Cache-Control": "no-store"}
#: a medium's headers: the CDN's, kept by the browser alone (SecurityHeaders adds nosniff)
_SERVED = {
    **{name: value for name, value in SERVED_HEADERS.items() if name != "X-Content-Type-Options"},
    "Cache-Control": "private, max-age=86400",
}


def _when(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return time.strftime("%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1000):03d}"


def _well_formed(value: Any) -> Any:
    """``value`` with each lone surrogate as U+FFFD: JSON's ``"\\udfff"`` decodes to one, and
    a page is UTF-8, which has no code for it (escaped markup stays marked up)."""
    if isinstance(value, str) and _SURROGATE.search(value):
        return type(value)(_SURROGATE.sub("\ufffd", value))
    return value


@functools.cache  # one for every dashboard, and for the page of an outage
def _environment() -> jinja2.Environment:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # everything shown is escaped: prompts and inputs are user data
        undefined=jinja2.StrictUndefined,
        finalize=_well_formed,  # everything shown can be sent: a user's input cannot stop a page
    )
    environment.filters["when"] = _when
    environment.filters["pretty"] = lambda value: _json(value, indent=2)
    environment.filters["compact"] = _json  # JSON as it reads (``tojson`` writes it for scripts)
    environment.filters["job_id"] = job_views.shown_id
    environment.globals.update(query_with=_query_with, mask_key=mask_key)
    return environment


def _json(value: Any, indent: int | None = None) -> str:
    """``value`` as JSON to read (escaped as any text on the page): a dataclass or named
    tuple (a validation error) as an object."""
    return json.dumps(_plain(value), indent=indent, ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict"):
        return {name: _plain(item) for name, item in value._asdict().items()}
    if isinstance(value, dict):
        return {str(name): _plain(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _query_with(asked: Mapping[str, str], **changes: object) -> str:
    """A query string: the filters ``asked`` (empty ones left out), ``changes`` applied."""
    merged = {**asked, **{name: str(value) for name, value in changes.items()}}
    return urlencode({name: value for name, value in merged.items() if value})


def _shown_rule(rule: Fault) -> dict[str, Any]:
    """A fault rule as the settings page shows it: the key it is for masked, as keys are
    everywhere the dashboard shows one."""
    shown = rule.as_dict()
    if "key" in shown:
        shown["key"] = mask_key(shown["key"])
    return shown


@dataclass(frozen=True)
class Links:
    """Where this dashboard, its control plane and the app's root are, for this request."""

    root: str  # the app's own root path ("" unless behind a proxy's prefix)

    @property
    def ui(self) -> str:
        return self.root + "/_emulator/ui"

    @property
    def control(self) -> str:
        return self.root + "/_emulator"


def outage_page(scope: Scope, message: str, headers: dict[str, str]) -> Response:
    """The page shown in place of a dashboard page while the state store is away: a 503,
    with ``headers`` and the dashboard's own (the outage answers outside its app)."""
    links = Links(scope.get("emulator.root_path", ""))
    page = _environment().get_template("outage.html").render(links=links, message=message)
    secured = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    return HTMLResponse(page, 503, {**headers, **_DYNAMIC, **secured})


class Dashboard:
    def __init__(
        self, engine: Engine, told: Told | None = None, results: Results | None = None
    ) -> None:
        """``told``: each provider's words to its clients for a job's failure; ``results``:
        what its result route answers for a finished job."""
        self.engine = engine
        self.told = told or {}
        self.results = results or {}
        self.thumbnails = Thumbnails(engine)

    @functools.cached_property
    def templates(self) -> Jinja2Templates:
        from starlette.templating import Jinja2Templates

        return Jinja2Templates(env=_environment())

    def app(self) -> ASGIApp:
        router = Router(self.routes(), default=self.not_found)
        guarded = AdminOnly(router, token=lambda: self.engine.config.admin_token)
        return SecurityHeaders(guarded)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home),
            Route("/jobs", self.jobs),
            Route("/jobs/rows", self.job_rows),
            Route("/jobs/{job_id}", self.job),
            Route("/gallery", self.gallery),
            Route("/thumbnails/{media_id}.jpg", self.thumbnail),
            Route("/media/{name}", self.medium),
            Route("/requests", self.requests),
            Route("/requests/rows", self.request_rows),
            Route("/settings", self.settings),
            Route("/endpoints", self.endpoints),
            Route("/endpoints/{provider}/{endpoint_id:path}", self.endpoint),
            Route("/login", self.login),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]

    # -- rendering -----------------------------------------------------------------------

    def _render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        links = Links(request.scope.get("emulator.root_path", ""))
        return self.templates.TemplateResponse(
            request, name, {"links": links, **context}, status, headers=_DYNAMIC
        )

    def _result(self, request: Request) -> job_views.Result | None:
        """What a job's provider's result route answers for it at this same address."""

        def answered(job: Job, link: Linker) -> Any:
            provider = job.endpoint.provider
            base = public_base(request, provider, self.engine.config.public_url)
            return self.results[provider](self.engine, job, link, base)

        return answered if self.results else None

    def _linker(self, request: Request, job: Job) -> Linker:
        """The linker a client of this same address gets: its outputs are already kept."""
        base = public_base(request, f"{job.endpoint.provider}/cdn", self.engine.config.public_url)
        return url_linker(self.engine.media, base)

    # -- pages ---------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        # a path alone: the address is the browser's own, never the Host header's say
        return RedirectResponse(request.url.path.rstrip("/") + "/jobs")

    def _job_page(self, request: Request) -> dict[str, Any]:
        asked = request.query_params
        state = asked.get("state", "")
        found = job_views.newest_jobs(
            self.engine, asked.get("provider", ""), asked.get("endpoint", "")
        )
        if state:
            job_state, look_of = job_views.job_state, job_views.look_of
            found = [job for job in found if job_state(job, look_of(self.engine, job)) == state]
        page = paginate(found, page_number(asked.get("page")))
        rows = [job_views.row(self.engine, job) for job in page.items]
        return {"page": page, "rows": rows, "asked": asked, "states": job_views.STATES}

    # Pages that read many jobs or requests are made in a worker thread: on a shared store
    # each costs round trips (a filtered page of 10,000 jobs on Redis, about 2 s), and
    # every other client of the process would wait them out on the event loop.

    async def jobs(self, request: Request) -> Response:
        page = await run_in_threadpool(self._job_page, request)
        return self._render(request, "jobs.html", providers=sorted(LAYOUTS), **page)

    async def job_rows(self, request: Request) -> Response:
        page = await run_in_threadpool(self._job_page, request)
        return self._render(request, "_job_rows.html", **page)

    async def job(self, request: Request) -> Response:
        job = job_views.find_job(self.engine, request.path_params["job_id"])
        if job is None:
            return self._render(request, "missing.html", 404, what="job")
        output, failure = await run_in_threadpool(
            job_views.outcome, self.engine, job, self._linker(request, job), self._result(request)
        )
        told = self.told.get(job.endpoint.provider)
        if failure is not None and told is not None:  # a bare error type has no words of its own
            failure = failure._replace(message=told(failure))
        row = job_views.row(self.engine, job)  # after its outcome: a failed output shows
        return self._render(
            request,
            "job.html",
            row=row,
            timeline=job_views.timeline(self.engine, job, row.look),
            payload=job_views.shortened(job.payload),
            output=job_views.shortened(output),
            failure=failure,
        )

    async def gallery(self, request: Request) -> Response:
        page = await run_in_threadpool(
            media_tiles.tiles,
            self.engine,
            functools.partial(self._linker, request),
            page_number(request.query_params.get("page")),
        )
        return self._render(request, "gallery.html", page=page)

    async def thumbnail(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        data = (
            await run_in_threadpool(self.thumbnails.of, media_id)
            if _MEDIA_ID.fullmatch(media_id)
            else None
        )
        if data is None:
            return Response("no such medium", 404, media_type="text/plain")
        return Response(data, 200, {"Cache-Control": "private, max-age=86400"}, "image/jpeg")

    async def medium(self, request: Request) -> Response:
        """A gallery's medium, as the CDN serves it (ranges to seek in a video included),
        but no CDN's: the dashboard must not use up a test's media fault rules, nor add to
        its request record. Private: with an admin token, only its holder was answered."""
        name = request.path_params["name"]
        found = None
        if _MEDIA_ID.fullmatch(name.partition(".")[0]):
            found = await serve_file(self.engine, MEDIA_PREFIX + name, request, served=_SERVED)
        return found or Response("no such medium", 404, media_type="text/plain")

    def _request_page(self, request: Request) -> dict[str, Any]:
        asked = request.query_params
        found = request_views.newest_requests(self.engine, asked)
        page = paginate(found, page_number(asked.get("page")))
        origin = f"{request.url.scheme}://{request.url.netloc}" + request.scope.get(
            "emulator.root_path", ""
        )
        shown = [
            {
                "entry": e,
                "curl": request_views.as_curl(e, origin),
                "body": request_views.body_text(e),
            }
            for e in page.items
        ]
        return {"page": page, "shown": shown, "asked": asked}

    async def requests(self, request: Request) -> Response:
        page = await run_in_threadpool(self._request_page, request)
        return self._render(request, "requests.html", providers=sorted(LAYOUTS), **page)

    async def request_rows(self, request: Request) -> Response:
        page = await run_in_threadpool(self._request_page, request)
        return self._render(request, "_request_rows.html", **page)

    async def settings(self, request: Request) -> Response:
        clock = self.engine.clock
        return self._render(
            request,
            "settings.html",
            rules=[_shown_rule(rule) for rule in self.engine.faults.rules],
            effects=EFFECTS,
            providers=sorted(LAYOUTS),
            progression=str(self.engine.progression),
            manual_clock=isinstance(clock, ManualClock),
            now=clock.now(),
            wall=clock.wall(),
            seed=self.engine.seed,
        )

    async def endpoints(self, request: Request) -> Response:
        """Every endpoint served, the catalogue's too (listed without building any)."""
        query = request.query_params.get("q", "").strip().lower()
        found = [
            row
            for row in self.engine.contracts.listing()
            if not query or query in row["id"].lower() or query in (row["category"] or "").lower()
        ]
        found.sort(key=lambda row: (row["provider"], row["id"]))
        page = paginate(found, page_number(request.query_params.get("page")))
        return self._render(request, "endpoints.html", page=page, query=query)

    async def endpoint(self, request: Request) -> Response:
        provider, endpoint_id = request.path_params["provider"], request.path_params["endpoint_id"]
        endpoint = self.engine.contracts.get(provider, endpoint_id)
        if endpoint is None or provider not in SUBMIT:
            return self._render(request, "missing.html", 404, what="endpoint")
        path, scheme = SUBMIT[provider]
        return self._render(
            request,
            "endpoint.html",
            endpoint=endpoint,
            info=endpoint.document.get("info", {}),
            fields=form_fields(endpoint),
            submit_path=path.format(id=endpoint.id),
            scheme=scheme,
        )

    async def login(self, request: Request) -> Response:
        return self._render(request, "login.html")

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A path the dashboard has no page at: its own page saying so, with its menu (it
        was the router's plain text, a page to leave by the browser's back button)."""
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)
            return
        page = self._render(Request(scope), "missing.html", 404, what="page")
        await page(scope, receive, send)
