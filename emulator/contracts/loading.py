"""Contract documents on disk → `Contracts`.

Each ``*.json`` document in a folder (any layout) or a file given is read, its provider
worked out (`provider_of`) and made an endpoint (documents.py), once per process for as long
as the file is unchanged; the shipped documents, as shipped, load unchecked. A document of
the user's own that declares an output the emulator makes no file for is warned of then
(unmade_outputs.py), in the `emulator` logger.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from emulator.contracts.checks import ContractError
from emulator.contracts.documents import Contracts, Endpoint, endpoint_from_document
from emulator.contracts.shipped import SHIPPED
from emulator.contracts.unmade_outputs import unmade_outputs
from emulator.core.registry import LAYOUTS

logger = logging.getLogger("emulator")


def _shipped_contracts() -> Path:
    """The contract documents: inside an installed wheel (``emulator/_contracts``, see
    pyproject.toml), else at the top of the source checkout this package runs from."""
    spec = importlib.util.find_spec("emulator._contracts")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "contracts"


DEFAULT_CONTRACTS_DIR = _shipped_contracts()


def provider_of(document: Mapping[str, Any], path: Path) -> str:
    """The provider a document is for: its ``x-{provider}-metadata``, its servers' hosts,
    else a folder of its path named as a provider is; raises `ContractError`."""
    info = document.get("info")
    for provider in LAYOUTS:
        if isinstance(info, Mapping) and f"x-{provider}-metadata" in info:
            return provider
    servers = document.get("servers")
    for server in servers if isinstance(servers, list) else []:
        url = server.get("url", "") if isinstance(server, Mapping) else ""
        labels = url.partition("://")[2].split("/", 1)[0].split(".")
        for provider in LAYOUTS:
            if provider in labels:
                return provider
    for part in reversed(path.parts[:-1]):
        if part in LAYOUTS:
            return part
    raise ContractError(
        f"{path}: not a provider contract (no x-fal-metadata or x-wavespeed-metadata in its "
        "info, no provider host in its servers, not under a fal/ or wavespeed/ folder)"
    )


#: what a path that is neither a folder nor a regular file is, by its mode
_SPECIAL_KINDS = (
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISSOCK, "socket"),
)


def _special_kind(path: Path) -> str | None:
    """What ``path`` is when it exists but is neither a folder nor a regular file (a
    device, a FIFO, a socket), or None when nothing is there (a link to nothing too)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), "special file")


def _document_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        kind = _special_kind(root)
        if kind is not None:  # it exists: "does not exist" sent its user looking for a typo
            raise ContractError(
                f"contracts {root} is a {kind}, not a folder or a regular *.json file"
            )
        raise ContractError(f"contracts {root} does not exist")
    files = sorted(root.rglob("*.json"))
    if not files:
        raise ContractError(f"contracts directory {root} holds no *.json documents")
    return files


def load_contracts(directories: Iterable[Path | str], **options: Any) -> Contracts:
    """Load every ``*.json`` document in each directory (any layout) or file given.

    The provider is read from each document (see `provider_of`); a document of a later
    directory replaces one of an earlier directory for the same endpoint, but two in one
    directory (at any depth) are refused (`_duplicate`): which one won was the order of
    their paths. ``options`` go to `Contracts`. Each document is
    checked (`check_endpoint`) as it loads, but for the shipped ones (`shipped.SHIPPED`,
    by their bytes): the test suite checks those, and a start-up that checked them again
    would spend most of its time on it. A document added to the shipped folder, or one of
    its documents changed, is checked. Documents are read again when changed, but the
    shipped ones, read once per process.
    """
    contracts = Contracts(**options)
    for directory in directories:
        if Path(directory) == DEFAULT_CONTRACTS_DIR:
            endpoints = _shipped_endpoints(DEFAULT_CONTRACTS_DIR)
        else:
            files = _document_files(Path(directory))
            endpoints = tuple(_loaded(path, checked=not _shipped(path)) for path in files)
            _refuse_duplicates(endpoints)
        for endpoint in endpoints:
            contracts.add(endpoint)
    return contracts


