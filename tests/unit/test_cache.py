"""Derived data kept between runs (pipelines/cache.py): the same numbers as computed afresh, and
a missing, broken or unwritable cache only costs time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trafilatura.external
from langdetect import PROFILES_DIRECTORY

from pipelines.compat import langdetect_fast as fast
from pipelines.compat import trafilatura as tc


def _files() -> list[str]:
    return [name for name in __import__("os").listdir(PROFILES_DIRECTORY) if not name.startswith(".")]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("NEWSCLEAN_CACHE_DIR", str(folder))
    return folder


Profiles = tuple[list[str], dict[str, int], np.ndarray]


def _same(built: Profiles, fresh: Profiles) -> None:
    assert built[0] == fresh[0]
    assert built[1] == fresh[1]
    assert built[2].shape == fresh[2].shape
    assert built[2].tobytes() == fresh[2].tobytes()


def test_profiles_read_from_the_cache_are_the_json_profiles(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files()
    fresh = fast._read_profiles(PROFILES_DIRECTORY, files)
    first = fast._cached_profiles(PROFILES_DIRECTORY, files)  # computes and writes
    written = sorted(p.suffix for p in cache.iterdir())
    assert written == [".keys", ".npy"]

    def not_again(*args: object) -> None:
        raise AssertionError("the JSON profiles were read again")

    monkeypatch.setattr(fast, "_read_profiles", not_again)
    second = fast._cached_profiles(PROFILES_DIRECTORY, files)  # reads the cache
    _same(first, fresh)
    _same(second, fresh)


def test_a_broken_cache_is_recomputed(cache: Path) -> None:
    files = _files()
    fast._cached_profiles(PROFILES_DIRECTORY, files)
    matrix = next(cache.glob("*.npy"))
    matrix.write_bytes(matrix.read_bytes()[:1000])  # cut
    _same(fast._cached_profiles(PROFILES_DIRECTORY, files), fast._read_profiles(PROFILES_DIRECTORY, files))
    keys = next(cache.glob("*.keys"))
    keys.write_bytes(b"\xff\xfe broken")
    _same(fast._cached_profiles(PROFILES_DIRECTORY, files), fast._read_profiles(PROFILES_DIRECTORY, files))


def test_an_unwritable_cache_costs_time_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("NEWSCLEAN_CACHE_DIR", str(blocker / "newsclean"))
    files = _files()
    _same(fast._cached_profiles(PROFILES_DIRECTORY, files), fast._read_profiles(PROFILES_DIRECTORY, files))
    assert blocker.read_text().startswith("a file")


def test_the_cached_stoplist_is_trafilaturas(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = set(tc.jt_stoplist_init())
    for _ in range(2):  # computed and written, then read
        monkeypatch.setattr(trafilatura.external, "JT_STOPLIST", None)
        tc.prepare()
        assert set(trafilatura.external.JT_STOPLIST) == expected
    assert len(list(cache.glob("justext-stoplist-*.txt"))) == 1
