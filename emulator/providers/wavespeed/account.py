"""WaveSpeed's account and catalogue APIs, which its CLI and MCP server call.

Shapes from WaveSpeedAI's MCP server (``src/lib/api.ts``: models, balance, model price),
its desktop app (``wavespeed-desktop``, ``src/api/client.ts``: history's ISO 8601
``created_after``/``created_before`` and ``total``, pricing's ``unit_price``), the protocol
notes (wavespeed-protocol.md §3.6: history, delete) and public client code
(billings search, usage statistics, ``POST /api/v3/upload`` returning ``data.url``).
A run costs what its contract publishes (``info.x-emulator-price``, per image, second or
call, counted from the run's input as the live harness's spend cap counts it), else the
contract's ``x-wavespeed-metadata.base_price`` a run, else a guessed default by kind.
Guessed, and marked so below: those defaults, the starting balance, the delete answer, the
usage statistics' fields beyond ``summary.total_cost`` and ``daily_usage[].{date, amount}``.

Everything is per key: a key sees its own predictions and its own spend. Reading a key's
jobs takes up to ``max_jobs_per_key`` of them (with a shared store, round trips), so it is
done in a worker thread: a key with a long history holds up no other request.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from emulator.contracts.documents import Endpoint
from emulator.contracts.kinds import category_kind
from emulator.contracts.prices import Price, cost, published_price
from emulator.core.engine import Engine
from emulator.core.jobs import Job
from emulator.core.lifecycle import Phase
from emulator.http.bodies import read_payload
from emulator.http.hosts import public_base
from emulator.http.responses import ALL_METHODS, HandlerApp, json_response
from emulator.media.links import Linker, url_linker
from emulator.providers.wavespeed.auth import caller
from emulator.providers.wavespeed.envelopes import (
    STATUS_NAMES,
    created_at,
    envelope,
    finished_prediction,
    task_id,
    wants_inline,
)
from emulator.providers.wavespeed.errors import WaveSpeedError, answer, only
from emulator.providers.wavespeed.paths import job_id_of

#: GUESS: what a new key's balance is, in USD
STARTING_BALANCE = 100.0
#: GUESS: USD per run by the kind a model makes, when its contract names no price
DEFAULT_PRICES = {"image": 0.03, "video": 0.3, "audio": 0.02, "mesh": 0.2, None: 0.01}
MAX_PAGE_SIZE = 100


def _price(endpoint: Endpoint) -> Price:
    """The model's price: published in its contract, else its base price a run, else the
    guessed default of its kind a run."""
    published = published_price(endpoint)
    if published is not None:
        return published
    metadata = endpoint.document.get("info", {}).get("x-wavespeed-metadata", {})
    base = metadata.get("base_price")
    if isinstance(base, (int, float)) and not isinstance(base, bool):
        return Price(float(base), "call", "x-wavespeed-metadata.base_price")
    guess = DEFAULT_PRICES.get(category_kind(endpoint.category), DEFAULT_PRICES[None])
    return Price(guess, "call", "GUESS: the default of its kind")


def _cost(endpoint: Endpoint, inputs: Any) -> float:
    """What one run with ``inputs`` costs: the price times the units the run uses, counted
    from the fields its contract declares (one it ignores, say ``num_images`` sent to a
    model that makes one image, makes nothing more and costs nothing more)."""
    declared = endpoint.resolve(endpoint.input_schema).get("properties", {})
    given = inputs if isinstance(inputs, Mapping) else {}
    return cost(endpoint, _price(endpoint), {k: v for k, v in given.items() if k in declared})


def _job_cost(job: Job) -> float:
    return _cost(job.endpoint, job.payload)


def _instant(body: Mapping[str, Any], name: str) -> float | None:
    """``body[name]``, an ISO 8601 time (WaveSpeed's desktop client sends
    ``Date.toISOString()``), in unix seconds; None when it is not given."""
    text = body.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise WaveSpeedError(400, f"Invalid parameters: {name} must be an ISO 8601 time")
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _inlined(endpoint: Endpoint, schema: Any, depth: int = 0) -> Any:
    """``schema`` with its local ``$ref`` pointers replaced by what they point at."""
    if depth > 16:
        return {}
    if isinstance(schema, Mapping):
        resolved = endpoint.resolve(schema) if "$ref" in schema else schema
        return {k: _inlined(endpoint, v, depth + 1) for k, v in resolved.items()}
    if isinstance(schema, list):
        return [_inlined(endpoint, v, depth + 1) for v in schema]
    return schema


def _page(body: Mapping[str, Any]) -> tuple[int, int]:
    page, size = body.get("page", 1), body.get("page_size", 20)
    if type(page) is not int or type(size) is not int or page < 1 or size < 1:
        raise WaveSpeedError(400, "Invalid parameters: page and page_size are positive integers")
    return page, min(size, MAX_PAGE_SIZE)


class WaveSpeedAccount:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[BaseRoute]:
        api = "/wavespeed/api/v3"
        handlers = [
            ("/balance", self.balance, "GET"),
            ("/models", self.models, "GET"),
            ("/model/price", self.price, "POST"),
            ("/model/pricing", self.price, "POST"),  # the CLI's name for it
            ("/predictions", self.history, "POST"),
            ("/predictions/delete", self.delete, "POST"),
            ("/billings/search", self.billings, "POST"),
            ("/user/usage_stats", self.usage, "POST"),
        ]
        return [
            Route(api + path, HandlerApp(only(method, handler), answer), methods=ALL_METHODS)
            for path, handler, method in handlers
        ]

    # -- what a key did (read in a worker thread: see the module's docstring) -----------

    def _jobs(self, owner: str) -> list[Job]:
        """The key's own WaveSpeed jobs (read from its own list: never a walk of all jobs)."""
        kept = self.engine.jobs.page(0, self.engine.config.max_jobs_per_key, owner)
        return [job for job in kept if job.endpoint.provider == "wavespeed"]

    def _newest(self, owner: str) -> Iterator[Job]:
        """The key's own listed WaveSpeed jobs, newest first, read as they are taken (a
        caller that stops early reads no more)."""
        seen: set[str] = set()
        for job in self.engine.jobs.newest(self.engine.config.max_jobs_per_key, owner):
            # a job submitted meanwhile shifts the store's chunks: one may come twice
            if job.endpoint.provider == "wavespeed" and not job.deleted and job.id not in seen:
                seen.add(job.id)
                yield job

    def _charged(self, owner: str, link: Linker) -> list[Job]:
        """Jobs that cost money: completed, as their results say (deleted ones were still
        paid; a failed or cancelled one costs nothing)."""
        return [job for job in self._jobs(owner) if self._status(job, link) == "completed"]

    def _status(self, job: Job, link: Linker) -> str:
        return self._result(job, link)[0]

    def _result(self, job: Job, link: Linker) -> tuple[str, list[Any]]:
        """The status and outputs its result gives, read once: a finished job whose output
        failed (a staged failure, an unreadable input) failed, though its run ended. The
        outputs are a completed job's (WaveSpeed's desktop app shows them beside its
        history). GUESS: none for one that asked for base64, whose result carries whole
        files."""
        if job.failure is not None:
            return ("cancelled" if job.failure.kind == "cancelled" else "failed"), []
        look = self.engine.look(job)
        if look.phase is not Phase.DONE and look.failure is None:
            return STATUS_NAMES[look.phase], []
        finished = finished_prediction(self.engine, job, "", link)
        status = str(finished["status"])
        if status != "completed" or wants_inline(job):
            return status, []
        return status, list(finished.get("outputs", []))

    def _link(self, request: Request) -> Linker:
        cdn = public_base(request, "wavespeed/cdn", self.engine.config.public_url)
        return url_linker(self.engine.media, cdn)

    def _item(self, job: Job, with_inputs: bool, link: Linker) -> dict[str, Any]:
        status, outputs = self._result(job, link)
        item = {
            "id": task_id(job),
            "model": job.endpoint.id,
            "status": status,
            "created_at": created_at(job),
            "outputs": outputs,
        }
        if with_inputs:
            item["input"] = job.payload
        return item

    async def _body(self, request: Request) -> dict[str, Any]:
        payload = await read_payload(request.scope, request.receive, self.engine.config)
        if not isinstance(payload, dict):
            raise WaveSpeedError(400, "Invalid parameters: expected a JSON object")
        return payload

    # -- the API -------------------------------------------------------------------------

    async def balance(self, request: Request) -> Response:
        owner, link = caller(request.scope, self.engine.config), self._link(request)
        spent = await run_in_threadpool(lambda: sum(map(_job_cost, self._charged(owner, link))))
        return json_response(envelope({"balance": round(STARTING_BALANCE - spent, 6)}))

    async def models(self, request: Request) -> Response:
        caller(request.scope, self.engine.config)
        return json_response(
            envelope([self._model(e) for e in self.engine.contracts.of("wavespeed")])
        )

    def _model(self, endpoint: Endpoint) -> dict[str, Any]:
        schema = _inlined(endpoint, endpoint.resolve(endpoint.input_schema))
        metadata = endpoint.document.get("info", {}).get("x-wavespeed-metadata", {})
        request_schema = {**schema, "x-order-properties": list(schema.get("properties", {}))}
        return {
            "model_id": endpoint.id,
            "name": metadata.get("name", endpoint.id),
            "description": endpoint.document.get("info", {}).get("description", ""),
            "type": endpoint.category,
            "base_price": _price(endpoint).usd,  # a unit's: an image's, a second's, a run's
            "formula": "",  # GUESS: a fixed price has no JSONata formula
            "api_schema": {"api_schemas": [{"request_schema": request_schema}]},
        }

    async def price(self, request: Request) -> Response:
        """What one run with ``inputs`` costs: what the balance is charged for it."""
        caller(request.scope, self.engine.config)
        body = await self._body(request)
        model, inputs = body.get("model_id"), body.get("inputs", {})
        if not isinstance(model, str) or not model:
            raise WaveSpeedError(400, "Invalid parameters: model_id must be a model's id")
        endpoint = self.engine.contracts.get("wavespeed", model)
        if endpoint is None:
            raise WaveSpeedError(404, f"Model '{model}' not found")
        if not isinstance(inputs, dict):
            raise WaveSpeedError(400, "Invalid parameters: inputs must be a JSON object")
        price = _cost(endpoint, inputs)
        if not math.isfinite(price):
            raise WaveSpeedError(400, "Invalid parameters: inputs ask for too many units")
        # ``unit_price`` is what WaveSpeed's desktop client reads of /model/pricing
        quote = {"model_id": model, "price": price, "discounted_price": price, "unit_price": price}
        return json_response(envelope({**quote, "discount_rate": 0, "currency": "USD"}))

    async def history(self, request: Request) -> Response:
        """A page of the key's predictions, newest first, and how many pass the filters
        (``total``, which WaveSpeed's desktop client pages by). Jobs are read newest first
        down to ``created_after`` (which that client always sends: the last day), so a
        window reads only the jobs in it."""
        owner = caller(request.scope, self.engine.config)
        body = await self._body(request)
        page, size = _page(body)
        model, status = body.get("model"), body.get("status")
        after, before = _instant(body, "created_after"), _instant(body, "created_before")
        with_inputs = body.get("include_inputs") is True
        link = self._link(request)

        def wanted(job: Job) -> bool:
            return (
                (not isinstance(model, str) or job.endpoint.id == model)
                and (before is None or job.submitted_wall <= before)
                and (not isinstance(status, str) or self._status(job, link) == status)
            )

        def read() -> tuple[list[dict[str, Any]], int]:
            items, total, first = [], 0, (page - 1) * size
            for job in self._newest(owner):
                if after is not None and job.submitted_wall < after:
                    break  # newest first: the rest are older still
                if wanted(job):
                    if first <= total < first + size:
                        items.append(self._item(job, with_inputs, link))
                    total += 1
            return items, total

        items, total = await run_in_threadpool(read)
        return json_response(envelope({"page": page, "total": total, "items": items}))

    async def delete(self, request: Request) -> Response:
        owner = caller(request.scope, self.engine.config)
        ids = (await self._body(request)).get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise WaveSpeedError(400, "Invalid parameters: ids must be a list of prediction ids")
        return json_response(
            envelope({"deleted": await run_in_threadpool(self._delete, owner, ids)})
        )

    def _delete(self, owner: str, ids: list[str]) -> int:
        """Take the key's predictions of ``ids`` out of its history; how many it had."""
        deleted = 0
        for prediction_id in dict.fromkeys(ids):
            job_id = job_id_of(prediction_id)
            if job_id is None:
                continue  # not an id of ours: nothing to delete
            job = self.engine.find(job_id, owner)
            if job is not None and job.endpoint.provider == "wavespeed":
                self.engine.delete_from_history(job)
                deleted += 1
        return deleted  # GUESS: the count

    async def billings(self, request: Request) -> Response:
        owner = caller(request.scope, self.engine.config)
        body = await self._body(request)
        page, size = _page(body)
        jobs = await run_in_threadpool(self._charged, owner, self._link(request))
        uuids = body.get("prediction_uuids")
        if isinstance(uuids, list):
            jobs = [j for j in jobs if task_id(j) in uuids]
        if body.get("sort") != "created_at ASC":
            jobs.reverse()
        rows = [
            {
                "uuid": f"billing-{task_id(j)}",
                "billing_type": "deduct",
                "price": _job_cost(j),
                "created_at": created_at(j),
                "prediction": {
                    "uuid": task_id(j),
                    "model_uuid": j.endpoint.id,
                    "status": "completed",
                },
            }
            for j in jobs[(page - 1) * size : page * size]
        ]
        return json_response(envelope({"page": page, "total": len(jobs), "items": rows}))

    async def usage(self, request: Request) -> Response:
        owner = caller(request.scope, self.engine.config)
        await self._body(request)
        usage = await run_in_threadpool(self._usage, owner, self._link(request))
        return json_response(envelope(usage))

    def _usage(self, owner: str, link: Linker) -> dict[str, Any]:
        days: dict[str, list[float]] = {}
        models: dict[str, list[float]] = {}
        for job in self._charged(owner, link):
            paid = _job_cost(job)
            days.setdefault(created_at(job)[:10], []).append(paid)
            models.setdefault(job.endpoint.id, []).append(paid)
        total = sum(sum(v) for v in days.values())
        return {
            "summary": {
                "total_cost": round(total, 6),
                "total_requests": sum(map(len, days.values())),
            },
            "daily_usage": [
                {"date": d, "amount": round(sum(v), 6), "count": len(v)}
                for d, v in sorted(days.items())
            ],
            "per_model_usage": [
                {"model_uuid": m, "amount": round(sum(v), 6), "count": len(v)}
                for m, v in sorted(models.items())
            ],
        }
