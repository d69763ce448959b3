"""The official clients, each in the thinnest adapter a user would write."""

from __future__ import annotations

from typing import Any

import fal_client
import wavespeed


def fal_subscribe(endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return fal_client.subscribe(endpoint_id, arguments=arguments)


def fal_subscribe_with_timeout(endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return fal_client.subscribe(endpoint_id, arguments=arguments, client_timeout=2)


async def fal_subscribe_async(endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return await fal_client.subscribe_async(endpoint_id, arguments=arguments, client_timeout=2)


def wavespeed_run(endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return wavespeed.run(endpoint_id, arguments, timeout=2, poll_interval=0.1)


def fal_subscribe_polling_hourly(endpoint_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Leaves its poller asleep for an hour when the job is not done in 1.5 s."""
    return fal_client.subscribe(endpoint_id, arguments=arguments, client_timeout=1.5, interval=3600)
