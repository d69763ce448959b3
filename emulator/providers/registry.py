"""The providers the emulator serves: one descriptor each, iterated by the app, the host
middleware, the fault middleware and the in-process interception.

Adding a provider means adding a folder beside ``fal/`` and ``wavespeed/`` with the same
files (hosts, routes, envelopes, errors, auth, replay, and an ``Api`` in its
``__init__``) and a descriptor listed here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from emulator.core.engine import Engine
from emulator.core.faults import Fault
from emulator.core.jobs import Failure, Job
from emulator.core.registry import Layout
from emulator.http.grammar import Grammar
from emulator.media.links import Linker
from emulator.providers import FAL_LAYOUT, WAVESPEED_LAYOUT, fal, wavespeed
from emulator.providers.fal import envelopes as fal_envelopes
from emulator.providers.fal import errors as fal_errors
from emulator.providers.fal import hosts as fal_hosts
from emulator.providers.fal import replay as fal_replay
from emulator.providers.wavespeed import envelopes as wavespeed_envelopes
from emulator.providers.wavespeed import errors as wavespeed_errors
from emulator.providers.wavespeed import hosts as wavespeed_hosts
from emulator.providers.wavespeed import replay as wavespeed_replay

#: status, raw headers and body of an answer
RawAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]


def _any_endpoint(below: str, endpoint_id: str) -> bool:
    """A provider's paths about a job name no endpoint (WaveSpeed's name the task only)."""
    return True


@dataclass(frozen=True)
class Provider:
    """One emulated provider: its layout, its surfaces and their real hosts, its routes and its
    wire grammar for replay."""

    #: also the path prefix of its surfaces (``/fal/…``) and its contracts folder
    name: str
    layout: Layout
    #: surface prefix → the real host it stands for
    surfaces: Mapping[str, str]
    #: other real hosts → surface
    aliases: Mapping[str, str]
    #: the provider's routes over an engine
    routes: Callable[[Engine], list[BaseRoute]]
    #: the path below ``/{name}/`` that fault rules match
    operation_path: Callable[[str], str]
    #: the id of the job a path below ``/{name}/`` asks about (a status poll's), if any
    job_id: Callable[[str], str | None]
    #: an ``http_error`` fault's answer in the provider's own format
    exchange_error: Callable[[Fault], RawAnswer]
    #: what replaying recordings needs to know of its wire protocol
    replay: Grammar
    #: a routing error (no such path, a method it does not take) in its own format
    http_error: Callable[[int, str, Mapping[str, str] | None], Response]
    #: the last-resort 500 of an error no route answered (a bug), in its own format
    internal_error: Callable[[str], Response]
    #: record mode's 502 when its real API (the upstream) cannot be reached, in its format
    upstream_error: Callable[[str], Response]
    #: the words its clients are told of a job's failure
    failure_message: Callable[[Failure], str]
    #: what its result route, under a base URL of its surface, answers for a finished job
    result_body: Callable[[Engine, Job, Linker, str], Any]
    #: paths that forward to another of its surfaces (recorded as what they forward)
    forwarding: tuple[str, ...] = ()
    #: whether a path below ``/{name}/`` about a job (`job_id`) names the job's endpoint
    #: as its route requires (fal's queue paths name an app: another's is a 404)
    names_jobs_endpoint: Callable[[str, str], bool] = _any_endpoint

    @classmethod
    def from_modules(
        cls,
        name: str,
        layout: Layout,
        package: ModuleType,
        hosts: ModuleType,
        errors: ModuleType,
        replay: ModuleType,
        envelopes: ModuleType,
    ) -> Provider:
        return cls(
            name,
            layout,
            hosts.SURFACES,
            hosts.ALIASES,
            lambda engine: package.Api(engine).routes(),
            hosts.operation_path,
            hosts.job_id,
            errors.exchange_error,
            replay.GRAMMAR,
            errors.http_error,
            errors.internal_error,
            errors.upstream_error,
            errors.failure_message,
            envelopes.result_body,
            getattr(hosts, "FORWARDING", ()),
            getattr(hosts, "names_jobs_endpoint", _any_endpoint),
        )

    def endpoint_named(self, engine: Engine, path: str, key: str) -> str | None:
        """The endpoint a request for ``path`` (under ``/{name}/``, made with ``key``) is
        for, as its route notes it, for an answer made without the route (a staged
        fault's): that of the key's job it asks about (where the path names that job's
        endpoint, as fal's queue paths must: one naming another app is a 404 of its
        route's, which names no endpoint), or the served endpoint its submit
        or sync run names (or a path under it names: its stream); None for neither."""
        below = path[len(self.name) + 2 :]
        job_id = self.job_id(below)
        if job_id is not None:
            job = engine.jobs.peek(job_id)
            if job is None or job.owner != key or job.endpoint.provider != self.name:
                return None  # as its route answers: no such job of the key's
            return job.endpoint.id if self.names_jobs_endpoint(below, job.endpoint.id) else None
        for pattern in (self.replay.submit, self.replay.sync):
            named = pattern.fullmatch(path[1:]) if pattern is not None else None
            if named is not None:
                return _served_within(engine, self.name, named["endpoint"])
        return None


def _served_within(engine: Engine, provider: str, path: str) -> str | None:
    """The id of the served endpoint of ``provider`` that ``path`` is, or is under (its
    longest leading segments that are one)."""
    segments = path.strip("/").split("/")
    for end in range(len(segments), 0, -1):
        endpoint = engine.contracts.get(provider, "/".join(segments[:end]))
        if endpoint is not None:
            return endpoint.id
    return None


PROVIDERS = (
    # fal first: its status polls are the hot path.
    Provider.from_modules(
        "fal",
        FAL_LAYOUT,
        fal,
        fal_hosts,
        fal_errors,
        fal_replay,
        fal_envelopes,
    ),
    Provider.from_modules(
        "wavespeed",
        WAVESPEED_LAYOUT,
        wavespeed,
        wavespeed_hosts,
        wavespeed_errors,
        wavespeed_replay,
        wavespeed_envelopes,
    ),
)

#: surface prefix → canonical real host, for every provider
CANONICAL_HOSTS = {s: h for p in PROVIDERS for s, h in p.surfaces.items()}
#: every real host the emulator answers for → its surface prefix
HOST_SURFACES = {
    **{host: surface for surface, host in CANONICAL_HOSTS.items()},
    **{host: surface for p in PROVIDERS for host, surface in p.aliases.items()},
}
BY_NAME = {p.name: p for p in PROVIDERS}
