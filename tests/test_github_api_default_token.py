"""The repository's default token read from a GitHub API on loopback
(`GET /repos/{owner}/{repo}/actions/permissions/workflow`), cached, said, and used by the
permissions transform when the config does not say it (codemod/default_token.py)."""

from __future__ import annotations

import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_servers import GitHubServer
from test_cli import invoke, make_repo

TOKEN = "ghs_defaultTokenTest0123456789"
PATH = ".github/workflows/ci.yml"

# one job gha-fix cannot see into (an action it does not know), one it understands
WORKFLOW = """\
name: ci
on: [push]
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: acme-corp/ship-it@v2
  notes:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: gh issue comment 1 --body hi
        env:
          GH_TOKEN: ${{ github.token }}
"""

# restricted default: `publish` keeps exactly that default in a block of its own, so the top
# level can be read-only (written by hand)
RESTRICTED_FIXED = """\
name: ci
on: [push]
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      packages: read
    steps:
      - uses: acme-corp/ship-it@v2
  notes:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      issues: write  # gh issue comment
    steps:
      - uses: actions/checkout@v4
      - run: gh issue comment 1 --body hi
        env:
          GH_TOKEN: ${{ github.token }}
"""

# a default gha-fix does not know (permissive, or not read): the top level is left alone, as
# is `publish`; `notes` gets its block (written by hand)
UNKNOWN_DEFAULT_FIXED = """\
name: ci
on: [push]
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: acme-corp/ship-it@v2
  notes:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      issues: write  # gh issue comment
    steps:
      - uses: actions/checkout@v4
      - run: gh issue comment 1 --body hi
        env:
          GH_TOKEN: ${{ github.token }}
"""


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[GitHubServer]:
    for name in ("GHA_FIX_OFFLINE", "GHA_FIX_API_URL", "GH_HOST", "GITHUB_TOKEN",
                 "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GHA_FIX_METADATA_TIMEOUT", "0")  # action metadata: offline index only
    server = GitHubServer()
    yield server
    server.close()


def checkout(root: Path, files: dict[str, str] | None = None) -> Path:
    make_repo(root, {PATH: WORKFLOW, **(files or {})})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin",
                    "https://github.com/octo/app.git"], check=True)
    return root


def apply(server: GitHubServer, root: Path, *args: str) -> tuple[int, str]:
    code, _, err = invoke("apply", "--no-commit", "--github-url", server.web, *args, root)
    return code, err


def settings_calls(server: GitHubServer) -> list[str | None]:
    return [c.authorization for c in server.api.calls
            if c.path == "/api/v3/repos/octo/app/actions/permissions/workflow"]


def test_a_restricted_default_from_github_lets_the_top_level_be_read_only(
        github: GitHubServer, tmp_path: Path) -> None:
    github.default_permissions("octo/app", "read")
    root = checkout(tmp_path / "app")
    code, err = apply(github, root)
    assert code == 0
    assert (root / PATH).read_text() == RESTRICTED_FIXED
    assert ("default token of octo/app: read-only (restricted: contents and packages read), "
            "the repository's setting on GitHub") in err
    assert settings_calls(github) == [f"Bearer {TOKEN}"]
    # cached per repository: a second run does not ask again
    (root / PATH).write_text(WORKFLOW)
    code, err = apply(github, root)
    assert (root / PATH).read_text() == RESTRICTED_FIXED
    assert "default token of octo/app: read-only" in err
    assert len(settings_calls(github)) == 1


def test_a_permissive_default_changes_nothing_for_jobs_not_understood(
        github: GitHubServer, tmp_path: Path) -> None:
    github.default_permissions("octo/app", "write")
    root = checkout(tmp_path / "app")
    code, err = apply(github, root)
    assert code == 0
    assert (root / PATH).read_text() == UNKNOWN_DEFAULT_FIXED
    assert "default token of octo/app: read and write (permissive)" in err


@pytest.mark.parametrize("status", [403, 404])
def test_without_access_it_behaves_as_before_and_says_why(github: GitHubServer, tmp_path: Path,
                                                         status: int) -> None:
    github.default_permissions("octo/app", None, status=status)
    root = checkout(tmp_path / "app")
    code, err = apply(github, root)
    assert code == 0
    assert (root / PATH).read_text() == UNKNOWN_DEFAULT_FIXED
    assert ("default token: not read from GitHub (the token cannot read the repository's "
            "Actions settings (it needs `administration: read`, or the classic `repo` scope)); "
            "jobs without a block are treated as before") in err


def test_the_config_overrides_and_nothing_is_asked(github: GitHubServer, tmp_path: Path) -> None:
    github.default_permissions("octo/app", "read")
    root = checkout(tmp_path / "app", {".github/gha-fix.yml":
                                       "permissions:\n  repository_default: permissive\n"})
    code, err = apply(github, root)
    assert code == 0
    assert (root / PATH).read_text() == UNKNOWN_DEFAULT_FIXED
    assert settings_calls(github) == []
    assert "default token" not in err


def test_no_token_and_offline(github: GitHubServer, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    github.default_permissions("octo/app", "read")
    monkeypatch.delenv("GH_TOKEN")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text("#!/bin/sh\necho 'You are not logged into any GitHub hosts.' >&2\nexit 1\n")
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    git = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True).stdout
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(git.strip()).parent}")
    root = checkout(tmp_path / "app")
    code, err = apply(github, root)
    assert code == 0
    assert (root / PATH).read_text() == UNKNOWN_DEFAULT_FIXED
    assert "default token: not read from GitHub (no token: set GH_TOKEN" in err
    assert settings_calls(github) == []
    (root / PATH).write_text(WORKFLOW)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    code, err = apply(github, root, "--offline")
    assert (root / PATH).read_text() == UNKNOWN_DEFAULT_FIXED
    assert settings_calls(github) == [] and "default token" not in err


def test_check_says_it_once_per_repository(github: GitHubServer, tmp_path: Path) -> None:
    github.default_permissions("octo/app", "read")
    github.default_permissions("octo/lib", None, status=403)
    app = checkout(tmp_path / "fleet" / "app")
    lib = checkout(tmp_path / "fleet" / "lib")
    subprocess.run(["git", "-C", str(lib), "remote", "set-url", "origin",
                    "git@github.com:octo/lib.git"], check=True)
    code, _, err = invoke("check", "--github-url", github.web, "--jobs", "1", app, lib)
    assert code == 1
    lines = [line for line in err.splitlines() if "default token" in line]
    assert len(lines) == 2
    assert any("default token of octo/app: read-only" in line for line in lines)
    assert any("lib: default token: not read from GitHub" in line for line in lines)


def test_a_rate_limit_stops_asking_for_the_rest_of_the_run(github: GitHubServer,
                                                          tmp_path: Path) -> None:
    reset = str(int(time.time()) + 3600)
    github.api.routes["/api/v3/repos/octo/app/actions/permissions/workflow"] = (
        429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, b"{}")
    app = checkout(tmp_path / "fleet" / "app")
    lib = checkout(tmp_path / "fleet" / "lib")
    code, _, err = invoke("check", "--github-url", github.web, "--jobs", "1", app, lib)
    assert code == 1
    assert len(settings_calls(github)) == 1  # the second repository is not asked
    assert ("default token: not read from GitHub (GitHub rate limit reached (HTTP 429); resets "
            "at") in err
    assert "(2 repositories:" in err
