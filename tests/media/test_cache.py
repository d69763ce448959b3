import pytest

from emulator.media import MediaSpec, MediaStore, UnsupportedMedia


def spec(seed: int = 1, size: int = 64) -> MediaSpec:
    return MediaSpec("image", size, size, "png", "acme/m", "p", seed)


def test_register_names_a_spec_stably_and_looks_it_up() -> None:
    store = MediaStore(salt="s")
    media_id = store.register(spec())
    assert media_id == store.register(spec()) == MediaStore(salt="s").register(spec())
    assert media_id != MediaStore(salt="other").register(spec())
    assert store.lookup(media_id) == spec()
    assert store.lookup("unknown") is None


def test_content_is_rendered_once_then_cached() -> None:
    store = MediaStore()
    first = store.content(spec())
    assert store.content(spec()) == first
    assert store.renders == 1


def test_the_render_cache_is_bounded_in_bytes() -> None:
    one = len(MediaStore().content(spec(size=128)))
    store = MediaStore(cache_bytes=int(one * 2.5))
    for seed in range(5):
        store.content(spec(seed, 128))
    store.content(spec(4, 128))
    assert store.renders == 5  # the newest is still cached
    store.content(spec(0, 128))
    assert store.renders == 6  # the oldest was evicted, and renders again identically


def test_the_registry_is_bounded_in_count() -> None:
    store = MediaStore(max_specs=2)
    ids = [store.register(spec(seed)) for seed in range(3)]
    assert store.lookup(ids[0]) is None and store.lookup(ids[2]) is not None


def test_kinds_it_cannot_make_are_refused_plainly() -> None:
    with pytest.raises(UnsupportedMedia):
        MediaStore().content(MediaSpec("audio", 64, 64, "mp4", "m", "p", 1))


def test_a_video_starts_from_its_source_picture() -> None:
    loads = []
    store = MediaStore(load_source=lambda key: loads.append(key))
    video = MediaSpec("video", 64, 48, "mp4", "m", "p", 1, duration=1, fps=4, source="src1")
    assert len(store.content(video)) == video.byte_size
    assert loads == ["src1"]  # asked for; None, so it starts from a drawn picture instead


@pytest.mark.parametrize(
    ("kind", "renderer", "limit", "source"),
    [
        ("video", "video.render_video", "VIDEOS_AT_ONCE", ""),
        # each decodes its input picture whole: 2 s and 280 MB for an 8192² PNG (a review)
        ("image", "images.render_image", "SOURCED_IMAGES_AT_ONCE", "an-upload"),
    ],
)
def test_heavy_renders_run_two_at_a_time_however_many_are_asked_at_once(
    monkeypatch: pytest.MonkeyPatch, kind: str, renderer: str, limit: str, source: str
) -> None:
    """Twenty downloads of twenty long videos rendered them all together (5 GB here)."""
    import importlib
    import threading
    import time

    from emulator.media import cache

    running, most = 0, 0
    lock = threading.Lock()

    def counted(spec: MediaSpec, load_source: object) -> bytes:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)  # long enough for every asker to be waiting
        with lock:
            running -= 1
        return b"made"

    module, function = renderer.split(".")
    monkeypatch.setattr(importlib.import_module(f"emulator.media.{module}"), function, counted)
    store = MediaStore()
    media_format = "mp4" if kind == "video" else "png"
    specs = [
        MediaSpec(kind, 64, 48, media_format, "m", "p", seed, source=source) for seed in range(8)
    ]
    threads = [threading.Thread(target=store.content, args=(spec,)) for spec in specs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert store.renders == 8 and most == getattr(cache, limit) == 2


def test_a_restart_forgets_the_specs_and_keeps_the_renders() -> None:
    store = MediaStore(salt="s")
    media_id = store.register(spec())
    rendered = store.content(spec())
    store.restart("t")
    assert store.lookup(media_id) is None  # no longer served
    assert store.register(spec()) == MediaStore(salt="t").register(spec())
    assert store.content(spec()) == rendered and store.renders == 1
