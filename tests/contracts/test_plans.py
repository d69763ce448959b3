"""Plans (plans.py) change no output: every endpoint's outputs digest as the synthesis
before plans made them (output_digests.py), and a kept plan makes what a fresh one does."""

from __future__ import annotations

import base64
import gc
import json
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.contracts.catalogue import shipped_catalogue
from emulator.contracts.documents import Endpoint, endpoint_from_document
from emulator.contracts.limits import Limits
from emulator.contracts.loading import DEFAULT_CONTRACTS_DIR, load_contracts
from emulator.contracts.plans import plan_of
from emulator.contracts.steps import Const
from emulator.contracts.synthesis import synthesize
from emulator.contracts.validation import check_input
from emulator.strategies import valid_inputs
from tests.catalogue.inputs import minimal_input

from .output_digests import DIGESTS, SpecLinker, digest, endpoints, key, made, outputs

CURATED = load_contracts([DEFAULT_CONTRACTS_DIR], catalogue=None)
CATALOGUE = shipped_catalogue()
ENDPOINTS = [e for provider in ("fal", "wavespeed") for e in CURATED.of(provider)]

BEFORE = json.loads(DIGESTS.read_text())


def _changed(every: int) -> dict[str, str]:
    made = {key(endpoint): digest(endpoint) for endpoint in endpoints(every)}
    assert len(made) > 1390 // every
    return {name: value for name, value in made.items() if BEFORE.get(name) != value}


def test_a_sample_of_endpoints_makes_the_outputs_it_made_before_plans() -> None:
    assert _changed(every=10) == {}  # the curated endpoints and every 10th of the catalogue


@pytest.mark.slow
def test_every_endpoint_makes_the_outputs_it_made_before_plans() -> None:
    assert _changed(every=1) == {}


def _bitdance() -> Endpoint:
    path = DEFAULT_CONTRACTS_DIR / "fal" / "fal-ai" / "bitdance.json"
    return endpoint_from_document("fal", json.loads(path.read_text()), checked=False)


def _fresh(endpoint: Endpoint) -> Endpoint:
    """The same contract as a new endpoint: with a plan of its own, not yet compiled."""
    return endpoint_from_document(endpoint.provider, endpoint.document, checked=False)


@given(data=st.data(), seed=st.integers(0, 2**31))
def test_a_kept_plan_makes_for_any_valid_input_what_a_fresh_plan_makes(data, seed) -> None:
    endpoint = data.draw(st.sampled_from(ENDPOINTS), label="endpoint")
    inputs = data.draw(valid_inputs(endpoint, max_dimension=256), label="inputs")
    flagged = data.draw(st.booleans(), label="flagged")
    kept = made(endpoint, inputs, seed, flagged)  # its plan used by every example before
    assert kept == made(_fresh(endpoint), inputs, seed, flagged)


def test_a_plan_is_made_once_per_endpoint_and_goes_with_it() -> None:
    endpoint = _bitdance()
    plan = plan_of(endpoint)
    assert plan_of(endpoint) is plan
    gone = weakref.ref(plan)
    del endpoint, plan
    gc.collect()
    assert gone() is None


def test_a_plan_used_by_other_jobs_makes_what_a_fresh_one_makes() -> None:
    used, fresh = _bitdance(), _bitdance()
    outputs(used)  # every part of its plan compiled and used
    assert outputs(used) == outputs(fresh)


