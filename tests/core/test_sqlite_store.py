"""The SQLite store's URL: its path decoded as a URL's, and no query option ignored."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from emulator.config import EmulatorConfig
from emulator.core.sqlite_store import SqliteStore
from emulator.core.store import open_store


def test_a_url_s_path_is_percent_decoded(tmp_path: Path) -> None:
    # %20 had named a file with "%20" in its name, not the space the URL means
    store = SqliteStore(f"sqlite://{tmp_path}/my%20state.db")
    try:
        assert (tmp_path / "my state.db").is_file()
        assert store.url == f"sqlite://{quote(str(tmp_path))}/my%20state.db"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("query", "named"), [("mode=ro", "?mode="), ("cache=shared&mode=ro", "?cache=")]
)
def test_a_query_option_the_store_would_ignore_is_refused(
    tmp_path: Path, query: str, named: str
) -> None:
    # ?mode=ro had made a file named "state.db?mode=ro", and written to it
    with pytest.raises(ValueError, match=re.escape(f"takes no query options, not {named}")):
        open_store(f"sqlite://{tmp_path}/state.db?{query}")
    assert list(tmp_path.iterdir()) == []


def test_a_data_dir_with_a_space_or_question_mark_in_its_name_keeps_its_file_there(
    tmp_path: Path,
) -> None:
    # its URL is quoted, so that decoding it names the folder's own file
    folder = tmp_path / "team state?v2"
    store = open_store(EmulatorConfig(data_dir=folder).state_url)
    try:
        assert (folder / "state.db").is_file()
    finally:
        store.close()
