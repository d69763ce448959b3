"""The dashboard's pages, in-process: what they show, what they escape, what they cost."""

from __future__ import annotations

import html
import io
import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from emulator import EmulatorConfig, Engine, create_app
from emulator.core.faults import Fault
from emulator.core.record import RecordedRequest
from emulator.http.ui import job_views, media_tiles, pages, request_views
from emulator.http.ui.access import AdminOnly
from emulator.http.ui.forms import form_fields
from emulator.http.ui.pages import PAGE_SIZE, page_number, paginate
from emulator.http.ui.request_views import as_curl
from emulator.http.ui.thumbnails import Thumbnails, thumbnail_size
from emulator.media.spec import MediaSpec
from tests.held_calls import answered_while_held

UI = "/_emulator/ui"
HOSTILE = '<script>alert("x")</script>'


def finished_job(client: TestClient, prompt: str = "a cat", **inputs: object) -> dict:
    submitted = client.post("/fal/queue/fal-ai/bitdance", json={"prompt": prompt, **inputs}).json()
    for _ in range(5):
        client.get(submitted["status_url"])
    return {**submitted, "output": client.get(submitted["response_url"]).json()}


@pytest.mark.parametrize(
    "page",
    ["jobs", "jobs/rows", "gallery", "requests", "requests/rows", "settings", "endpoints", "login"],
)
def test_every_page_renders_with_a_strict_policy(client: TestClient, page: str) -> None:
    finished_job(client)
    response = client.get(f"{UI}/{page}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text  # no inline script: only <script src=…>


def test_the_root_leads_to_the_jobs(client: TestClient) -> None:
    response = client.get(UI + "/", follow_redirects=False)
    # a path alone: the Host header names no address to send the browser to
    assert response.status_code == 307 and response.headers["location"] == f"{UI}/jobs"


def test_static_assets_are_served_with_the_policy(client: TestClient) -> None:
    script = client.get(f"{UI}/static/dashboard.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "content-security-policy" in script.headers
    assert client.get(f"{UI}/static/dashboard.css").status_code == 200
    assert client.get(f"{UI}/static/../routes.py").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "no-such-page", 404), ("GET", "static/no-such.css", 404), ("DELETE", "jobs", 405)],
)
def test_the_dashboards_errors_carry_its_policy_too(
    client: TestClient, method: str, path: str, status: int
) -> None:
    # they were the app's JSON errors, without the dashboard's headers (an audit)
    response = client.request(method, f"{UI}/{path}")
    assert response.status_code == status
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["nope", "webhooks", "jobs/a/b", "jobs/rows/x", "media/a/b.jpg"])
def test_a_path_the_dashboard_has_no_page_at_is_its_own_page(client: TestClient, path: str) -> None:
    """They were the router's plain "Not Found", with no way on but the back button."""
    response = client.get(f"{UI}/{path}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "No such page" in response.text and f'href="{UI}/jobs"' in response.text


def test_user_data_is_escaped_everywhere(client: TestClient) -> None:
    job = finished_job(client, HOSTILE)
    for page in ("jobs", f"jobs/{job['request_id']}", "gallery", "requests"):
        text = client.get(f"{UI}/{page}").text
        assert HOSTILE not in text, page
        assert "&lt;script&gt;alert(" in text, page


def test_an_input_no_page_can_encode_is_shown_replaced(client: TestClient) -> None:
    """JSON's ``"\\udfff"`` is a lone surrogate once decoded: accepted by the API, it must
    not stop the pages that show it (they were a 500 for every viewer)."""
    json_type = {"content-type": "application/json"}
    answers = [
        client.post(f"/fal/{path}/fal-ai/bitdance", content=body, headers=json_type)
        for path, body in (("queue", rb'{"prompt": "a cat \udfff"}'), ("run", rb'["\ud800"]'))
    ]
    assert [answer.status_code for answer in answers] == [200, 422]
    job = answers[0].json()["request_id"]
    for page in ("jobs", "jobs/rows", f"jobs/{job}", "gallery", "requests", "requests/rows"):
        assert client.get(f"{UI}/{page}").status_code == 200, page
    assert "a cat \ufffd" in client.get(f"{UI}/jobs/{job}").text


def test_a_jobs_row_shows_its_input_in_a_line_however_long(client: TestClient) -> None:
    """A prompt of megabytes made the table (refreshed every 1.5 s) as many megabytes."""
    client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "A" * 2_000_000})
    client.post("/fal/queue/fal-ai/bitdance", json={"prompt": 5, "image_size": "x" * 500})
    rows = client.get(f"{UI}/jobs/rows").text
    assert len(rows) < 5_000
    assert "A" * 80 + "…" in rows and "A" * 81 not in rows
    assert "{&#34;prompt&#34;: 5, &#34;image_size&#34;: &#34;xxx" in rows


