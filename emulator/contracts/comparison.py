"""Which endpoints ``contracts diff`` compares with a source's documents (drift.py says
how each compares): every contract given, and, against a source that is fal's whole
catalogue (its endpoint-types file, `DocumentSource.whole_catalogue`), the catalogue's
endpoints no contract serves, with the ids it lists that nothing serves. A catalogue
endpoint's changes are applied by importing the newer types (`contracts import`), not by
`contracts sync`: it has no document of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.contracts.catalogue import TIER, Catalogue
from emulator.contracts.documents import Contracts, Endpoint, endpoint_from_document
from emulator.contracts.drift import (
    Change,
    DriftReport,
    compare,
    delisting,
    new_endpoint,
    unenforced_rules,
)
from emulator.contracts.sources import DocumentSource, SourceError
from emulator.core.registry import LAYOUTS


def diff_contracts(contracts: Contracts, source: DocumentSource) -> DriftReport:
    """Every change between ``contracts`` (and their catalogue, against a source of fal's
    whole catalogue) and what ``source`` publishes; `SourceError` when it says nothing of
    any of them (a folder one level off, say: a report of no change would keep a drift
    alarm quiet for ever)."""
    changes: list[Change] = []
    compared = 0
    for provider in LAYOUTS:
        curated = sorted(contracts.of(provider), key=lambda e: e.id)
        published = source.documents(provider, [e.id for e in curated])
        complete = source.complete(provider)
        for endpoint in curated:
            document = published.get(endpoint.id)
            compared += document is not None or complete
            if document is None:
                changes += unenforced_rules(endpoint)
                if complete:
                    changes += delisting(endpoint, False, source)
                continue
            newer = endpoint_from_document(provider, document, source=source.description)
            changes += compare(endpoint, newer, source.unstated)
            if complete:
                changes += delisting(endpoint, True, source)
        if provider == "fal" and source.whole_catalogue and contracts.catalogue is not None:
            served = {endpoint.id for endpoint in curated}
            found, count = _catalogue_changes(contracts.catalogue, served, published, source)
            changes, compared = changes + found, compared + count
    if not compared:
        raise SourceError(f"{source.description} publishes none of the endpoints compared")
    return DriftReport(source.description, source.date, changes, compared)


def _catalogue_changes(
    catalogue: Catalogue,
    curated: set[str],
    published: Mapping[str, Mapping[str, Any]],
    source: DocumentSource,
) -> tuple[list[Change], int]:
    """The changes of the catalogue's endpoints no contract serves (``curated``), and
    how many were compared, against ``published``: fal's whole catalogue. Their
    documents are the converter's, the source's too: neither is checked again (a check
    of each of 1,500 is seconds)."""
    changes: list[Change] = []
    ids = sorted(set(catalogue.ids()) - curated)
    for endpoint_id in ids:
        # (each id listed has a document: `or {}` only narrows the type)
        endpoint = _built(catalogue.document(endpoint_id) or {}, catalogue.source(endpoint_id))
        document = published.get(endpoint_id)
        if document is None:
            changes += delisting(endpoint, False, source)
            continue
        newer = _built(document, source.description)
        changes += compare(endpoint, newer, source.unstated)
        changes += delisting(endpoint, True, source)
    known = set(ids) | curated
    changes += [new_endpoint("fal", i) for i in sorted(published.keys() - known)]
    return changes, len(ids)


def _built(document: Mapping[str, Any], source: str) -> Endpoint:
    """A catalogue endpoint from its document, not kept (as `Catalogue.endpoint` keeps
    those served: 26 MiB for all of them) nor checked."""
    return endpoint_from_document("fal", document, source=source, tier=TIER, checked=False)
