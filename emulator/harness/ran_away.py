"""How the harness stops a client: where a call exceeds its limits (guard.py), and where
work the client left running after its check reaches for the network (fence.py)."""

from __future__ import annotations


class ClientRanAway(BaseException):  # noqa: N818 (not an error of the client's making)
    """The client exceeded the harness's limits for one call (requests or seconds), or
    made a request after its call had returned."""
