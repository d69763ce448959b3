"""WaveSpeed's hosts: each surface the emulator serves, and the real host it stands for."""

from __future__ import annotations

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