def test_a_job_whose_output_failed_is_listed_failed(client: TestClient) -> None:
    """fal's status says COMPLETED, and then the result is a 422: the table said completed."""
    failed = finished_job(client, "x", num_images=999)
    assert failed["output"]["detail"][0]["loc"] == ["body", "num_images"]
    finished_job(client, "fine")
    assert client.get(f"{UI}/jobs/rows?state=failed").text.count("data-job=") == 1
    assert failed["request_id"] in client.get(f"{UI}/jobs/rows?state=failed").text
    assert client.get(f"{UI}/jobs/rows?state=completed").text.count("data-job=") == 1
    page = client.get(f"{UI}/jobs/{failed['request_id']}").text
    assert "&#34;loc&#34;: [" in page and "Violation(" not in page  # as JSON, not a repr


def test_the_jobs_table_lists_jobs_newest_first_with_masked_keys(client: TestClient) -> None:
    first, second = finished_job(client, "first"), finished_job(client, "second")
    rows = client.get(f"{UI}/jobs/rows").text
    assert rows.index(second["request_id"]) < rows.index(first["request_id"])
    assert "****" in rows and "Key k1" not in rows
    assert client.get(f"{UI}/jobs/rows?provider=wavespeed").text.count("data-job=") == 0
    assert client.get(f"{UI}/jobs/rows?state=completed").text.count("data-job=") == 2
    assert client.get(f"{UI}/jobs/rows?state=queued").text.count("data-job=") == 0


def test_a_job_shows_its_timeline_input_and_output(client: TestClient) -> None:
    job = finished_job(client)
    page = client.get(f"{UI}/jobs/{job['request_id']}").text
    assert page.count('class="reached"') == 3  # queued, in progress, completed
    assert "after 1 status poll<" in page or "after 1 status poll " in page
    assert job["output"]["images"][0]["url"] in page
    assert client.get(f"{UI}/jobs/nope").status_code == 404


@pytest.mark.parametrize("mode", ["polls:5,5", "wall:60,60,0"])
def test_a_job_cancelled_in_its_queue_never_shows_in_progress(mode: str) -> None:
    """Its timeline said it had started at its queue span's end, a time it never reached."""
    from emulator.core.lifecycle import Progression
    from emulator.http.ui.job_views import timeline

    engine = Engine(EmulatorConfig(progression=Progression.parse(mode)))
    job = engine.submit(engine.contracts.get("fal", "fal-ai/bitdance"), {"prompt": "x"}, "k")
    assert engine.cancel(job)
    steps = timeline(engine, job, engine.look(job))
    assert [(step.label, step.reached, step.at) for step in steps[1:]] == [
        ("in progress", False, None),
        ("cancelled", True, None),
    ]


def test_a_wavespeed_prediction_id_opens_its_job(client: TestClient) -> None:
    submitted = client.post(
        "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image",
        json={"prompt": "a cat"},
        headers={"Authorization": "Bearer k"},
    ).json()["data"]["id"]
    assert len(submitted) == 32 and "-" not in submitted
    assert client.get(f"{UI}/jobs/{submitted}").status_code == 200
    assert client.get(f"{UI}/jobs/not-a-job-id").status_code == 404
    dashed = str(uuid.UUID(submitted))
    assert client.get(f"{UI}/jobs/{dashed}").status_code == 200  # either form
    # listed, linked and shown under the id its clients know, not the dashed UUID
    rows = client.get(f"{UI}/jobs/rows").text
    assert f'data-job="{submitted}"' in rows and f'href="{UI}/jobs/{submitted}"' in rows
    page = client.get(f"{UI}/jobs/{submitted}").text
    assert f"<code>{submitted}</code>" in page and dashed not in page + rows
    client.get(
        f"/wavespeed/api/v3/predictions/{submitted}/result", headers={"Authorization": "Bearer k"}
    )
    for asked in (submitted, dashed):  # the page's link to the requests that named it
        named = client.get(f"{UI}/requests/rows?job={asked}").text
        assert named.count("<details>") == 1


def shown_output(page: str) -> object:
    """The JSON a job's page shows as its output."""
    found = re.search(r'<h2>Output</h2>\s*<pre class="json">(.*?)</pre>', page, re.DOTALL)
    assert found is not None, page
    return json.loads(html.unescape(found[1]))


