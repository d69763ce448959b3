"""What the provider-neutral core knows of the providers: their names, where their
contract documents put the submit and result operations, and the inputs they refuse
whatever a contract says.

Each provider registers its layout when the `emulator.providers` package is imported
(which importing `emulator` does); the core never imports a provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple


class Layout(NamedTuple):
    """Where a provider's documents put things."""

    #: the submit path is this prefix followed by the endpoint id
    path_prefix: str
    #: the GET path whose 200 response is the output, from the submit path
    result_path: str
    #: inputs the provider refuses whatever an endpoint's contract says, each a JSON
    #: Schema an input matches (its routes answer them; the strategies draw none of them)
    refused_inputs: tuple[Mapping[str, Any], ...] = ()
    #: the first path segments of the provider's own API beside its models' paths: an
    #: endpoint id starting with one would be answered by that API, not as a model
    api_words: frozenset[str] = frozenset()
    #: whether a media input may be naked base64 (its bytes, no ``data:`` header), read
    #: as the data URI it would be
    naked_base64_media: bool = False
    #: where an output lists its media as URLs whose items' ``contentMediaType`` says
    #: what each is (WaveSpeed's ``data.outputs``): the path of property names to it
    media_urls: tuple[str, ...] = ()
    #: whether its clients know a job by its UUID's 32 hex digits without dashes
    #: (WaveSpeed's prediction ids), as its routes write it
    dashless_job_ids: bool = False


_LAYOUTS: dict[str, Layout] = {}
#: provider name → the layout of its contract documents
LAYOUTS: Mapping[str, Layout] = MappingProxyType(_LAYOUTS)


def register(name: str, layout: Layout) -> None:
    _LAYOUTS[name] = layout


def client_job_id(provider: str, job_id: str) -> str:
    """A job's id as ``provider``'s clients, its API and its webhooks name it."""
    layout = _LAYOUTS.get(provider)
    return job_id.replace("-", "") if layout is not None and layout.dashless_job_ids else job_id
