"""API keys as every layer reads them from ``Authorization: <scheme> <credential>``.

A key is also the identity that owns jobs: another key never sees them.
"""

from __future__ import annotations


def split_authorization(value: str) -> tuple[str, str]:
    """The scheme (lower case) and the credential of an ``Authorization`` value."""
    scheme, _, credential = value.strip().partition(" ")
    return scheme.lower(), credential.strip()
