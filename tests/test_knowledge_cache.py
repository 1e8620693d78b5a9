"""The parsed knowledge files are kept in the user's cache folder and read back while the
file's text is unchanged; a cache file that is not private, not ours or not marshal data is
never trusted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gha_fix.transforms import knowledge_files
from gha_fix.transforms.knowledge_files import cache_file, read_cached, write_cached


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    knowledge_files.load.cache_clear()
    yield tmp_path
    knowledge_files.load.cache_clear()


def test_first_load_writes_the_cache_and_the_next_reads_it(cache_home: Path) -> None:
    fresh = knowledge_files.load("run_commands.yml")
    files = list((cache_home / "gha-fix" / "knowledge").glob("run_commands.yml.*.marshal"))
    assert len(files) == 1
    assert files[0].stat().st_mode & 0o077 == 0
    knowledge_files.load.cache_clear()
    assert knowledge_files.load("run_commands.yml") == fresh


def test_cached_data_is_what_the_cache_holds(cache_home: Path) -> None:
    """Proves the second load reads the cache file (not the YAML) while the text is the same."""
    text = knowledge_files.data_dir().joinpath("shell_inert.yml").read_text(encoding="utf-8")
    path = cache_file("shell_inert.yml", text)
    real = knowledge_files.load("shell_inert.yml")
    write_cached(path, {**real, "marker": "from the cache"})
    knowledge_files.load.cache_clear()
    assert knowledge_files.load("shell_inert.yml")["marker"] == "from the cache"


def test_another_text_has_another_cache_file_and_the_old_one_goes(cache_home: Path) -> None:
    first, second = cache_file("x.yml", "a: 1\n"), cache_file("x.yml", "a: 2\n")
    assert first != second
    write_cached(first, {"a": 1})
    write_cached(second, {"a": 2})
    assert not first.exists() and read_cached(second) == {"a": 2}


def test_a_cache_file_others_can_write_is_not_read(cache_home: Path) -> None:
    path = cache_file("x.yml", "a: 1\n")
    write_cached(path, {"a": 1})
    os.chmod(path, 0o666)
    assert read_cached(path) is None


def test_garbage_is_parsed_again(cache_home: Path) -> None:
    text = knowledge_files.data_dir().joinpath("gh_commands.yml").read_text(encoding="utf-8")
    path = cache_file("gh_commands.yml", text)
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_bytes(b"\x00not marshal")
    os.chmod(path, 0o600)
    assert read_cached(path) is None
    data = knowledge_files.load("gh_commands.yml")
    assert isinstance(data, dict) and data  # parsed from the YAML, and the cache rewritten
    assert read_cached(path) == data


def test_an_unwritable_cache_costs_nothing(cache_home: Path) -> None:
    """The cache folder cannot be made (a file stands where it goes: unwritable for root too);
    the data is parsed and nothing is written."""
    (cache_home / "gha-fix").mkdir(mode=0o700)
    (cache_home / "gha-fix" / "knowledge").write_text("not a folder")
    assert knowledge_files.load("fork_guard.yml")
    assert (cache_home / "gha-fix" / "knowledge").read_text() == "not a folder"


def test_derived_facts_are_worked_out_once_per_text(cache_home: Path) -> None:
    calls: list[int] = []

    def count_rules(rules: list) -> int:
        calls.append(1)
        return len(rules)

    first = knowledge_files.derived("run_commands.yml", "count", count_rules)
    second = knowledge_files.derived("run_commands.yml", "count", count_rules)
    assert first == second == len(knowledge_files.load("run_commands.yml"))
    assert calls == [1]  # the second came from the cache file
    assert knowledge_files.derived("run_commands.yml", "other", lambda _: "x") == "x"
