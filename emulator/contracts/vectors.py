"""Which image outputs are vector pictures (SVG), read by convention: every picture of a
vector model (an id naming ``vector`` or ``svg``: recraft's text-to-vector and vectorize,
star-vector, image2svg; vecglypher's glyphs), and a raster model's asked for a vector style
(recraft's ``style: "vector_illustration"`` and its sub-styles, ``"vector_illustration/…"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: ids of models whose pictures are vectors
_VECTOR_ID = re.compile(r"vector|svg|vecglyph")
#: the style (and the prefix of the sub-styles) that asks recraft for a vector picture
VECTOR_STYLE = "vector_illustration"


def makes_vectors(endpoint_id: str, inputs: Mapping[str, Any]) -> bool:
    """Whether the pictures an endpoint makes of ``inputs`` are SVG."""
    style = inputs.get("style")
    if isinstance(style, str) and style.split("/", 1)[0] == VECTOR_STYLE:
        return True
    return _VECTOR_ID.search(endpoint_id.lower()) is not None
