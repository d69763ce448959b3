"""How an image or video output shows its subject, read by convention: as a background
remover's cut-out (transparent around its subject, or over the backdrop its input asks) or
mask (which of them its field is: kinds.py's ``matte``), or as a cut-out because its input
asks for a transparent background (gpt-image's ``background: "transparent"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.contracts.input_fields import OWN_BACKDROP, backdrop


def asks_transparency(inputs: Mapping[str, Any]) -> bool:
    """Whether the input asks for a picture transparent around its subject."""
    return inputs.get("background") == "transparent"


def matte_of(matte: str, inputs: Mapping[str, Any], clear: bool, bare: str) -> tuple[str, str]:
    """An output's matte and backdrop colour, its field's ``matte`` given: a mask as it is;
    a cut-out (or a transparent background asked) over the backdrop its inputs ask, else
    transparent where its format can be (``clear``), else over ``bare`` (its whole picture
    where that is "")."""
    if not matte and asks_transparency(inputs):
        matte = "cutout"
    if matte != "cutout":
        return matte, ""
    colour = backdrop(inputs)
    if colour == OWN_BACKDROP:
        return "", ""
    colour = colour or ("" if clear else bare)
    return ("cutout", colour) if colour or clear else ("", "")
