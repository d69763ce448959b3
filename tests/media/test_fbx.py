"""Binary FBX: records whose end offsets hold, the mesh in its geometry, the footer three.js
sizes the file by (three.js reads it: tests/catalogue/test_media_formats.py)."""

from __future__ import annotations

import struct

from emulator.media import MediaSpec
from emulator.media.cache import MediaStore


def _records(data: bytes, at: int, end: int) -> dict[str, list[tuple[list, dict]]]:
    """The records from ``at`` to ``end`` (or to their list's empty record), by name: each
    its properties and children; asserts each ends where it says."""
    found: dict[str, list[tuple[list, dict]]] = {}
    while at < end:
        ends, count, length, size = struct.unpack_from("<IIIB", data, at)
        if ends == 0:
            return found  # the empty record closing a list
        name = data[at + 13 : at + 13 + size].decode()
        at += 13 + size
        properties, stop = [], at + length
        while at < stop:
            kind = chr(data[at])
            if kind in "LI":
                fmt = "<q" if kind == "L" else "<i"
                properties.append(struct.unpack_from(fmt, data, at + 1)[0])
                at += 1 + struct.calcsize(fmt)
            elif kind == "S":
                (n,) = struct.unpack_from("<I", data, at + 1)
                properties.append(data[at + 5 : at + 5 + n].decode())
                at += 5 + n
            else:  # an array: its length, encoding 0 (plain), its byte length
                n, encoding, byte_length = struct.unpack_from("<III", data, at + 1)
                assert encoding == 0
                values = struct.unpack_from(f"<{n}{'d' if kind == 'd' else 'i'}", data, at + 13)
                properties.append(list(values))
                at += 13 + byte_length
        assert len(properties) == count and at == stop
        children = _records(data, at, ends) if at < ends else {}
        found.setdefault(name, []).append((properties, children))
        at = ends
    return found


def test_an_fbx_holds_the_mesh_in_records_that_end_where_they_say() -> None:
    spec = MediaSpec("mesh", 0, 0, "fbx", "acme/text-to-3d", "a teapot", 1)
    data = MediaStore().content(spec)
    assert spec.content_type == "application/octet-stream" and spec.extension == "fbx"
    assert data[:23] == b"Kaydara FBX Binary  \x00\x1a\x00"
    assert struct.unpack_from("<I", data, 23)[0] == 7400
    assert data.endswith(bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b"))
    tree = _records(data, 27, len(data) - 160)  # the footer, by its size (as three.js reads)
    ((_, objects),) = tree["Objects"]
    ((geometry, parts),) = objects["Geometry"]
    assert geometry[1:] == ["mesh\x00\x01Geometry", "Mesh"]
    (((vertices,), _),) = parts["Vertices"]
    (((indices,), _),) = parts["PolygonVertexIndex"]
    assert len(vertices) == 18 and len(indices) == 24
    assert [i < 0 for i in indices] == [False, False, True] * 8  # each triangle closed
    links = [properties for properties, _ in tree["Connections"][0][1]["C"]]
    model_id = objects["Model"][0][0][0]
    assert links == [["OO", geometry[0], model_id], ["OO", model_id, 0]]
    other = MediaStore().content(MediaSpec("mesh", 0, 0, "fbx", "acme/text-to-3d", "", 8))
    assert other != data  # another seed, another shape
