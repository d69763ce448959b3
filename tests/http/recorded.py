"""Recorded exchanges, as a recordings folder holds them, for the replay tests."""

from __future__ import annotations


def fal_queue_exchange(
    method: str, path: str, status: int, answer: dict, retry_after: str = "1", **request: dict
) -> dict:
    """One recorded exchange with fal's queue: ``answer`` sent with ``status``."""
    return {
        "surface": "fal/queue",
        "method": method,
        "path": path,
        "query": "",
        "request": {"headers": {}, **request},
        "response": {"status": status, "json": answer,
                     "headers": {"content-type": "application/json", "retry-after": retry_after}},
    }  # fmt: skip


def wavespeed_submit_exchange(model: str, body: dict, job: str) -> dict:
    """A recorded WaveSpeed submit of ``body`` to ``model``, answered with job ``job``
    created."""
    result = f"https://api.wavespeed.ai/api/v3/predictions/{job}/result"
    created = {
        "id": job,
        "model": model,
        "status": "created",
        "outputs": [],
        "urls": {"get": result},
    }
    return {
        "surface": "wavespeed",
        "method": "POST",
        "path": f"/api/v3/{model}",
        "query": "webhook=http%3A%2F%2F127.0.0.1%3A9%2Fhook",
        "request": {"headers": {"content-type": "application/json"}, "json": body},
        "response": {"status": 200, "headers": {"content-type": "application/json"},
                     "json": {"code": 200, "message": "success", "data": created}},
    }  # fmt: skip