def test_a_default_is_copied_into_each_output() -> None:
    default = Const({"tags": ["a"]})
    default.make(None).get("tags").append("b")  # type: ignore[arg-type]
    assert default.make(None) == {"tags": ["a"]}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("endpoint_id", "field", "kind"),
    [
        ("bria/video/increase-resolution", "video", "video"),  # anyOf: [Video, File]
        ("fal-ai/ffmpeg-api/metadata", "media", "video"),  # anyOf: [Video, Audio]
        ("fal-ai/patina/material", "images", "image"),  # items anyOf: [ImageFile, MapImageFile]
    ],
)
def test_a_media_branch_of_any_of_is_made_as_media(endpoint_id: str, field: str, kind: str) -> None:
    endpoint = CATALOGUE.endpoint(endpoint_id)
    inputs, _ = check_input(endpoint, {"video_url": "https://example.test/in.mp4", "prompt": "x"})
    made = synthesize(endpoint, inputs, 1, SpecLinker(), limits=Limits())
    files = made[field] if isinstance(made[field], list) else [made[field]]
    assert files and all(f["url"].startswith("https://cdn.test/") for f in files)
    assert all(f["content_type"].startswith(f"{kind}/") for f in files)
    endpoint.output_validator.validate(made)


@pytest.mark.parametrize(
    ("endpoint_id", "asked", "field", "kind"),
    [
        ("fal-ai/fashn/tryon/v1.5", {"num_samples": 3}, "images", "image"),
        ("fal-ai/bria/product-shot", {"num_results": 3}, "images", "image"),
        ("mirelo-ai/sfx1.6/text-to-audio", {"num_samples": 3}, "audio", "audio"),
    ],
)
def test_an_array_of_media_holds_the_count_asked(
    endpoint_id: str, asked: dict, field: str, kind: str
) -> None:
    endpoint = CATALOGUE.endpoint(endpoint_id)
    urls = {kind: f"https://example.test/in.{kind}" for kind in ("image", "audio", "video")}
    inputs, violations = check_input(endpoint, {**minimal_input(endpoint, urls), **asked})
    assert not violations
    made = synthesize(endpoint, inputs, 1, SpecLinker(), limits=Limits())
    assert [f["content_type"].split("/")[0] for f in made[field]] == [kind] * 3


@pytest.mark.parametrize(
    "endpoint",
    [CATALOGUE.endpoint("fal-ai/flux/dev"), CURATED.get("fal", "fal-ai/fast-lcm-diffusion")],
    ids=lambda endpoint: endpoint.id,
)
def test_required_timings_are_fals_seconds_of_inference(endpoint: Endpoint) -> None:
    inputs, _ = check_input(endpoint, {"prompt": "x"})
    made = synthesize(endpoint, inputs, 1234, SpecLinker(), limits=Limits())
    assert made["timings"] == {"inference": 1.734}
    endpoint.output_validator.validate(made)


@pytest.mark.parametrize(
    ("endpoint_id", "field", "looks_made"),
    [
        ("fal-ai/video-prompt-generator", "prompt", lambda v: v.startswith("Emulated output")),
        ("fal-ai/csm-1b", "audio", lambda v: v.startswith("https://cdn.test/") and ".wav" in v),
        ("fal-ai/kling-video/create-voice", "voice_id", lambda v: len(bytes.fromhex(v)) == 16),
        ("fal-ai/sam-3/image/embed", "embedding_b64", lambda v: len(base64.b64decode(v)) == 32),
        ("fal-ai/moondream-next/detection", "text_output", lambda v: v.startswith("Emulated")),
    ],
)
def test_a_required_string_the_model_makes_is_made(endpoint_id, field, looks_made) -> None:
    endpoint = CATALOGUE.endpoint(endpoint_id)
    urls = {kind: f"https://example.test/in.{kind}" for kind in ("image", "audio", "video")}
    inputs, violations = check_input(endpoint, minimal_input(endpoint, urls))
    assert not violations
    made = synthesize(endpoint, inputs, 1, SpecLinker(), limits=Limits())
    assert looks_made(made[field]), made
    endpoint.output_validator.validate(made)


def test_a_required_string_an_input_names_echoes_it_or_is_empty() -> None:
    """A realtime chunk's ``audio`` is the input's own (base64, not a file's URL)."""
    endpoint = CATALOGUE.endpoint("fal-ai/personaplex/realtime")
    made = synthesize(endpoint, {}, 1, SpecLinker(), limits=Limits())
    assert made["audio"] == ""
