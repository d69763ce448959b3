"""The emulator's code as schemathesis's source of constants, for both tests here.

schemathesis draws on the literal values in the code under test as it generates cases.
Given an app as ``schema.app``, it reads that app's modules for each new schema and app:
a tenth of these tests' processor time, with an app of their own for each test. Registered
as a source (``schemathesis.python.constants``), the code is read once a process, and
each call is sent to its test's own app (``call_and_validate(app=...)``)."""

from __future__ import annotations

from typing import Any

from emulator import create_app


def emulator_code() -> Any:
    """An app of the emulator: schemathesis finds the code through it, as it does through
    ``schema.app``."""
    return create_app()
