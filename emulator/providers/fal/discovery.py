"""fal's discovery APIs, answered from the contracts the emulator serves.

- ``GET fal.ai/api/openapi/queue/openapi.json?endpoint_id=…``: the endpoint's OpenAPI
  document (fal's published per-endpoint format: what the contracts are).
- ``GET api.fal.ai/v1/models``: the model search and lookup API, with ``endpoint_id``
  (repeatable), ``q``, ``category``, ``limit``, ``cursor`` and ``expand=openapi-3.0``.
  Its shape (``models`` of ``endpoint_id`` + ``metadata``, ``next_cursor``, ``has_more``)
  is as fal's platform docs describe it; the metadata beyond ``display_name``,
  ``category``, ``description``, ``status`` and ``tags`` is a guess, and so are its 404
  and 400 bodies.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from emulator.core.engine import Engine
from emulator.http.responses import HandlerApp, json_response
from emulator.providers.fal.errors import FalError, answer

PAGE_LIMIT = 100


class FalDiscovery:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/fal/web/api/openapi/queue/openapi.json",
                HandlerApp(self.openapi, answer),
                methods=["GET"],
            ),
            Route("/fal/api/v1/models", HandlerApp(self.models, answer), methods=["GET"]),
        ]

    def _document(self, endpoint_id: str) -> dict[str, Any] | None:
        endpoint = self.engine.contracts.get("fal", endpoint_id)
        return dict(endpoint.document) if endpoint is not None else None

    async def openapi(self, request: Request) -> Response:
        endpoint_id = request.query_params.get("endpoint_id", "").strip("/")
        if not endpoint_id:
            raise FalError.detail(400, "endpoint_id is required")
        document = self._document(endpoint_id)
        if document is None:
            raise FalError.detail(404, f"Endpoint '{endpoint_id}' not found")
        return json_response(document)

    async def models(self, request: Request) -> Response:
        query = request.query_params
        wanted = query.getlist("endpoint_id")
        rows = [r for r in self.engine.contracts.listing() if r["provider"] == "fal"]
        if wanted:
            rows = [r for r in rows if r["id"] in wanted]
        if query.get("category"):
            rows = [r for r in rows if r["category"] == query["category"]]
        if query.get("q"):
            words = query["q"].lower().split()
            rows = [r for r in rows if all(w in f"{r['id']} {r['category']}" for w in words)]
        limit_text, start_text = query.get("limit", str(PAGE_LIMIT)), query.get("cursor") or "0"
        whole = [v.isascii() and v.isdigit() and len(v) <= 9 for v in (limit_text, start_text)]
        if not all(whole):
            raise FalError.detail(400, "limit and cursor must be whole numbers")
        limit, start = min(PAGE_LIMIT, max(1, int(limit_text))), int(start_text)
        page = rows[start : start + limit]
        expand = "openapi-3.0" in query.getlist("expand")
        more = start + limit < len(rows)
        return json_response(
            {
                "models": [self._model(row, expand) for row in page],
                "next_cursor": str(start + limit) if more else None,
                "has_more": more,
            }
        )

    def _model(self, row: dict[str, Any], expand: bool) -> dict[str, Any]:
        endpoint_id = row["id"]
        model: dict[str, Any] = {
            "endpoint_id": endpoint_id,
            "metadata": {
                "display_name": endpoint_id.split("/", 1)[-1],
                "category": row["category"],
                "description": f"{endpoint_id} ({row['tier']} contract of provider-emulator)",
                # fal's statuses are "active" and "deprecated"; a delisted endpoint is
                # taken to be deprecated (a guess: fal's types just stop listing it)
                "status": "deprecated" if row["delisted"] else "active",
                "tags": [],
                "model_url": f"https://fal.run/{endpoint_id}",
            },
        }
        if expand:
            model["openapi"] = self._document(endpoint_id)
        return model
