"""The metadata cache is trusted only when it is ours (issue #13, item 21): keyed by the
host the answers came from; folders 0700 and files 0600 whatever the umask; an entry or a
folder that another user owns, or that others may write, is ignored and said once; each
entry and the whole cache are bounded.  A real HTTP server on loopback serves the files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_servers import Routes
from test_actions_meta import WORKFLOW as CALLER

from gha_fix.codemod.github_files import GitHubFiles, ResolverError
from gha_fix.transforms.analysis.action_metadata import ActionMetadata, classify

SHA = "0123456789abcdef0123456789abcdef01234567"
PLAIN = "name: Plain\nruns: {using: node20, main: index.js}\n"
TOKENED = ("name: Labeler\ninputs:\n  repo-token: {default: '${{ github.token }}'}\n"
           "runs: {using: node20, main: index.js}\n")
@pytest.fixture
def servers() -> Iterator[tuple[Routes, Routes]]:
    """Two hosts with different answers at the same paths (GitHub and a mirror)."""
    first, second = Routes("127.0.0.1"), Routes("127.0.0.2")
    for path in (f"/o/a/{SHA}/action.yml", "/o/a/v1/action.yml"):
        first.serve(path, PLAIN)
        second.serve(path, TOKENED)
    for index in range(8):
        first.serve(f"/o/n{index}/v1/action.yml", PLAIN + "#" * 2000 + "\n")
    yield first, second
    first.close()
    second.close()


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


def lookup(server: Routes, cache: Path, **options: object) -> ActionMetadata:
    files = GitHubFiles(cache, base_url=server.url, api_url=server.url + "/api", timeout=5,
                        retries=0, **options)  # type: ignore[arg-type]
    return ActionMetadata(files, index={})


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*.json") if p.is_file())


def test_cache_is_keyed_by_host(servers: tuple[Routes, Routes], tmp_path: Path) -> None:
    """Failed before the fix: the key ignored the host, so what a mirror (or a test server)
    answered for a commit SHA was trusted for GitHub forever."""
    first, second = servers
    assert classify(lookup(first, tmp_path).action(f"o/a@{SHA}")) == "no-token"  # type: ignore[arg-type]
    other = lookup(second, tmp_path)
    meta = other.action(f"o/a@{SHA}")
    assert meta is not None and classify(meta) == "token" and other.files.requests == 1
    again = lookup(first, tmp_path)  # each host keeps its own entries
    assert classify(again.action(f"o/a@{SHA}")) == "no-token"  # type: ignore[arg-type]
    assert again.files.requests == 0


def test_an_entry_that_names_another_host_is_ignored(
    servers: tuple[Routes, Routes], tmp_path: Path
) -> None:
    """An entry copied into another host's folder (its `url` names the other host) is not
    taken for this host's answer."""
    first, second = servers
    lookup(first, tmp_path).action(f"o/a@{SHA}")
    lookup(second, tmp_path).action(f"o/a@{SHA}")
    mine, theirs = sorted(entries(tmp_path), key=lambda p: first.url not in p.read_text())
    mine.write_bytes(theirs.read_bytes())
    again = lookup(first, tmp_path)
    assert classify(again.action(f"o/a@{SHA}")) == "no-token"  # type: ignore[arg-type]
    assert again.files.requests == 1


def test_modes_ignore_the_umask(servers: tuple[Routes, Routes], tmp_path: Path) -> None:
    """Failed before the fix: under umask 000 the folders were 0777 (anyone could plant)."""
    first, _ = servers
    cache = tmp_path / "xdg" / "gha-fix"
    script = (
        "import os, sys; os.umask(0);"
        "from gha_fix.codemod.github_files import GitHubFiles as F;"
        "from gha_fix.transforms.analysis.action_metadata import ActionMetadata as M;"
        f"M(F(sys.argv[1], base_url='{first.url}', retries=0), index={{}}).action('o/a@v1')"
    )
    subprocess.run([sys.executable, "-c", script, str(cache)], check=True, timeout=30)
    found = [cache, *cache.rglob("*")]
    assert len(entries(cache)) == 1
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in found}
    assert modes == {k: 0o700 if (tmp_path / k).is_dir() else 0o600 for k in modes}


