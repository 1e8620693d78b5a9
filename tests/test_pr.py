"""`gha-fix apply --pr`: commit, push to a bare `origin` on disk, and open (or update) the pull
request on a GitHub API on loopback (tests/loopback_servers.py `GitHubServer`)."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_servers import GitHubServer
from repo_helpers import git, make_repo
from test_cli import invoke

TOKEN = "ghs_pullRequestTest0123456789"
PAT = "ghp_" + "FAKE" * 9  # a classic PAT (shape only), written in a file

WORKFLOW = f"""\
name: publish
on:
  push:
    branches: [main]
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: gh release create "v$(date +%Y%m%d)"
        env:
          GH_TOKEN: ${{{{ github.token }}}}
  mirror:
    runs-on: ubuntu-latest
    steps:
      - uses: acme-corp/ship-it@v2
        with:
          token: {PAT}
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
    server.default_permissions("octo/app", None, status=403)
    yield server
    server.close()


def repo_with_origin(tmp_path: Path, slug: str = "octo/app") -> tuple[Path, Path]:
    """A checkout whose `origin` is a bare repository at .../OWNER/REPO.git (so its slug)."""
    origin = tmp_path / "remotes" / f"{slug}.git"
    origin.parent.mkdir(parents=True, exist_ok=True)
    git(tmp_path, "init", "-q", "--bare", str(origin))
    repo = make_repo(tmp_path / slug.replace("/", "-"), {".github/workflows/publish.yml": WORKFLOW})
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return repo, origin


def apply_pr(server: GitHubServer, *args: str | Path) -> tuple[int, str]:
    code, _, err = invoke("apply", "--pr", "--github-url", server.web, *args, only=None)
    return code, err


def pulls_calls(server: GitHubServer) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in server.api.calls if "/pulls" in c.path]


def test_the_pull_request_is_opened_with_a_body_to_review(github: GitHubServer,
                                                          tmp_path: Path) -> None:
    repo, origin = repo_with_origin(tmp_path)
    code, err = apply_pr(github, repo)
    assert code == 0, err
    branch = git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    assert branch.startswith("gha-fix/")
    assert git(origin, "rev-parse", f"refs/heads/{branch}") == git(repo, "rev-parse", "HEAD")
    assert pulls_calls(github) == [
        ("GET", f"/api/v3/repos/octo/app/pulls?head=octo:{branch}&state=open"),
        ("POST", "/api/v3/repos/octo/app/pulls")]
    assert f"pull request opened: {github.web}/octo/app/pull/1" in err
    assert "gh pr create" not in err  # the hint is replaced by the pull request
    (pull,) = github.pulls
    assert pull["head"]["ref"] == branch and pull["base"]["ref"] == "main"
    subject = git(repo, "log", "-1", "--format=%s").strip()
    assert pull["title"] == subject
    body = pull["body"]
    assert "### `.github/workflows/publish.yml`" in body
    assert "  - `contents: write`: gh release create" in body  # the why-comment
    assert re.search(r"Left as is:\n\n- line \d+: \[permissions\] job mirror left as is: "
                     r"unknown action acme-corp/ship-it@v2", body)
    created = re.search(r"- `(\w+)`: `gh secret set \1 --repo octo/app`", body)
    assert created, body
    assert "**Rotate the credentials that were written in plain text**" in body
    assert PAT not in body and PAT[4:] not in body and TOKEN not in body
    posted = [c for c in github.api.calls if c.method == "POST"]
    assert posted[0].authorization == f"Bearer {TOKEN}"
    assert PAT.encode() not in posted[0].body


def test_an_open_pull_request_of_the_branch_is_updated_not_duplicated(
        github: GitHubServer, tmp_path: Path) -> None:
    repo, _ = repo_with_origin(tmp_path)
    earlier = github.fixture("pull", number=7, branch="fix/ci-perms", slug="octo/app")
    earlier.update(number=7, title="an older title", body="an older body")
    github.pulls.append(earlier)
    code, err = apply_pr(github, "--branch", "fix/ci-perms", repo)
    assert code == 0, err
    assert pulls_calls(github) == [
        ("GET", "/api/v3/repos/octo/app/pulls?head=octo:fix/ci-perms&state=open"),
        ("PATCH", "/api/v3/repos/octo/app/pulls/7")]
    assert f"pull request updated: {github.web}/octo/app/pull/7" in err
    assert len(github.pulls) == 1
    assert github.pulls[0]["title"].startswith("gha-fix: fix ")
    assert "### `.github/workflows/publish.yml`" in github.pulls[0]["body"]


def test_no_token_is_one_line_before_any_commit_or_push(github: GitHubServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    repo, origin = repo_with_origin(tmp_path)
    monkeypatch.delenv("GH_TOKEN")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text("#!/bin/sh\necho 'You are not logged into any GitHub hosts.' >&2\nexit 1\n")
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    git_bin = subprocess.run(["sh", "-c", "command -v git"], capture_output=True,
                             text=True).stdout.strip()
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(git_bin).parent}")
    before = git(repo, "for-each-ref")
    code, err = apply_pr(github, repo)
    assert code == 2
    assert err.strip().splitlines() == [
        "gha-fix: --pr needs a GitHub token for 127.0.0.1:"
        f"{github.host.split(':')[1]}: set GH_TOKEN (or GITHUB_TOKEN) or run `gh auth login`; "
        "nothing was committed or pushed"]
    assert git(repo, "for-each-ref") == before
    assert git(origin, "for-each-ref").count("refs/heads/") == 1  # main only
    assert github.api.calls == []


def test_a_refused_pull_request_keeps_the_pushed_branch_and_says_why(
        github: GitHubServer, tmp_path: Path) -> None:
    repo, origin = repo_with_origin(tmp_path)
    github.refuse_pulls = 403
    code, err = apply_pr(github, repo)
    assert code == 2
    branch = git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    assert git(origin, "rev-parse", f"refs/heads/{branch}")  # pushed
    assert (f"branch {branch} pushed, but the pull request for {branch} could not be opened "
            "in octo/app: GET /api/v3/repos/octo/app/pulls: HTTP 403 (Resource not accessible "
            "by integration)") in err


def test_bulk_one_pull_request_per_repository_listed_in_the_report(
        github: GitHubServer, tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    app, _ = repo_with_origin(fleet, "octo/app")
    lib, _ = repo_with_origin(fleet, "octo/lib")
    github.default_permissions("octo/lib", None, status=403)
    github.repository("octo/lib")
    report = tmp_path / "report.json"
    code, err = apply_pr(github, "--jobs", "2", "--report", report, app, lib)
    assert code == 0, err
    assert sorted(p["base"]["repo"]["full_name"] for p in github.pulls) == ["octo/app",
                                                                            "octo/lib"]
    messages = [m for r in json.loads(report.read_text())["repos"]
                for m in r["messages"] if m.startswith("pull request opened: ")]
    by_repo = {p["base"]["repo"]["full_name"]: p["html_url"] for p in github.pulls}
    assert sorted(messages) == [f"pull request opened: {by_repo['octo/app']}",
                                f"pull request opened: {by_repo['octo/lib']}"]


def test_pr_does_not_go_with_a_dry_run(github: GitHubServer, tmp_path: Path) -> None:
    repo, _ = repo_with_origin(tmp_path)
    code, err = apply_pr(github, "--dry-run", repo)
    assert code == 2 and "--pr commit: they do not go with --dry-run or --no-commit" in err
    assert github.api.calls == []
