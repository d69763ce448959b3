"""Synthetic 3D meshes: binary glTF 2.0 (GLB) or Wavefront OBJ, written by hand.

Both formats are small and fully specified; the mesh is an octahedron whose proportions
come from the spec (so a different seed gives a different shape), which any loader
(trimesh, Blender, three.js) opens.
"""

from __future__ import annotations

import hashlib
import json
import struct

from emulator.media.spec import MediaSpec

_FACES = [(0, 2, 4), (2, 1, 4), (1, 3, 4), (3, 0, 4), (2, 0, 5), (1, 2, 5), (3, 1, 5), (0, 3, 5)]
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER, _FLOAT, _UNSIGNED_SHORT = 34962, 34963, 5126, 5123


def _vertices(spec: MediaSpec) -> list[tuple[float, float, float]]:
    """An octahedron stretched along each axis by the spec's digest."""
    digest = hashlib.sha256(spec.digest("mesh").encode()).digest()
    x, y, z = (0.5 + digest[i] / 255 for i in range(3))
    return [(x, 0, 0), (-x, 0, 0), (0, y, 0), (0, -y, 0), (0, 0, z), (0, 0, -z)]


def _glb(spec: MediaSpec) -> bytes:
    vertices = _vertices(spec)
    positions = b"".join(struct.pack("<3f", *v) for v in vertices)
    indices = b"".join(struct.pack("<3H", *f) for f in _FACES)  # 48 bytes: 4-aligned
    binary = positions + indices
    gltf = {
        "asset": {"version": "2.0", "generator": "provider-emulator"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": spec.label[:64]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(positions), "target": _ARRAY_BUFFER},
            {
                "buffer": 0,
                "byteOffset": len(positions),
                "byteLength": len(indices),
                "target": _ELEMENT_ARRAY_BUFFER,
            },
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": _FLOAT,
                "count": len(vertices),
                "type": "VEC3",
                "min": [min(v[i] for v in vertices) for i in range(3)],
                "max": [max(v[i] for v in vertices) for i in range(3)],
            },
            {
                "bufferView": 1,
                "componentType": _UNSIGNED_SHORT,
                "count": 3 * len(_FACES),
                "type": "SCALAR",
            },
        ],
    }
    text = json.dumps(gltf, separators=(",", ":"), sort_keys=True).encode()
    text += b" " * (-len(text) % 4)  # chunks are 4-byte aligned; JSON pads with spaces
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<I4s", len(text), b"JSON") + text
    chunks += struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def _obj(spec: MediaSpec) -> bytes:
    lines = [f"# provider-emulator: {spec.label}", f"o {spec.label[:64] or 'mesh'}"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in _vertices(spec)]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in _FACES]
    return ("\n".join(lines) + "\n").encode()


def render_mesh(spec: MediaSpec) -> bytes:
    return _obj(spec) if spec.format == "obj" else _glb(spec)
