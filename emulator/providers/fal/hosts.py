"""fal's hosts: each surface the emulator serves, and the real host it stands for."""

from __future__ import annotations

from emulator.providers.fal.paths import names_endpoint, parse_request_path

#: surface prefix → the real host it stands for
SURFACES = {
    "fal/queue": "queue.fal.run",
    "fal/run": "fal.run",
    "fal/rest": "rest.fal.ai",
    "fal/cdn": "v3.fal.media",
    "fal/web": "fal.ai",  # the per-endpoint OpenAPI documents (discovery.py)
    "fal/api": "api.fal.ai",  # the platform API's model search (discovery.py)
}

#: other real hosts fal's clients use → the surface that answers them
ALIASES = {
    "queue.falrun.com": "fal/queue",
    "falrun.com": "fal/run",
    "rest.alpha.fal.ai": "fal/rest",
    "fal.media": "fal/cdn",
    "v3b.fal.media": "fal/cdn",
}

#: fal's proxy protocol (see proxy.py): it forwards to the surface its target names
FORWARDING = ("/fal/proxy",)


def operation_path(rest: str) -> str:
    """The path fault rules match, from the path below ``/fal/``: the surface word goes
    (``queue/fal-ai/x/requests/…`` → ``fal-ai/x/requests/…``)."""
    return rest.partition("/")[2]


def job_id(below: str) -> str | None:
    """The request id a path below ``/fal/`` asks about (the queue's
    ``{app}/requests/{id}[/…]``), if any."""
    surface, _, rest = below.partition("/")
    request = parse_request_path(rest) if surface == "queue" else None
    return request.request_id if request is not None else None


def names_jobs_endpoint(below: str, endpoint_id: str) -> bool:
    """Whether a queue path below ``/fal/`` about a job (`job_id`) names the app of the
    job's endpoint ``endpoint_id``: the queue answers 404 to one that names another."""
    request = parse_request_path(below.partition("/")[2])
    return request is not None and names_endpoint(request.app, endpoint_id)
