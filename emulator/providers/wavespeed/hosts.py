"""WaveSpeed's hosts: each surface the emulator serves, and the real host it stands for."""

from __future__ import annotations

from emulator.providers.wavespeed.paths import job_id_of

#: surface prefix → the real host it stands for
SURFACES = {
    "wavespeed": "api.wavespeed.ai",
    # WaveSpeed's outputs live on this CloudFront host (docs' example outputs).
    "wavespeed/cdn": "d2p7pge43lyniu.cloudfront.net",
}

ALIASES: dict[str, str] = {}


def operation_path(rest: str) -> str:
    """The path fault rules match, from the path below ``/wavespeed/``: the model id or
    ``predictions/…``, without the API's version prefix."""
    return rest.removeprefix("api/v3/")


def job_id(below: str) -> str | None:
    """The prediction id a path below ``/wavespeed/`` asks about
    (``api/v3/predictions/{id}[/result]``), if any."""
    word, _, rest = operation_path(below).partition("/")
    return job_id_of(rest.partition("/")[0]) if word == "predictions" else None