def each_document(
    directories: Iterable[Path | str], *, added_only: bool = False
) -> Iterator[Endpoint | ContractError]:
    """Each document in ``directories`` (read as `load_contracts` reads them) loaded and
    checked, the shipped ones too, each once; or the `ContractError` that refuses it (or
    its directory): one broken document hides none of the others. ``added_only``: only
    the documents not shipped as they are."""
    for directory in directories:
        try:
            files = _document_files(Path(directory))
        except ContractError as exc:
            yield exc
            continue
        seen: _Seen = {}
        for path in files:
            if added_only and _shipped(path):
                continue
            try:
                endpoint = _loaded(path, checked=True)
            except ContractError as exc:
                yield exc
                continue
            yield _duplicate(seen, endpoint) or endpoint


#: one directory's endpoints so far, by provider and id
_Seen = dict[tuple[str, str], Endpoint]


def _duplicate(seen: _Seen, endpoint: Endpoint) -> ContractError | None:
    """Why ``endpoint`` is refused if a document ``seen`` before it in its directory
    serves the same endpoint: almost certainly a copy not renamed, which one of the two
    served was the order of their paths."""
    earlier = seen.setdefault((endpoint.provider, endpoint.id), endpoint)
    if earlier is endpoint:
        return None
    return ContractError(
        f"{endpoint.source}: {endpoint.provider} endpoint {endpoint.id!r} again, as "
        f"{earlier.source} in the same contracts directory: keep one (a later directory's "
        "document replaces an earlier directory's, but one directory holds an endpoint once)"
    )


def _refuse_duplicates(endpoints: Iterable[Endpoint]) -> None:
    """`ContractError` naming both documents if two of ``endpoints`` (one directory's)
    serve the same endpoint."""
    seen: _Seen = {}
    for endpoint in endpoints:
        problem = _duplicate(seen, endpoint)
        if problem is not None:
            raise problem


@functools.lru_cache(maxsize=8)
def _resolved(path: Path) -> Path:
    return path.resolve()  # an installed wheel's path may be a link


def _shipped(path: Path) -> bool:
    """Whether ``path`` is a shipped document as it was shipped (its bytes unchanged)."""
    root, where = _resolved(DEFAULT_CONTRACTS_DIR), path.resolve()
    if not where.is_relative_to(root):
        return False
    digest = SHIPPED.get(where.relative_to(root).as_posix())
    if digest is None:
        return False
    try:
        return digest == hashlib.sha256(where.read_bytes()).hexdigest()
    except OSError:
        return False  # not as shipped: loading it says why it cannot be read


@functools.lru_cache(maxsize=8)
def _shipped_endpoints(root: Path) -> tuple[Endpoint, ...]:
    """The package's own documents, listed and read once per process: an emulator is made
    per test, and walking their folders took a third of making one (issue 17)."""
    endpoints = tuple(_loaded(path, checked=not _shipped(path)) for path in _document_files(root))
    _refuse_duplicates(endpoints)
    return endpoints


def _loaded(path: Path, *, checked: bool) -> Endpoint:
    try:
        status = path.stat()
    except OSError as exc:  # a link to nothing, a file gone since it was listed
        raise _unreadable(path, exc) from exc
    return _endpoint_at(path, status.st_mtime_ns, status.st_size, checked)


def _unreadable(path: Path, exc: OSError) -> ContractError:
    return ContractError(f"{path}: cannot be read ({exc.strerror or exc})")


@functools.lru_cache(maxsize=4096)
def _endpoint_at(path: Path, mtime_ns: int, size: int, checked: bool) -> Endpoint:
    """The endpoint of the document at ``path``, read (and checked) once per process for
    as long as the file is unchanged: every emulator (one per test, say) shares it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:  # unreadable (its permissions, a folder named *.json)
        raise _unreadable(path, exc) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(document, Mapping):
        raise ContractError(f"{path}: not a provider contract (not a JSON object)")
    provider = provider_of(document, path)
    endpoint = endpoint_from_document(provider, document, source=str(path), checked=checked)
    if checked:  # (the shipped documents make every output they declare: a test says so)
        for line in unmade_outputs(endpoint):
            logger.warning("%s", line)
    return endpoint
