"""Making the catalogue archive from fal's endpoint types (``contracts import``).

The TypeScript is read by the TypeScript compiler API in Node (``tools/catalogue``); this
module categorises each endpoint, groups the schemas into shards and writes a zip archive
that is the same, byte for byte, for the same input file and metadata.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import lzma
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from emulator.contracts.catalogue import referenced
from emulator.contracts.documents import ContractError
from emulator.contracts.kinds import category_from_id, media_kind

#: the Node converter (a source checkout's; it needs `npm ci --prefix tools/catalogue`)
CONVERTER = Path(__file__).resolve().parents[2] / "tools" / "catalogue" / "convert.mjs"
SHARDS = 64
_EPOCH = (1980, 1, 1, 0, 0, 0)
_CONVERT_SECONDS = 300


class TypesImportError(ContractError):
    """The endpoint types could not be converted (a contract error: `contracts diff`
    and `import` report it in one line)."""


def read_types(path: Path) -> bytes:
    """The text of an endpoint-types file, which may be xz- or gzip-compressed."""
    if not path.is_file():
        raise TypesImportError(f"{path}: no such file")
    try:
        data = path.read_bytes()
        if path.suffix == ".xz":
            return lzma.decompress(data)
        return gzip.decompress(data) if path.suffix == ".gz" else data
    except (OSError, lzma.LZMAError) as exc:
        raise TypesImportError(f"{path}: cannot read it ({exc})") from None


def convert_types(path: Path) -> dict[str, Any]:
    """``{"types": …, "endpoints": …}`` from an endpoint-types file, through Node (a file
    that is not there is said first: no tooling would read it)."""
    text = read_types(path)
    node = shutil.which("node")
    if node is None:
        raise TypesImportError("the import needs Node (https://nodejs.org), which is not on PATH")
    if not (CONVERTER.parent / "node_modules" / "typescript").is_dir():
        raise TypesImportError(
            f"run `npm ci --prefix {CONVERTER.parent}` first (it needs typescript)"
        )
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / "endpoints.ts"
        plain.write_bytes(text)
        done = subprocess.run(
            [node, str(CONVERTER), str(plain)],
            capture_output=True,
            timeout=_CONVERT_SECONDS,
            check=False,
        )
    if done.returncode != 0:
        raise TypesImportError(f"{path}: {done.stderr.decode(errors='replace').strip()}")
    return json.loads(done.stdout)


_INPUT_KINDS = (("video", "video"), ("audio", "audio"), ("image", "image"), ("mask", "image"))


def _resolve(schema: Mapping[str, Any], types: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = types[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _kinds(name: str | None, types: Mapping[str, Any], output: bool) -> set[str]:
    if not name:
        return set()
    found = set()
    schema = _resolve(types[name], types)
    required = set(schema.get("required", []))
    resolve = functools.partial(_resolve, types=types)
    for field, prop in schema.get("properties", {}).items():
        if not output and field not in required:
            continue  # an optional picture does not make a text-to-image model image-to-image
        resolved = _resolve(prop, types)
        if output:
            items = _resolve(resolved.get("items", {}), types)
            kind = media_kind(field, resolved, resolve) or media_kind(field, items, resolve)
            if kind:
                found.add(kind)
            elif resolved.get("type") == "string" and field != "prompt":
                found.add("text")
        else:
            found.update(k for word, k in _INPUT_KINDS if word in field and "url" in field)
    return found


def categorise(
    endpoint_id: str, input_name: str | None, output_name: str | None, types: Mapping[str, Any]
) -> str:
    """fal's category for an endpoint, from its id, else from what goes in and comes out."""
    named = category_from_id(endpoint_id)
    if named:
        return named
    made, given = _kinds(output_name, types, True), _kinds(input_name, types, False)
    for kind, word in (("mesh", "3d"), ("video", "video"), ("audio", "audio"), ("image", "image")):
        if kind in made:
            source = next((k for k in ("video", "audio", "image") if k in given), "text")
            return f"{source}-to-{word}"
    return "vision" if "image" in given or "video" in given else "llm" if "text" in made else "json"


def _member(archive: zipfile.ZipFile, name: str, value: Any) -> None:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    archive.writestr(info, text.encode(), compresslevel=9)


def _write_shards(
    archive: zipfile.ZipFile,
    ids: list[str],
    converted: Mapping[str, Any],
    shards: range,
    index: dict[str, list[Any]],
) -> None:
    """``ids`` spread evenly over ``shards``, each shard with the types of ``converted``
    its endpoints use; each id indexed."""
    types, endpoints = converted["types"], converted["endpoints"]
    per_shard = -(-len(ids) // len(shards)) or 1
    for shard, start in zip(shards, range(0, len(ids), per_shard), strict=False):
        names = []
        for endpoint_id in ids[start : start + per_shard]:
            entry = endpoints[endpoint_id]
            category = categorise(endpoint_id, entry["input"], entry["output"], types)
            index[endpoint_id] = [shard, entry["input"], entry["output"], category]
            names += [entry["input"], entry["output"]]
        _member(archive, f"shards/{shard:03d}.json", referenced(names, types))


#: each older types file: its endpoints converted, and its metadata
Older = tuple[Mapping[str, Any], Mapping[str, Any]]


def build_archive(
    converted: Mapping[str, Any],
    metadata: Mapping[str, Any],
    older: Sequence[Older] = (),
) -> bytes:
    """The catalogue archive: an index and ``SHARDS`` shards of schemas, in id order.

    ``older`` (older types files converted, each with its metadata, newest first) adds the
    endpoints only they have, each as the first of them to have it defines it, listed in
    the index as ``delisted``, in shards of their own after those: a shard holds one
    file's types, as a type's name may mean another type in another file. The first
    older file's metadata is the index's ``delisted_source``; each later one's, with the
    first shard of its endpoints, is in ``further_delisted_sources``."""
    ids = sorted(converted["endpoints"])
    index: dict[str, list[Any]] = {}
    meta = {**metadata, "endpoints": len(ids), "types": len(converted["types"])}
    contents: dict[str, Any] = {"metadata": meta, "endpoints": index}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        _write_shards(archive, ids, converted, range(SHARDS), index)
        shard, further = SHARDS, []
        for position, (older_types, older_meta) in enumerate(older):
            delisted = sorted(set(older_types["endpoints"]) - index.keys())
            # as many endpoints a shard as the current ones, so a shard costs the same
            count = -(-len(delisted) * SHARDS // max(len(ids), 1)) or 1
            _write_shards(archive, delisted, older_types, range(shard, shard + count), index)
            source = {**older_meta, "endpoints": len(delisted)}
            if position == 0:
                meta["delisted_source"] = source
            else:
                further.append({**source, "first_shard": shard})
            shard += count
        if older:
            contents["delisted"] = sorted(index.keys() - set(ids))
        if further:
            meta["further_delisted_sources"] = further
        _member(archive, "index.json", contents)
    return out.getvalue()


def file_digest(path: Path) -> str:
    """The SHA-256 of the types' text (decompressed), to tell one release from another."""
    return hashlib.sha256(read_types(path)).hexdigest()