def test_a_wavespeed_job_shows_what_its_result_answers(client: TestClient) -> None:
    """It showed the contract's example envelope: another id, "created", 1970 (an audit)."""
    headers = {"Authorization": "Bearer k"}
    path = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
    job_id = client.post(path, json={"prompt": "a cat"}, headers=headers).json()["data"]["id"]
    for _ in range(5):
        client.get(f"/wavespeed/api/v3/predictions/{job_id}/result", headers=headers)
    result = client.get(f"/wavespeed/api/v3/predictions/{job_id}/result", headers=headers)
    assert result.json()["data"]["status"] == "completed"
    assert shown_output(client.get(f"{UI}/jobs/{job_id}").text) == result.json()


def test_a_fal_job_shows_what_its_result_answers(client: TestClient) -> None:
    job = finished_job(client)
    assert shown_output(client.get(f"{UI}/jobs/{job['request_id']}").text) == job["output"]


def test_a_failed_job_shows_its_error(client: TestClient, engine: Engine) -> None:
    engine.faults.add(Fault("fail", error_type="runner_disconnected", message="gone"))
    job = finished_job(client)
    page = client.get(f"{UI}/jobs/{job['request_id']}").text
    assert "runner_disconnected" in page and "gone" in page and "state-failed" in page


def told_of_failure(client: TestClient, provider: str) -> tuple[str, str]:
    """A job of ``provider`` that fails, its id and the words its client was told."""
    if provider == "fal":
        job = finished_job(client)
        return job["request_id"], job["output"]["detail"]
    headers = {"Authorization": "Bearer k"}
    path = "/wavespeed/api/v3/wavespeed-ai/bitdance-14b/text-to-image"
    job_id = client.post(path, json={"prompt": "x"}, headers=headers).json()["data"]["id"]
    for _ in range(5):
        data = client.get(f"/wavespeed/api/v3/predictions/{job_id}", headers=headers).json()
    return job_id, data["data"]["error"]


@pytest.mark.parametrize("provider", ["fal", "wavespeed"])
def test_a_failure_of_a_bare_error_type_shows_what_its_client_was_told(
    client: TestClient, engine: Engine, provider: str
) -> None:
    """It showed "runner_disconnected: " and nothing after it (a dashboard audit)."""
    engine.faults.add(Fault("fail", error_type="runner_disconnected"))
    job_id, told = told_of_failure(client, provider)
    assert told  # "Runner disconnected", WaveSpeed's words for its code
    page = client.get(f"{UI}/jobs/{job_id}").text
    assert re.search(rf"<strong>[a-z_]+</strong>: {re.escape(told)}</p>", page)


def test_the_jobs_page_is_paginated(client: TestClient) -> None:
    for n in range(PAGE_SIZE + 3):
        client.post("/fal/queue/fal-ai/bitdance", json={"prompt": f"job {n}"})
    first = client.get(f"{UI}/jobs").text
    assert first.count("data-job=") == PAGE_SIZE and "Page 1 of 2" in first
    assert client.get(f"{UI}/jobs?page=2").text.count("data-job=") == 3
    assert client.get(f"{UI}/jobs?page=99").text.count("data-job=") == 3  # the last page
    assert client.get(f"{UI}/jobs?page=-1").status_code == 200