def plant(server: Routes, cache: Path, text: str) -> Path:
    """A real entry for o/a@v1, then its text replaced (as an attacker would)."""
    lookup(server, cache).action("o/a@v1")
    entry, = entries(cache)
    data = json.loads(entry.read_text())
    entry.write_text(json.dumps({**data, "text": text}))
    return entry


@pytest.mark.parametrize("how", ["file-writable", "folder-writable", "other-owner", "symlink"])
def test_a_planted_entry_is_ignored_and_said_once(
    servers: tuple[Routes, Routes], tmp_path: Path, how: str
) -> None:
    """Failed before the fix: a world-writable (or foreign, or linked) entry was believed, so
    a planted `action.yml` decided which permissions gha-fix wrote as a safe fix."""
    first, _ = servers
    entry = plant(first, tmp_path, TOKENED)
    if how == "file-writable":
        entry.chmod(0o666)
    elif how == "folder-writable":
        entry.parent.parent.chmod(0o777)
    elif how == "other-owner":
        if os.geteuid() != 0:
            pytest.skip("changing an owner needs root")
        os.chown(entry, 65534, 65534)
    else:
        target = tmp_path.parent / f"{tmp_path.name}-elsewhere.json"
        target.write_text(entry.read_text())
        entry.unlink()
        entry.symlink_to(target)
    r = lookup(first, tmp_path, offline=True)
    with pytest.raises(ResolverError) as said:
        r.action("o/a@v1")
    assert "ignored" in str(said.value) and "\n" not in str(said.value)
    assert r.action("o/a@v1") is None  # not believed: offline, nothing else knows it
    r.action("o/a/sub@v1")  # another lookup: no second message
    online = lookup(first, tmp_path)
    with pytest.raises(ResolverError):
        online.action("o/a@v1")
    meta = online.action("o/a@v1")  # fetched again from the host
    assert meta is not None and classify(meta) == "no-token" and online.files.requests == 1


def test_a_planted_workflow_does_not_become_a_safe_fix(
    servers: tuple[Routes, Routes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Failed before the fix: a world-writable cache entry for a reusable workflow made
    `gha-fix check` propose `contents: write` as a safe fix."""
    from typer.testing import CliRunner

    from gha_fix.codemod import runner
    from gha_fix.codemod.cli import app

    first, _ = servers
    monkeypatch.setattr(runner, "_RESOLVERS", {})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("GHA_FIX_METADATA_URL", first.url)
    monkeypatch.setenv("GHA_FIX_API_URL", first.url + "/api")
    monkeypatch.setenv("GHA_FIX_OFFLINE", "0")
    first.serve("/o/wf/v1/.github/workflows/publish.yml", CALLER.replace("write", "read"))
    repo = tmp_path / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / ".github/workflows/ci.yml").write_text(
        "on: push\njobs:\n  call:\n    uses: o/wf/.github/workflows/publish.yml@v1\n")
    CliRunner().invoke(app, ["check", "--select", "permissions", str(repo)])
    entry, = entries(tmp_path / "xdg")
    data = json.loads(entry.read_text())
    entry.write_text(json.dumps({**data, "text": CALLER}))
    entry.chmod(0o666)
    result = CliRunner().invoke(app, ["check", "--offline", "--select", "permissions",
                                      str(repo)])
    assert "contents: write" not in result.stdout
    assert result.stderr.count("ignored") == 1


def test_entries_and_the_cache_are_bounded(
    servers: tuple[Routes, Routes], tmp_path: Path
) -> None:
    """Failed before the fix: no limit.  An entry over the entry limit is neither written nor
    read; past the total limit the oldest entries go."""
    first, _ = servers
    r = lookup(first, tmp_path, max_cache_bytes=3 * 2600)
    for index in range(8):
        assert r.action(f"o/n{index}@v1") is not None
    left = entries(tmp_path)
    assert 1 <= len(left) <= 3 and sum(p.stat().st_size for p in left) <= 3 * 2600
    assert any("o/n7" in p.read_text() for p in left)  # the newest is kept
    small = lookup(first, tmp_path / "small", max_entry_bytes=1000)
    assert small.action("o/n0@v1") is not None and not entries(tmp_path / "small")
    big = plant(first, tmp_path / "big", PLAIN + "#" * 3_000_000)
    assert big.stat().st_size > 2 * 1024 * 1024
    again = lookup(first, tmp_path / "big", offline=True)
    assert again.action("o/a@v1") is None  # too big to be one of ours: not read
