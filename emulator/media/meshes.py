"""Synthetic 3D meshes, written by hand: binary glTF 2.0 (GLB), Wavefront OBJ, binary STL,
binary PLY (a mesh and a Gaussian splat at once), USDZ (a USD text layer in its zip),
antimatter15's Gaussian splat (``.splat``) or binary FBX (fbx.py).

Each format is small and fully specified; the mesh is an octahedron whose proportions
come from the spec (so a different seed gives a different shape), which any loader
(trimesh, Blender, three.js, a USD or splat viewer) opens; a splat has a Gaussian at each
of its corners.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile

from emulator.media.fbx import render_fbx
from emulator.media.spec import MediaSpec

_FACES = [(0, 2, 4), (2, 1, 4), (1, 3, 4), (3, 0, 4), (2, 0, 5), (1, 2, 5), (3, 1, 5), (0, 3, 5)]
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER, _FLOAT, _UNSIGNED_SHORT = 34962, 34963, 5126, 5123


Point = tuple[float, float, float]


def _vertices(spec: MediaSpec) -> list[Point]:
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


def _normal(a: Point, b: Point, c: Point) -> Point:
    u, v = [q - p for p, q in zip(a, b, strict=True)], [q - p for p, q in zip(a, c, strict=True)]
    n = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
    length = sum(x * x for x in n) ** 0.5 or 1.0
    return n[0] / length, n[1] / length, n[2] / length


def _stl(spec: MediaSpec) -> bytes:
    # an 80-byte header that must not start with "solid" (an ASCII STL's first word)
    header = f"provider-emulator: {spec.label}".encode()[:80].ljust(80, b"\0")
    vertices, triangles = _vertices(spec), []
    for face in _FACES:
        corners = [vertices[i] for i in face]
        triangles.append(struct.pack("<12fH", *_normal(*corners), *sum(corners, ()), 0))
    return header + struct.pack("<I", len(_FACES)) + b"".join(triangles)


#: a PLY vertex's properties: a point, and the Gaussian a splat viewer draws there (its
#: colour's DC term, opacity before its sigmoid, log scales, a rotation quaternion)
_PLY_PROPERTIES = "x y z f_dc_0 f_dc_1 f_dc_2 opacity scale_0 scale_1 scale_2"
_PLY_PROPERTIES += " rot_0 rot_1 rot_2 rot_3"


def _ply(spec: MediaSpec) -> bytes:
    """A binary PLY that is both a mesh (its faces) and a Gaussian splat (its vertices'
    properties): mesh loaders read the first, splat viewers the second."""
    header = "".join(
        (
            "ply\nformat binary_little_endian 1.0\n",
            f"comment provider-emulator: {spec.label}\nelement vertex 6\n",
            *(f"property float {name}\n" for name in _PLY_PROPERTIES.split()),
            "element face 8\nproperty list uchar int vertex_indices\nend_header\n",
        )
    )
    gaussian = (*_colour(spec, -1.0, 1.0), 2.0, -2.3, -2.3, -2.3, 1.0, 0.0, 0.0, 0.0)
    points = b"".join(struct.pack("<14f", *v, *gaussian) for v in _vertices(spec))
    faces = b"".join(struct.pack("<B3i", 3, *f) for f in _FACES)
    return header.encode() + points + faces


def _colour(spec: MediaSpec, low: float, high: float) -> Point:
    """The spec's colour, each channel between ``low`` and ``high``."""
    red, green, blue = (
        low + (high - low) * channel / 255
        for channel in hashlib.sha256(spec.digest("splat").encode()).digest()[:3]
    )
    return red, green, blue


def _splat(spec: MediaSpec) -> bytes:
    """antimatter15's ``.splat``: per Gaussian its position and scale (floats), its colour
    and opacity, and its rotation (a quaternion, bytes around 128)."""
    colour = bytes(round(c) for c in _colour(spec, 0, 255))
    return b"".join(
        struct.pack("<6f", *v, 0.1, 0.1, 0.1) + colour + b"\xff" + b"\xff\x80\x80\x80"
        for v in _vertices(spec)
    )


#: a zip entry's extra field ID for the padding that aligns its data (as usdzip writes)
_PADDING_FIELD = 0x1986


def _usdz(spec: MediaSpec) -> bytes:
    """A USDZ: an uncompressed zip whose first file, a USD text layer, starts 64-byte
    aligned (the package's rule)."""
    points = ", ".join(f"({x:.6f}, {y:.6f}, {z:.6f})" for x, y, z in _vertices(spec))
    indices = ", ".join(str(i) for face in _FACES for i in face)
    layer = (
        '#usda 1.0\n(\n    defaultPrim = "mesh"\n    upAxis = "Y"\n)\n\n'
        f'def Mesh "mesh"\n{{\n    int[] faceVertexCounts = [{", ".join(["3"] * len(_FACES))}]\n'
        f"    int[] faceVertexIndices = [{indices}]\n    point3f[] points = [{points}]\n}}\n"
    )
    entry = zipfile.ZipInfo("mesh.usda", date_time=(1980, 1, 1, 0, 0, 0))
    gap = -(30 + len(entry.filename) + 4) % 64
    entry.extra = struct.pack("<HH", _PADDING_FIELD, gap) + b"\0" * gap
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as package:
        package.writestr(entry, layer)
    return out.getvalue()


def _fbx(spec: MediaSpec) -> bytes:
    return render_fbx(spec, _vertices(spec), _FACES)


_WRITERS = {"obj": _obj, "stl": _stl, "ply": _ply, "splat": _splat, "usdz": _usdz, "fbx": _fbx}


def render_mesh(spec: MediaSpec) -> bytes:
    return _WRITERS.get(spec.format, _glb)(spec)