def test_the_gallery_counts_what_it_looked_at_and_clamps_its_pages(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (both modules imported before either is patched: media_tiles, imported by the patch
    # after pages was patched, copied pages' 2 and kept it for the tests after this one)
    for module in (pages, media_tiles):
        monkeypatch.setattr(module, "PAGE_SIZE", 2)
    for n in range(5):
        finished_job(client, f"job {n}", image_size="square")
    pager = re.compile(r"Page \d+ of [^<]*in all\)")
    # page 1 looks at 3 tiles only: there are more, so the count is a lower bound
    assert pager.findall(client.get(f"{UI}/gallery").text) == [
        "Page 1 of 2 or more (3 or more in all)"
    ]
    assert pager.findall(client.get(f"{UI}/gallery?page=3").text) == ["Page 3 of 3 (5 in all)"]
    # past the end: the last page, as the other pages do (it said "Page 999999 of 3")
    assert pager.findall(client.get(f"{UI}/gallery?page=999999").text) == ["Page 3 of 3 (5 in all)"]


def test_the_gallery_shows_thumbnails_drawn_small_and_kept(
    client: TestClient, engine: Engine
) -> None:
    finished_job(client, image_size="portrait_16_9")
    gallery = client.get(f"{UI}/gallery").text
    (thumbnail,) = re.findall(rf'src="({UI}/thumbnails/[0-9a-f]+\.jpg)"', gallery)
    renders = engine.media.renders
    picture = Image.open(io.BytesIO(client.get(thumbnail).content))
    assert picture.size == thumbnail_size(576, 1024) == (108, 192)
    assert f'width="{picture.width}" height="{picture.height}"' in gallery
    assert engine.media.renders == renders  # no full-size render for a thumbnail
    assert client.get(thumbnail).content == client.get(thumbnail).content
    assert client.get(f"{UI}/thumbnails/{'0' * 32}.jpg").status_code == 404
    assert client.get(f"{UI}/thumbnails/..%2f.jpg").status_code == 404


def test_thumbnails_are_cached(engine: Engine, client: TestClient) -> None:
    job = finished_job(client)
    media_id = job["output"]["images"][0]["url"].rsplit("/", 1)[1].split(".")[0]
    thumbnails = Thumbnails(engine)
    assert thumbnails.of(media_id) == thumbnails.of(media_id)
    assert thumbnails.drawn == 1
    assert thumbnails.of("f" * 32) is None


def test_thumbnail_size() -> None:
    assert thumbnail_size(1024, 768) == (192, 144)
    assert thumbnail_size(100, 50) == (100, 50)  # never enlarged
    assert thumbnail_size(10_000, 1) == (192, 1)


def test_the_requests_page_filters_and_offers_curl(client: TestClient) -> None:
    job = finished_job(client)
    page = client.get(f"{UI}/requests/rows?status=200&job={job['request_id']}").text
    assert "/status" in page and "Copy as curl" in page
    assert "curl -X GET" in page and "$API_KEY" in page
    assert "POST" not in page  # the submit names no job: only what came after it
    assert client.get(f"{UI}/requests/rows?status=404").text.count("<details>") == 0
    assert client.get(f"{UI}/requests/rows?provider=wavespeed").text.count("<details>") == 0
    unknown = client.get(f"{UI}/requests/rows?provider=fal.ai")  # none, as before: not a 500
    assert (unknown.status_code, unknown.text.count("<details>")) == (200, 0)


def recorded(headers: dict[str, str], body: bytes = b"") -> RecordedRequest:
    return RecordedRequest(
        "POST", "h", "/fal/queue/x", "a=1", 200, "k", 0.0, 0.0, headers, body, len(body), None
    )


def test_curl_never_lets_recorded_text_reach_the_shell() -> None:
    command = as_curl(
        recorded(
            {"authorization": "$(touch /tmp/x) ****abcd", "x-note": "it's $(here)"},
            b'{"prompt": "\'; rm -rf / #"}',
        ),
        "http://127.0.0.1:1",
    )
    assert command.startswith("curl -X POST 'http://127.0.0.1:1/fal/queue/x?a=1'")
    assert '-H "authorization: $API_KEY"' in command
    assert "-H 'x-note: it'\"'\"'s $(here)'" in command
    assert "$(touch" not in command
    assert as_curl(recorded({"authorization": "Key ****abcd"}), "").count("Key $API_KEY") == 1


def test_the_settings_page_lists_rules_with_their_counts(
    client: TestClient, engine: Engine
) -> None:
    engine.faults.add(Fault("http_error", status=503, times=1, message=HOSTILE))
    client.post("/fal/queue/fal-ai/bitdance", json={"prompt": "x"})
    page = client.get(f"{UI}/settings").text
    assert 'data-fault="fault-1"' in page and 'class="fired">1</td>' in page
    assert HOSTILE not in page
    # as JSON to read, escaped as text: not tojson's \u003c, written for scripts
    assert "message=&#34;&lt;script&gt;alert(\\&#34;x\\&#34;)&lt;/script&gt;&#34;" in page
    assert "\\u003c" not in page
    assert "Manual clock" in page  # the test engine's clock
    assert 'value="1234"' in page  # the seed, for the reset form


def test_a_rule_for_a_key_shows_it_masked(client: TestClient, engine: Engine) -> None:
    """The settings page showed a rule's key in full (key="bob-secret-key-9999")."""
    engine.faults.add(Fault("http_error", status=503, key="bob-secret-key-9999"))
    page = client.get(f"{UI}/settings").text
    assert "secret" not in page and "key=&#34;****9999&#34;" in page
    assert engine.faults.rules[0].key == "bob-secret-key-9999"  # masked as shown alone


def test_endpoints_are_searchable_and_each_has_a_form(client: TestClient) -> None:
    listing = client.get(f"{UI}/endpoints?q=seedance").text
    assert "bytedance/seedance-v1-lite-t2v-480p" in listing and "fal-ai/bitdance<" not in listing
    served = client.get("/_emulator/health").json()["endpoints"]
    assert f"{served} endpoints" in client.get(f"{UI}/endpoints").text  # the catalogue's too
    flux = client.get(f"{UI}/endpoints?q=flux/dev").text
    assert "<code>fal-ai/flux/dev</code>" in flux and "catalogue" in flux
    assert client.get(f"{UI}/endpoints/fal/fal-ai/flux/dev").status_code == 200
    page = client.get(f"{UI}/endpoints/fal/fal-ai/bitdance")
    assert page.status_code == 200
    assert 'data-submit="/fal/queue/fal-ai/bitdance"' in page.text
    assert client.get(f"{UI}/endpoints/fal/no/such").status_code == 404


def test_an_unknown_endpoints_page_says_no_contract_serves_it(client: TestClient) -> None:
    # it said "It may have expired, or the emulator was reset", as of a job (an audit)
    page = client.get(f"{UI}/endpoints/fal/acme/no-such-model")
    assert page.status_code == 404 and "No such endpoint" in page.text
    assert "expired" not in page.text and "No contract serves this endpoint" in page.text
    assert f'href="{UI}/endpoints"' in page.text and "--unknown-endpoints generic" in page.text


def test_form_fields_follow_the_input_schema(engine: Engine) -> None:
    fields = {f.name: f for f in form_fields(engine.contracts.get("fal", "fal-ai/bitdance"))}
    assert list(fields)[:2] == ["prompt", "image_size"]  # the playground's order
    assert fields["prompt"].kind == "textarea" and fields["prompt"].required
    assert fields["image_size"].kind == "select"
    assert ("square_hd", '"square_hd"') in fields["image_size"].choices
    assert fields["num_images"].kind == "integer" and fields["num_images"].maximum == 4
    assert fields["sync_mode"].kind == "checkbox" and fields["sync_mode"].value == ""
    assert fields["guidance_scale"].kind == "number"


def test_page_numbers() -> None:
    # "²" is a digit to str.isdigit, not to int(): the pages were a 500
    assert [page_number(t) for t in (None, "", "0", "-1", "x", "3", "9" * 9, "\u00b2")] == [
        1,
        1,
        1,
        1,
        1,
        3,
        1,
        1,
    ]
    page = paginate(list(range(120)), 3)
    assert (list(page.items), page.previous, page.next, page.pages) == (
        list(range(100, 120)),
        2,
        None,
        3,
    )


def test_the_dashboard_is_not_recorded_and_not_faulted(client: TestClient, engine: Engine) -> None:
    engine.faults.add(Fault("http_error", status=500))
    assert client.get(f"{UI}/jobs").status_code == 200
    assert len(engine.record) == 0


@pytest.fixture
def guarded() -> TestClient:
    engine = Engine(EmulatorConfig(admin_token="s3cret/+"))
    with TestClient(create_app(engine=engine)) as client:
        yield client


def test_with_an_admin_token_only_its_holder_sees_the_dashboard(guarded: TestClient) -> None:
    refused = guarded.get(f"{UI}/jobs?state=failed", follow_redirects=False)
    assert (refused.status_code, refused.headers["location"]) == (
        303,
        f"{UI}/login?next=%2Fjobs%3Fstate%3Dfailed",  # back there once the token is given
    )
    wrong = guarded.get(f"{UI}/jobs", headers={"Authorization": "Bearer wrong"})
    assert (wrong.url.path, wrong.url.params["refused"]) == (f"{UI}/login", "1")
    assert guarded.get(f"{UI}/jobs", headers={"Authorization": "Bearer s3cret/+"}).is_success
    guarded.cookies.set("provider_emulator_token", "s3cret%2F%2B")  # as the token page sets it
    assert guarded.get(f"{UI}/settings", follow_redirects=False).status_code == 200


def test_an_empty_admin_token_opens_nothing() -> None:
    """An empty credential would match an empty token (a newcomer's review). The settings
    refuse an empty token; the guard holds even if one is in force."""
    inner = Starlette(routes=[Route("/jobs", lambda _: PlainTextResponse("jobs"))])
    client = TestClient(AdminOnly(inner, token=lambda: ""))  # no lifespan: it guards http
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer"}):
        refused = client.get("/jobs", headers=headers, follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/login?next=%2Fjobs")
    client.cookies.set("provider_emulator_token", "")
    assert client.get("/jobs", follow_redirects=False).status_code == 303


def test_the_token_page_and_assets_stay_open(guarded: TestClient) -> None:
    assert guarded.get(f"{UI}/login").status_code == 200
    assert guarded.get(f"{UI}/static/dashboard.js").status_code == 200
    assert guarded.get(f"{UI}/thumbnails/{'0' * 32}.jpg", follow_redirects=False).status_code == 303


def _picture(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def test_a_video_from_an_uploaded_picture_has_that_picture_as_thumbnail(engine: Engine) -> None:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 10, 10)).save(out, "PNG")
    stored = engine.storage.put(out.getvalue(), "image/png", "red.png")
    spec = MediaSpec("video", 480, 480, "mp4", "x", "p", 1, duration=5, fps=24, source=stored.id)
    picture = _picture(Thumbnails(engine).of(engine.media.register(spec)))
    assert picture.size == (192, 192)
    red, green, _ = picture.getpixel((96, 96))
    assert red > 150 and green < 60
    assert engine.media.renders == 0  # the video itself was never rendered


def test_a_blanked_medium_has_a_black_thumbnail(engine: Engine) -> None:
    spec = MediaSpec("image", 640, 320, "jpeg", "x", "p", 1, blank=True)
    picture = _picture(Thumbnails(engine).of(engine.media.register(spec)))
    assert picture.size == (192, 96) and max(picture.getpixel((10, 10))) < 10


def test_form_controls_all_have_labels(client: TestClient) -> None:
    for page in ("settings", "endpoints/fal/fal-ai/bitdance", "jobs", "requests", "login"):
        text = client.get(f"{UI}/{page}").text
        labelled = set(re.findall(r'<label for="([^"]+)"', text))
        for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", text):
            if 'type="hidden"' in control:
                continue
            # Either wrapped in its <label> (the control follows "<label>Text "), or named by for=.
            control_id = re.search(r'id="([^"]+)"', control)
            wrapped = re.search(
                rf"<label[^>]*>[^<]*(?:<[^/][^>]*>[^<]*)*{re.escape(control)}", text
            )
            assert wrapped or (control_id and control_id.group(1) in labelled), (page, control)


@pytest.mark.parametrize("state", ["memory", "sqlite"])
def test_the_job_listing_reads_newest_first_a_page_at_a_time(state: str, tmp_path: Path) -> None:
    from emulator.http.ui.job_views import newest_jobs

    config = EmulatorConfig(state=state if state == "memory" else f"sqlite://{tmp_path}/s.db")
    engine = Engine(config)
    try:
        bitdance = engine.contracts.get("fal", "fal-ai/bitdance")
        made = [engine.submit(bitdance, {"prompt": str(n)}, "k").id for n in range(120)]
        listing = newest_jobs(engine, count=100)
        newest = made[::-1][:100]
        assert len(listing) == 100
        assert [job.id for job in listing[50:100]] == newest[50:100]
        assert [job.id for job in listing[95:200]] == newest[95:]
        assert listing[0].id == newest[0] and [job.id for job in listing] == newest
    finally:
        engine.close()


@pytest.mark.parametrize("status", ["\u00b2", "9" * 5000, "20"])
def test_a_requests_filter_by_a_status_no_int_reads_is_ignored(
    client: TestClient, status: str
) -> None:
    assert client.get(f"{UI}/requests", params={"status": status}).status_code == 200


@pytest.mark.parametrize(
    ("page", "views", "reading"),
    [
        ("jobs/rows", job_views, "newest_jobs"),
        ("jobs", job_views, "newest_jobs"),
        ("requests/rows", request_views, "newest_requests"),
    ],
)
def test_a_page_of_many_rows_holds_no_other_request(
    page: str, views: object, reading: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a shared store a filtered page of 10,000 jobs took 2 s of round trips, and an open
    tab asks every 1.5 s: made on the event loop, it held every other client of the worker.
    Held here, a health check meanwhile is answered."""

    async def rows(http: httpx.AsyncClient) -> httpx.Response:
        return await http.get(f"{UI}/{page}")

    app = create_app(engine=Engine(EmulatorConfig()))
    held = answered_while_held(app, monkeypatch, views, reading, rows, 10)
    # the page and the health check answered, the health check while the page was held
    assert held == (200, 200, True)
