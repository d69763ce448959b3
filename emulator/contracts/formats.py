"""String ``format``s in output schemas: a string of each format the emulator makes, and
the format checker a synthesised output is checked with.

JSON Schema reads ``format`` as an annotation unless a validator asserts it; a client
parsing an output's ``created_at`` as a date-time asserts it, so the output's check does
too: with jsonschema's checks for JSON Schema 2020-12, and where its format extras are not
installed, plain ones of the standard library for ``date-time``, ``time`` and ``uri``. A
format no sample is kept for (``phone``, say) is one the emulator cannot make: a required
output field of it, with no default or example to take, is a clear failure rather than
an empty string.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # jsonschema loads with the first validator (see documents.py)
    from jsonschema import FormatChecker

#: a string of each format (JSON Schema 2020-12's, and OpenAPI's own string formats),
#: valid under the strictest check jsonschema has for it
FORMAT_SAMPLES = {
    "date-time": "1970-01-01T00:00:00Z",
    "date": "1970-01-01",
    "time": "00:00:00Z",
    "duration": "PT0S",
    "email": "emulator@example.com",
    "idn-email": "emulator@example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/",
    "uri-reference": "https://example.com/",
    "iri": "https://example.com/",
    "iri-reference": "https://example.com/",
    "uri-template": "https://example.com/",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "json-pointer": "",
    "relative-json-pointer": "0",
    "regex": "",
    # OpenAPI's: base64 bytes, raw bytes (fal's ``file_data``), a secret
    "byte": "",
    "binary": "",
    "password": "",
}


#: RFC 3339's full-time, and its full-date "T" full-time
_TIME = re.compile(r"\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d[Tt]" + _TIME.pattern)
#: an absolute URI: a scheme, then no white space
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if _DATE_TIME.fullmatch(value) is None:
        return False
    try:  # the fields in range (a 13th month, a 61st second are not)
        datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _time(value: object) -> bool:
    return not isinstance(value, str) or _date_time(f"1970-01-01T{value}")


def _uri(value: object) -> bool:
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


_FALLBACKS = {"date-time": _date_time, "time": _time, "uri": _uri}


@functools.cache
def format_checker() -> FormatChecker:
    """JSON Schema 2020-12's format checker, with the plain checks where it has none."""
    from jsonschema import Draft202012Validator, FormatChecker

    checker = FormatChecker(formats=())
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
    for name, check in _FALLBACKS.items():
        if name not in checker.checkers:
            checker.checks(name)(check)
    return checker
