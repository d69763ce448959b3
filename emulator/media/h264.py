"""Hand-written H.264 pictures that copy the previous one except a few raw macroblocks.

A synthetic video holds each picture for a while and only its clock moves. Letting x264
encode every one of those frames costs it a full analysis of every macroblock (about
2.5 ms a 1080p frame at its fastest preset, most of a render). Instead x264 encodes each
new picture (an IDR), and the frames between are written here: a P slice whose macroblocks
are all skipped (a skipped macroblock of an all-skipped picture copies the reference
exactly), except the few the clock changed, sent as I_PCM (raw samples, lossless). Only
what the stream's own parameter sets allow is written (Baseline: CAVLC, 4:2:0, 8 bit;
frames only, picture order from frame_num, no slice groups); a stream that differs is
refused with ``Unsupported``, which x264 with the video's settings never makes.

ITU-T H.264 (08/2021): 7.3.2.1.1 and 7.3.2.2 (parameter sets), 7.3.3 and 7.3.4 (slice
header and data), 7.3.5 (I_PCM), 7.4.1 (emulation prevention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_START = b"\x00\x00\x00\x01"
_NAL_SPS, _NAL_PPS, _NAL_SLICE = 7, 8, 1
_REF_IDC = 2  # a reference picture: the next frame copies this one
_P_ALL = 5  # slice_type: P, as every slice of the picture
_I_PCM_IN_P = 5 + 25  # mb_type of I_PCM in a P slice (after the five P types)
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
_NEEDS_ESCAPE = re.compile(rb"\x00\x00(?=[\x00-\x03])")
_ESCAPED = re.compile(rb"\x00\x00\x03")


class Unsupported(ValueError):
    """The stream uses a feature these hand-written slices do not."""


class _Bits:
    """Reads an RBSP bit by bit (exp-Golomb codes included)."""

    def __init__(self, rbsp: bytes) -> None:
        self.value, self.left = int.from_bytes(rbsp, "big"), len(rbsp) * 8

    def u(self, count: int) -> int:
        self.left -= count
        return (self.value >> self.left) & ((1 << count) - 1)

    def ue(self) -> int:
        zeros = 0
        while not self.u(1):
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)


def _ue(value: int) -> str:
    code = bin(value + 1)[2:]
    return "0" * (len(code) - 1) + code


def _bytes(bits: str) -> bytes:
    """``bits`` (a multiple of 8 long) as bytes."""
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def _nal_units(annex_b: bytes) -> list[bytes]:
    # a four-byte start code leaves a zero at the end of the unit before it (units never
    # end in a zero byte: their last byte holds the stop bit)
    return [unit.rstrip(b"\x00") for unit in annex_b.split(b"\x00\x00\x01") if unit.strip(b"\x00")]


@dataclass(frozen=True)
class StreamFormat:
    """What a P slice of this stream must say, from its SPS and PPS."""

    width_mbs: int
    height_mbs: int
    frame_num_bits: int
    pps_id: int

    @classmethod
    def from_extradata(cls, extradata: bytes) -> StreamFormat:
        """The format of the stream whose Annex B SPS and PPS are ``extradata``."""
        units = {unit[0] & 0x1F: unit for unit in _nal_units(extradata)}
        if _NAL_SPS not in units or _NAL_PPS not in units:
            raise Unsupported("no SPS and PPS in the encoder's headers")
        sps = _Bits(_ESCAPED.sub(b"\x00\x00", units[_NAL_SPS][1:]))
        if sps.u(8) in _HIGH_PROFILES:  # profile_idc (x264 writes Baseline for CAVLC, no 8x8)
            raise Unsupported("a High profile: its chroma format and depth may differ")
        sps.u(16)  # constraint flags, level
        sps.ue()  # seq_parameter_set_id
        frame_num_bits = sps.ue() + 4
        if sps.ue() != 2:  # x264 numbers pictures by frame_num alone when it has no B frames
            raise Unsupported("picture order counts of their own")
        references = sps.ue()
        sps.u(1)  # gaps_in_frame_num_value_allowed_flag
        width_mbs, height_mbs = sps.ue() + 1, sps.ue() + 1
        if references < 1 or not sps.u(1):  # frame_mbs_only_flag
            raise Unsupported("no reference frames, or interlaced")
        return cls(width_mbs, height_mbs, frame_num_bits, _pps(units[_NAL_PPS]))


def _pps(unit: bytes) -> int:
    """The PPS's id, if its slices can be written here."""
    pps = _Bits(_ESCAPED.sub(b"\x00\x00", unit[1:]))
    pps_id = pps.ue()
    pps.ue()  # seq_parameter_set_id
    cabac, bottom_field_poc, slice_groups = pps.u(1), pps.u(1), pps.ue()
    pps.ue(), pps.ue()  # default reference counts: every slice here overrides them
    weighted, _bipred = pps.u(1), pps.u(2)
    pps.se(), pps.se(), pps.se()  # initial QP and QS, chroma QP offset
    deblocking_control, _constrained_intra, redundant_count = pps.u(1), pps.u(1), pps.u(1)
    if cabac or bottom_field_poc or slice_groups or weighted or redundant_count:
        raise Unsupported("CABAC, field order, slice groups, weighted or redundant slices")
    if not deblocking_control:  # x264 always lets a slice turn the deblocking filter off
        raise Unsupported("no control of the deblocking filter")
    return pps_id


def p_frame(form: StreamFormat, since_idr: int, raw: dict[tuple[int, int], bytes]) -> bytes:
    """An Annex B P picture, the ``since_idr``-th after an IDR: a copy of the previous
    picture except the macroblocks in ``raw`` ((column, row) → 384 bytes: 16x16 luma, then
    8x8 Cb and 8x8 Cr, row by row), which it replaces with those samples."""
    header = _ue(0) + _ue(_P_ALL) + _ue(form.pps_id)
    # frame_num counts reference pictures since the IDR, wrapping (the picture order follows)
    header += format(since_idr % (1 << form.frame_num_bits), f"0{form.frame_num_bits}b")
    # one reference, the list as it is, sliding-window marking, the picture's QP
    header += "1" + _ue(0) + "0" + "0" + "1"
    header += _ue(1)  # the deblocking filter off: it would blur the raw samples' edges
    chunks, bits, next_address = [], header, 0
    for column, row in sorted(raw, key=lambda at: (at[1], at[0])):
        address = row * form.width_mbs + column
        bits += _ue(address - next_address) + _ue(_I_PCM_IN_P)  # skipped before it; I_PCM
        bits += "0" * (-len(bits) % 8)  # pcm_alignment_zero_bit
        chunks += [_bytes(bits), raw[column, row]]
        bits, next_address = "", address + 1
    if next_address < form.width_mbs * form.height_mbs:
        bits += _ue(form.width_mbs * form.height_mbs - next_address)  # skipped to the end
    bits += "1"  # rbsp_stop_one_bit, then alignment
    chunks.append(_bytes(bits + "0" * (-len(bits) % 8)))
    rbsp = b"".join(chunks)
    return _START + bytes([_REF_IDC << 5 | _NAL_SLICE]) + _NEEDS_ESCAPE.sub(b"\x00\x00\x03", rbsp)
