"""The dashboard in a real browser: live jobs from the real clients, thumbnails, a video
that seeks, a fault rule from the form, reset, and a prompt that must stay text."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import Page, Response, expect

from emulator import EmulatorConfig
from emulator.core.faults import Fault
from emulator.http.ui.thumbnails import thumbnail_size
from emulator.server import BackgroundServer

from ..conftest import FAST
from .conftest import WAIT_MS

BITDANCE = "fal-ai/bitdance"
WS_BITDANCE = "wavespeed-ai/bitdance-14b/text-to-image"
SEEDANCE = "bytedance/seedance-v1-lite-t2v-480p"


def ui(server: BackgroundServer, page: str) -> str:
    return f"{server.url}/_emulator/ui/{page}"


def until(page: Page, expression: str) -> None:
    """Wait, bounded, until ``expression`` is true in the page. (Playwright's
    wait_for_function evaluates strings, which the dashboard's CSP rightly refuses.)"""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {WAIT_MS} ms: {expression}")
        page.wait_for_timeout(50)


def test_jobs_from_both_clients_appear_live(server, page: Page, fal, wavespeed, screenshot):
    page.goto(ui(server, "jobs"))
    expect(page.locator("#jobs")).to_contain_text("No jobs yet")
    page.evaluate("window.notReloaded = true")
    handle = fal.submit(BITDANCE, arguments={"prompt": "a lighthouse at dusk"})
    wavespeed.run(WS_BITDANCE, {"prompt": "a red fox"}, poll_interval=0.01, timeout=30)
    expect(page.locator(f'tr[data-job="{handle.request_id}"]')).to_contain_text(BITDANCE)
    expect(page.locator("#jobs")).to_contain_text(WS_BITDANCE)
    assert page.evaluate("window.notReloaded") is True  # the rows came without a reload
    handle.get()
    expect(page.locator(f'tr[data-job="{handle.request_id}"]')).to_contain_text("completed")
    screenshot("jobs")
    page.click(f'tr[data-job="{handle.request_id}"] a')
    expect(page.locator("h1")).to_contain_text(handle.request_id)
    expect(page.locator(".timeline")).to_contain_text("completed")
    expect(page.locator("pre.json").last).to_contain_text("/fal/cdn/files/emulator/")
    screenshot("job")


def test_live_rows_keep_a_keyboard_readers_place(server, page: Page, fal):
    """Rows replaced under the focus sent it to the page's body, every 1.5 s on a busy
    emulator: while a row holds the focus, the rows wait."""
    first = fal.submit(BITDANCE, arguments={"prompt": "first"})
    page.goto(ui(server, "jobs"))
    link = page.locator(f'tr[data-job="{first.request_id}"] a')
    link.focus()
    fal.submit(BITDANCE, arguments={"prompt": "second"})  # new rows to show
    page.wait_for_timeout(3500)  # two refreshes at least
    assert page.evaluate("document.activeElement.closest('tr')?.dataset.job") == first.request_id
    page.evaluate("document.activeElement.blur()")
    expect(page.locator("#jobs tr[data-job]")).to_have_count(2)  # then the rows follow


def test_a_thumbnail_loads_at_its_size(server, page: Page, fal, screenshot):
    fal.subscribe(BITDANCE, arguments={"prompt": "a harbour", "image_size": "landscape_4_3"})
    page.goto(ui(server, "gallery"))
    image = page.locator(".tile img").first
    expect(image).to_be_visible()
    until(page, "document.querySelector('.tile img').complete")
    natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert tuple(natural) == thumbnail_size(1024, 768) == (192, 144)
    screenshot("gallery")


def test_a_video_plays_and_seeks_with_ranges(server, page: Page, wavespeed, screenshot):
    wavespeed.run(
        SEEDANCE,
        {"prompt": "waves", "aspect_ratio": "1:1", "duration": 5},
        poll_interval=0.01,
        timeout=60,
    )
    # a test's staged media fault is its client's: the gallery neither meets nor records it
    rule = server.engine.faults.add(Fault("media_missing", times=1))
    recorded = len(server.engine.record)
    answers: list[Response] = []
    page.on("response", lambda r: answers.append(r) if r.url.endswith(".mp4") else None)
    page.goto(ui(server, "gallery"))
    video = page.locator(".tile video").first
    expect(video).to_be_visible()
    video.evaluate("v => { v.muted = true; return v.play(); }")
    until(page, "document.querySelector('.tile video').currentTime > 0.2")
    video.evaluate(
        "v => new Promise(done => { v.addEventListener('seeked', done, {once: true});"
        " v.currentTime = 4; })"
    )
    assert video.evaluate("v => v.currentTime") >= 4
    assert video.evaluate("v => v.error") is None
    statuses = {answer.status for answer in answers}
    assert 206 in statuses, statuses
    ranged = [a for a in answers if a.status == 206]
    assert all(a.headers["content-range"].startswith("bytes ") for a in ranged)
    video.evaluate("v => v.pause()")
    assert (rule.matched, len(server.engine.record)) == (0, recorded)
    screenshot("gallery-video")


def test_a_rule_added_in_the_form_fires_on_the_next_request(server, page: Page, fal, screenshot):
    page.goto(ui(server, "settings"))
    page.select_option("select[name=effect]", "http_error")
    page.select_option("select[name=provider]", "fal")
    page.fill("input[name=status]", "503")
    page.fill("input[name=times]", "1")
    with page.expect_navigation():
        page.click("#fault-form button")
    row = page.locator("tr[data-fault]")
    expect(row).to_contain_text("http_error")
    expect(row.locator(".fired")).to_have_text("0")
    assert server.engine.faults.rules[0].status == 503
    fal.run(BITDANCE, arguments={"prompt": "x"})  # the client retries the 503, then succeeds
    statuses = [entry.status for entry in server.engine.record.filter(path="/fal/run/")]
    assert statuses == [503, 200]
    page.reload()
    expect(page.locator("tr[data-fault] .fired")).to_have_text("1")
    screenshot("settings")


def test_reset_clears_the_tables(server, page: Page, fal):
    fal.subscribe(BITDANCE, arguments={"prompt": "to be forgotten"})
    page.goto(ui(server, "requests"))
    expect(page.locator("#requests")).to_contain_text("/fal/queue/")
    page.goto(ui(server, "settings"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.fill("#reset-form input[name=seed]", "11")
    with page.expect_navigation():
        page.click("#reset-form button")
    assert server.engine.seed == 11
    page.goto(ui(server, "jobs"))
    expect(page.locator("#jobs")).to_contain_text("No jobs yet")
    page.goto(ui(server, "requests"))
    expect(page.locator("#requests")).to_contain_text("No requests recorded")


HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


def test_an_injected_prompt_stays_text(server, page: Page, fal, screenshot):
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    handle = fal.submit(BITDANCE, arguments={"prompt": HOSTILE})
    handle.get()
    for where in ("jobs", f"jobs/{handle.request_id}", "gallery", "requests"):
        page.goto(ui(server, where))
        shown = page.locator("main .tile img").first if where == "gallery" else page.locator("main")
        if where == "gallery":
            expect(shown).to_have_attribute("alt", HOSTILE)
        else:
            expect(shown).to_contain_text("<script>window.pwned = 1</script>")
        assert page.evaluate("window.pwned") is None, where
    assert not server.engine.record.filter(path="favicon")  # the page asks for its own icon
    page.locator("#requests details").first.evaluate("d => d.open = true")
    screenshot("requests")


def test_every_page_renders(server, page: Page, fal, screenshot):
    fal.subscribe(BITDANCE, arguments={"prompt": "a map"})
    page.goto(ui(server, "endpoints"))
    page.fill("input[name=q]", "bitdance")
    with page.expect_navigation():
        page.click("form[role=search] button")
    expect(page.locator("tbody")).to_contain_text(WS_BITDANCE)
    screenshot("endpoints")
    page.click(f"a:has-text('{BITDANCE}')")
    page.fill("textarea[name=prompt]", "from the playground form")
    page.click("#submit-form button")
    expect(page.locator("#submit-answer")).to_contain_text("IN_QUEUE")
    screenshot("endpoint")
    assert any(
        job.payload.get("prompt") == "from the playground form" for job in server.engine.jobs
    )
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(ui(server, "jobs"))
    expect(page.locator("#jobs")).to_contain_text("from the playground form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways page
    screenshot("jobs-phone")


def test_a_forms_integer_choice_is_submitted_as_an_integer(server, page: Page):
    """An enum of integers (wan-2.2's duration) was submitted as text: the default form
    failed its endpoint's validation."""
    page.goto(ui(server, "endpoints/wavespeed/wavespeed-ai/wan-2.2/t2v-480p"))
    page.fill("textarea[name=prompt]", "a form's job")
    page.click("#submit-form button")
    expect(page.locator("#submit-answer")).to_contain_text('"status"')
    [job] = [job for job in server.engine.jobs if job.payload.get("prompt") == "a form's job"]
    assert type(job.payload["duration"]) is int


def test_with_an_admin_token_the_token_page_opens_the_dashboard(serve, page: Page):
    guarded = serve(EmulatorConfig(progression=FAST, admin_token="admin-s3cret"))
    page.goto(ui(guarded, "settings"))
    expect(page).to_have_url(ui(guarded, "login?next=%2Fsettings"))
    page.fill("#token", "a-wrong-one")
    with page.expect_navigation():
        page.click("#login-form button[type=submit], #login-form button:not([type])")
    expect(page.locator("#notice")).to_contain_text("That token was refused")  # not silence
    page.fill("#token", "admin-s3cret")
    with page.expect_navigation():
        page.click("#login-form button[type=submit], #login-form button:not([type])")
    expect(page).to_have_url(ui(guarded, "settings"))  # the page first asked for
    page.select_option("select[name=effect]", "media_missing")
    with page.expect_navigation():
        page.click("#fault-form button")
    expect(page.locator("tr[data-fault]")).to_contain_text("media_missing")
    assert [rule.effect for rule in guarded.engine.faults.rules] == ["media_missing"]


def test_a_second_tab_asked_for_the_token_goes_back_where_it_was(serve, page: Page):
    """A second tab has the cookie (its pages load) but not the first's session storage:
    its first action was sent to the token page with no word why, and the token then led
    to the jobs, not to the page it was on."""
    guarded = serve(EmulatorConfig(progression=FAST, admin_token="admin-s3cret"))
    page.goto(ui(guarded, "login"))
    page.fill("#token", "admin-s3cret")
    with page.expect_navigation():
        page.click("#login-form button:not([type])")
    guarded.engine.faults.add(Fault("media_missing"))
    second = page.context.new_page()
    second.goto(ui(guarded, "settings?tab=2"))
    with second.expect_navigation():
        second.click("tr[data-fault] button")
    expect(second).to_have_url(ui(guarded, "login?next=%2Fsettings%3Ftab%3D2&needed=1"))
    expect(second.locator("#notice")).to_contain_text("needs the token in this tab")
    second.fill("#token", "admin-s3cret")
    with second.expect_navigation():
        second.click("#login-form button:not([type])")
    expect(second).to_have_url(ui(guarded, "settings?tab=2"))
    assert len(guarded.engine.faults.rules) == 1  # nothing was done without the token


def test_an_uploaded_page_cannot_read_the_dashboards_token(serve, page: Page):
    """Uploads share the emulator's origin with the dashboard (the providers' CDNs are
    origins of their own): an uploaded HTML file must not run as a page of that origin."""
    guarded = serve(EmulatorConfig(progression=FAST, admin_token="admin-s3cret"))
    page.goto(ui(guarded, "login"))
    page.fill("#token", "admin-s3cret")
    with page.expect_navigation():
        page.click("#login-form button[type=submit], #login-form button:not([type])")
    fal = {"Authorization": "Key someone-else"}
    token = httpx.post(f"{guarded.url}/fal/rest/storage/auth/token", json={}, headers=fal)
    upload = httpx.post(
        f"{guarded.url}/fal/cdn/files/upload",
        content=b"<title>upload</title><p>hello</p>",
        headers={"Authorization": f"Bearer {token.json()['token']}", "Content-Type": "text/html"},
    )
    page.goto(upload.json()["access_url"])
    expect(page.locator("p")).to_have_text("hello")
    # The same tab keeps the dashboard's session storage, where the token is kept.
    stolen = "sessionStorage.getItem('provider-emulator-token')"
    read = f"(() => {{ try {{ return {stolen} }} catch (e) {{ return 'refused: ' + e.name }} }})()"
    assert page.evaluate(read) == "refused: SecurityError"
    assert page.evaluate("window.origin") == "null"


def test_a_video_a_browser_cannot_play_is_a_thumbnail_to_download(server, page: Page, fal):
    # an H.265, ProRes or MPEG-4 video was put in a <video> that Chromium cannot play
    # (MEDIA_ERR_SRC_NOT_SUPPORTED); H.264 and VP9 it plays in any container
    cosmos = "fal-ai/cosmos-predict-2.5/text-to-video"
    # one second (not the default 93 frames): the played one is rendered for the page
    brief = {"prompt": "a kite", "num_frames": 24}
    fal.subscribe(cosmos, arguments={**brief, "video_output_type": "PRORES4444 (.mov)"})
    fal.subscribe(cosmos, arguments={**brief, "video_output_type": "VP9 (.webm)"})
    page.goto(ui(server, "gallery"))
    expect(page.locator(".tile-unplayed a[download] img")).to_have_count(1)
    expect(page.locator(".tile-unplayed")).to_contain_text("prores: browsers do not play it")
    expect(page.locator(".tile video")).to_have_count(1)
    video = page.locator(".tile video").first
    video.evaluate("v => { v.muted = true; return v.play(); }")
    until(page, "document.querySelector('.tile video').currentTime > 0.2")
    assert video.evaluate("v => v.error") is None


def test_an_audio_player_fits_its_tile_at_every_width(server, page: Page, fal, screenshot):
    """A player is 300 px wide by default: it overflowed a 214 px tile over the next one."""
    fal.subscribe("fal-ai/stable-audio", arguments={"prompt": "drums", "seconds_total": 3})
    fal.subscribe(BITDANCE, arguments={"prompt": "a tile beside it"})
    page.goto(ui(server, "gallery"))
    expect(page.locator(".tile-audio")).to_contain_text("3 s wav")
    overflow = (
        "[...document.querySelectorAll('.tile audio')].map(a => a.closest('.tile')"
        ".getBoundingClientRect().right - a.getBoundingClientRect().right)"
    )
    for width in (1400, 1280, 900, 375):
        page.set_viewport_size({"width": width, "height": 860})
        assert min(page.evaluate(overflow)) >= 0, width
    screenshot("gallery-audio-phone")


def test_on_a_phone_every_table_is_cards_without_sideways_scrolling(
    server, page: Page, fal, screenshot
):
    """The rules table needed scrolling to reach Remove, the endpoints table stayed a
    table, and an open request overflowed its card (671 px in a 359 px box)."""
    server.engine.faults.add(
        Fault("http_error", status=503, endpoint="fal-ai/flux/*", key="k" * 20)
    )
    handle = fal.submit(BITDANCE, arguments={"prompt": "a phone's job " * 20})
    status = f"{server.url}/fal/queue/{BITDANCE}/requests/{handle.request_id}/status"
    # a path and query with no place to break them
    httpx.get(status, params={"note": "y" * 80}, headers={"Authorization": "Key phone-key"})
    page.set_viewport_size({"width": 375, "height": 812})
    beyond = (
        "[...document.querySelectorAll('main *')]"
        ".filter(e => e.getBoundingClientRect().right > 375).map(e => e.tagName)"
    )
    for where in ("settings", "endpoints", "requests"):
        page.goto(ui(server, where))
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert page.evaluate(beyond) == [], where
        assert page.locator("main thead").evaluate("e => getComputedStyle(e).display") == "none"
        screenshot(f"{where}-phone")
