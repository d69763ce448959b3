"""A mesh as binary FBX (version 7400), written by hand: the mesh of meshes.py, as one
geometry under one model, connected to the scene's root.

A binary FBX is a tree of records: each names a node, holds typed properties (64-bit ids,
strings, arrays of doubles or ints) and its children, and states where it ends; a list of
children closes with an empty record. Readers (three.js's FBXLoader, Blender, Autodesk's
SDK) find the end of the tree by the footer's size, so the footer is written as
Autodesk's and Blender's writers write it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from emulator.media.spec import MediaSpec

_HEAD = b"Kaydara FBX Binary  \x00\x1a\x00"
_VERSION = 7400
_FOOT_ID = bytes.fromhex("fabcab09d0c8d466b176fb831cf7267e")
_FOOT_MAGIC = bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")
_EMPTY_RECORD = b"\x00" * 13  # an end offset, property count and list length of 0, no name
_GEOMETRY_ID, _MODEL_ID = 1_000_001, 1_000_002

Property = int | str | Sequence[float] | Sequence[int]


def _property(value: Property, kind: str) -> bytes:
    """One typed property: ``L`` a 64-bit integer, ``S`` a string, ``d``/``i`` an array of
    doubles or 32-bit integers (stored plain, encoding 0)."""
    if kind == "L":
        return b"L" + struct.pack("<q", value)
    if kind == "I":
        return b"I" + struct.pack("<i", value)
    if kind == "S":
        assert isinstance(value, str)
        text = value.encode()
        return b"S" + struct.pack("<I", len(text)) + text
    assert not isinstance(value, int | str)
    data = struct.pack(f"<{len(value)}{'d' if kind == 'd' else 'i'}", *value)
    return kind.encode() + struct.pack("<III", len(value), 0, len(data)) + data


#: a node: its name, its typed properties and its children
Node = tuple[str, Sequence[tuple[Property, str]], Sequence["Node"]]


def _record(node: Node, start: int) -> bytes:
    """``node`` and its children as records, the first starting at byte ``start`` of the
    file (each record states where it ends, as an offset from the file's start)."""
    name, properties, children = node
    encoded = b"".join(_property(value, kind) for value, kind in properties)
    at = start + 13 + len(name) + len(encoded)
    body = b""
    for child in children:
        body += _record(child, at + len(body))
    if children:
        body += _EMPTY_RECORD
    end = at + len(body)
    head = struct.pack("<IIIB", end, len(properties), len(encoded), len(name)) + name.encode()
    return head + encoded + body


def render_fbx(
    spec: MediaSpec, vertices: Sequence[Sequence[float]], faces: Sequence[Sequence[int]]
) -> bytes:
    """The binary FBX of a triangle mesh, its model named by ``spec``'s label."""
    points = [coordinate for vertex in vertices for coordinate in vertex]
    # a polygon's last index is stored as -(index + 1): where one polygon ends
    ends = [
        index if n < len(face) - 1 else -index - 1 for face in faces for n, index in enumerate(face)
    ]
    label = spec.label[:64].replace("\x00", "")
    geometry: Node = (
        "Geometry",
        [(_GEOMETRY_ID, "L"), ("mesh\x00\x01Geometry", "S"), ("Mesh", "S")],
        [("Vertices", [(points, "d")], []), ("PolygonVertexIndex", [(ends, "i")], [])],
    )
    model: Node = (
        "Model",
        [(_MODEL_ID, "L"), (f"{label}\x00\x01Model", "S"), ("Mesh", "S")],
        [("Version", [(232, "I")], [])],
    )
    tree: list[Node] = [
        ("FBXHeaderExtension", [], [("FBXVersion", [(_VERSION, "I")], [])]),
        ("Objects", [], [geometry, model]),
        (
            "Connections",
            [],
            [
                ("C", [("OO", "S"), (_GEOMETRY_ID, "L"), (_MODEL_ID, "L")], []),
                ("C", [("OO", "S"), (_MODEL_ID, "L"), (0, "L")], []),  # 0: the scene's root
            ],
        ),
    ]
    body = _HEAD + struct.pack("<I", _VERSION)
    for node in tree:
        body += _record(node, len(body))
    body += _EMPTY_RECORD + _FOOT_ID + b"\x00" * 4
    body += b"\x00" * (-len(body) % 16 or 16)  # aligned to 16, by 1 to 16 bytes
    return body + struct.pack("<I", _VERSION) + b"\x00" * 120 + _FOOT_MAGIC
