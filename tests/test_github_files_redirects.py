"""The token goes to the configured hosts only, never across a redirect to another origin
(issue #13, item 4); real HTTP servers on 127.0.0.1 and 127.0.0.2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_servers import Routes

from gha_fix.codemod.github_files import GitHubFiles
from gha_fix.transforms.analysis.action_metadata import ActionMetadata

TOKEN = "test-token-not-real"
PLAIN = "name: Plain\nruns: {using: node20, main: index.js}\n"


@pytest.fixture
def hosts() -> Iterator[tuple[Routes, Routes, Routes]]:
    """The configured host (127.0.0.1), another host (127.0.0.2), another port (127.0.0.1)."""
    servers = (Routes("127.0.0.1"), Routes("127.0.0.2"), Routes("127.0.0.1"))
    yield servers
    for server in servers:
        server.close()


@pytest.fixture(autouse=True)
def env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)


def lookup(home: Routes, cache: Path) -> ActionMetadata:
    files = GitHubFiles(cache, base_url=home.url, api_url=home.url + "/api", timeout=5,
                        retries=0)
    return ActionMetadata(files, index={})


def test_token_does_not_follow_a_redirect_to_another_host(
    hosts: tuple[Routes, Routes, Routes], tmp_path: Path
) -> None:
    """Failed before the fix: urllib copied `Authorization` to every hop, so 127.0.0.2 got
    the token (twice here), and 127.0.0.1 again after the chain came back."""
    home, other, _ = hosts
    home.redirect("/o/moved/v1/action.yml", other.url + "/hop")
    other.redirect("/hop", other.url + "/o/moved/v1/action.yml")
    other.serve("/o/moved/v1/action.yml", PLAIN)
    home.redirect("/o/away/v1/action.yml", other.url + "/back")
    other.redirect("/back", home.url + "/o/plain/v1/action.yml")
    home.serve("/o/plain/v1/action.yml", PLAIN)
    r = lookup(home, tmp_path)
    moved = r.action("o/moved@v1")
    assert moved is not None and moved.using == "node20"
    assert r.action("o/away@v1") is not None
    assert other.tokens() == []
    # the configured host got it on the first request of each chain, not after coming back
    assert home.seen == [("/o/moved/v1/action.yml", f"Bearer {TOKEN}"),
                         ("/o/away/v1/action.yml", f"Bearer {TOKEN}"),
                         ("/o/plain/v1/action.yml", None)]


def test_token_does_not_follow_a_redirect_to_another_port(
    hosts: tuple[Routes, Routes, Routes], tmp_path: Path
) -> None:
    """Failed before the fix: same host name, another port (another origin) got the token."""
    home, _, port = hosts
    home.redirect("/o/moved/v1/action.yml", port.url + "/o/moved/v1/action.yml", 301)
    port.serve("/o/moved/v1/action.yml", PLAIN)
    assert lookup(home, tmp_path).action("o/moved@v1") is not None
    assert port.seen == [("/o/moved/v1/action.yml", None)]


def test_token_follows_a_redirect_on_the_same_origin(
    hosts: tuple[Routes, Routes, Routes], tmp_path: Path
) -> None:
    """A renamed repository redirects on the same host: the token is kept (rate limit)."""
    home, _, _ = hosts
    home.redirect("/o/renamed/v1/action.yml", "/o/plain/v1/action.yml", 301)
    home.serve("/o/plain/v1/action.yml", PLAIN)
    assert lookup(home, tmp_path).action("o/renamed@v1") is not None
    assert home.tokens() == [f"Bearer {TOKEN}"] * 2


def test_redirect_to_another_scheme_is_refused(
    hosts: tuple[Routes, Routes, Routes], tmp_path: Path
) -> None:
    """Failed before the fix: urllib followed a redirect to ftp:// (and tried to connect)."""
    home, _, _ = hosts
    home.redirect("/o/ftp/v1/action.yml", "ftp://127.0.0.1:9/action.yml")
    r = lookup(home, tmp_path)
    assert r.action("o/ftp@v1") is None
    why = r.why("o/ftp@v1")
    assert "redirect" in why and TOKEN not in why


def test_token_goes_only_to_the_configured_hosts(
    hosts: tuple[Routes, Routes, Routes], tmp_path: Path
) -> None:
    """The API host gets it too (it is configured); no error message shows it."""
    _, other, _ = hosts
    other.serve("/api/repos/o/viaapi/contents/action.yml", PLAIN)
    files = GitHubFiles(tmp_path, base_url="http://127.0.0.1:9", api_url=other.url + "/api",
                        timeout=5, retries=0)
    r = ActionMetadata(files, index={})
    assert r.action("o/viaapi@v1") is not None
    assert other.tokens() == [f"Bearer {TOKEN}"]
    assert r.action("o/nothing@v1") is None and TOKEN not in r.why("o/nothing@v1")
