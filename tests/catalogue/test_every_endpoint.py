"""Every one of the catalogue's endpoints, in-process: it passes the check a user's
catalogue gets (the shipped one skips it as it loads), its smallest valid input is accepted
and gives an output that validates against its output schema, formats asserted (files
are linked, and rendered where their size is not fixed: audio, meshes, archives…)."""

from __future__ import annotations

import base64

import pytest

from emulator import EmulatorConfig, Engine, Progression
from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.documents import ContractError, check_endpoint
from emulator.contracts.limits import Limits
from emulator.contracts.synthesis import synthesize
from emulator.contracts.validation import check_input
from emulator.media.cache import MediaStore
from emulator.media.links import url_linker
from emulator.media.spec import MediaSpec

from .inputs import minimal_input

pytestmark = pytest.mark.slow


def _data_uri(spec: MediaSpec) -> str:
    data = MediaStore().content(spec)
    return f"data:{spec.content_type};base64,{base64.b64encode(data).decode()}"


def test_every_catalogue_endpoint_gives_a_valid_output() -> None:
    engine = Engine(EmulatorConfig(seed=1, progression=Progression.parse("immediate")))
    urls = {
        "image": _data_uri(MediaSpec("image", 48, 32, "png", "in", "", 1)),
        "audio": _data_uri(MediaSpec("audio", 0, 0, "wav", "in", "", 1, duration=1)),
        "video": _data_uri(MediaSpec("video", 32, 32, "mp4", "in", "", 1, duration=1, fps=2)),
    }
    link = url_linker(engine.media, "http://cdn.test")
    catalogue = shipped_catalogue()
    failures = {}
    for endpoint_id in catalogue.ids():
        endpoint = catalogue.endpoint(endpoint_id)
        try:
            check_endpoint(endpoint)
        except ContractError as error:
            failures[endpoint_id] = [str(error)]
            continue
        inputs, violations = check_input(endpoint, minimal_input(endpoint, urls))
        if violations:
            failures[endpoint_id] = violations
            continue
        output = synthesize(endpoint, inputs, 7, link, limits=Limits(), sources=engine.sources)
        validator = endpoint.validator(endpoint.output_schema, formats=True)
        errors = [e.message for e in validator.iter_errors(output)]
        if errors:
            failures[endpoint_id] = errors
    assert len(list(catalogue.ids())) >= 1390
    assert failures == {}
