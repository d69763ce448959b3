"""The media gallery: the media of finished jobs, newest first, each tile to its job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from emulator.core.engine import Engine
from emulator.core.file_urls import find_in_url, media_name
from emulator.core.jobs import Job
from emulator.http.ui.job_views import newest_jobs, outcome, strings
from emulator.http.ui.pages import PAGE_SIZE, Page
from emulator.http.ui.thumbnails import thumbnail_size
from emulator.media.links import Linker
from emulator.media.spec import MediaSpec

#: the most jobs a gallery page looks through (older outputs are no longer kept ready)
SCANNED = 4096
#: the video codecs a browser plays, in any of their containers (H.264 in QuickTime and
#: Matroska too, as Chromium does); H.265, ProRes and MPEG-4 Part 2 it does not
PLAYED = ("h264", "vp9")


@dataclass(frozen=True)
class Tile:
    job: Job
    media_id: str
    spec: MediaSpec

    @property
    def kind(self) -> str:
        """image, video or audio (played inline); a video a browser cannot play (its
        thumbnail, to download), or any other file (downloaded)."""
        family = self.spec.content_type.split("/")[0]
        if family == "video" and self.spec.video_codec not in PLAYED:
            return "unplayed"
        return family if family in ("image", "video", "audio") else "file"

    @property
    def url(self) -> str:
        """The medium below the dashboard: the CDN's surface is the client's, where fault
        rules and the request record apply."""
        return f"/media/{media_name(self.media_id, self.spec.extension)}"

    @property
    def caption(self) -> str:
        """What the medium is: its size in pixels, its length, its format (an audio has no
        size: its caption read "0×0 mp3")."""
        spec = self.spec
        facts = [f"{spec.width}×{spec.height}"] if spec.width and spec.height else []
        if spec.kind in ("video", "audio") and spec.duration:
            facts.append(f"{round(spec.duration, 1):g} s")
        return " ".join([*facts, spec.extension])

    @property
    def thumbnail_size(self) -> tuple[int, int]:
        return thumbnail_size(self.spec.width, self.spec.height)


def tiles(engine: Engine, linker: Callable[[Job], Linker], number: int) -> Page[Tile]:
    """Page ``number`` of tiles, ``PAGE_SIZE`` a page, the newest job's first."""
    wanted = number * PAGE_SIZE
    found: list[Tile] = []
    for job in newest_jobs(engine, count=SCANNED):
        if job.deleted:  # its result no longer gives its outputs
            continue
        output, _ = outcome(engine, job, linker(job))
        media_ids = dict.fromkeys(
            where[1] for where in map(find_in_url, strings(output)) if where and where[0] == "media"
        )
        for media_id in media_ids:
            spec = engine.media.lookup(media_id)
            if spec is not None:
                found.append(Tile(job, media_id, spec))
        if len(found) > wanted:
            break
    more = len(found) > wanted
    if not more:  # past the last page: the last page (the other pages clamp alike)
        number = min(number, max(1, -(-len(found) // PAGE_SIZE)))
    first = (number - 1) * PAGE_SIZE
    shown = found[first : first + PAGE_SIZE]
    return Page(shown, number, wanted + 1 if more else len(found), more=more)
