"""`gha-fix diagnose --run`: a run fetched from a GitHub API on loopback (tests/loopback_servers.py
`GitHubServer`, real HTTP, GitHub's response shapes), diagnosed like the same log given as a file.

Every collected failure text (tests/data/failures/failures.yml) goes through both paths: as a
log file and as the log of a failed job of a run; the two diagnoses agree with the case."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from loopback_servers import FakeJob, GitHubServer
from ruamel.yaml import YAML
from test_cli import invoke, make_repo

CORPUS = YAML(typ="safe").load((ROOT / "tests" / "data" / "failures" / "failures.yml").read_text())
TOKEN = "ghs_loopbackTestToken0123456789abcdef"

WORKFLOW = """\
name: Release
on:
  push:
    tags: ['v*']
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - name: Publish
        run: gh release create "$GITHUB_REF_NAME"
        env:
          GH_TOKEN: ${{ github.token }}
"""

RELEASE_LOG = """\
##[group]Run gh release create "$GITHUB_REF_NAME"
gh release create "$GITHUB_REF_NAME"
shell: /usr/bin/bash -e {0}
env:
  GH_TOKEN: ***
##[endgroup]
HTTP 403: Resource not accessible by integration (https://api.github.com/repos/octo/app/releases)
##[error]Process completed with exit code 1.
"""


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubServer]:
    for name in ("GHA_FIX_OFFLINE", "GHA_FIX_API_URL", "GH_HOST", "GITHUB_TOKEN",
                 "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    server = GitHubServer()
    yield server
    server.close()


def run_json(server: GitHubServer, *args: str | Path) -> tuple[int, dict, str]:
    code, out, err = invoke("diagnose", "--github-url", server.web, "--format", "json", *args)
    return code, json.loads(out) if out.strip() else {}, err


@pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
def test_every_failure_text_from_a_file_and_from_run(case: dict, github: GitHubServer,
                                                     tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    log.write_text(case["text"])
    code_file, out, _ = invoke("diagnose", "--format", "json", log)
    from_file = json.loads(out)
    github.add_run(77, [FakeJob("build", case["text"], failed_step="Build")])
    code_run, from_run, err = run_json(github, "--run", "77", "--github-repo", github.slug)
    for result, code in ((from_file, code_file), (from_run, code_run)):
        assert result["cause"] == case["cause"], err
        assert result["possible_causes"] == case.get("possible", [])
        if "scopes" in case:
            assert result["scopes"] == case["scopes"]
        assert code == (1 if case["cause"] == "unknown" else 0)
    assert from_run["evidence"] == from_file["evidence"]
    if case["cause"] != "unknown":  # the API's job and failed step name the failing line
        assert (from_run["job"], from_run["step"]) == ("build", "Build")


def test_a_run_url_is_located_in_the_checkout_with_a_patch(github: GitHubServer,
                                                          tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", {".github/workflows/release.yml": WORKFLOW})
    github.add_run(30433642, [FakeJob("test"), FakeJob("release", RELEASE_LOG, "Publish")])
    url = f"{github.web}/{github.slug}/actions/runs/30433642"
    code, result, _ = run_json(github, "--run", url, "--repo", repo)
    assert code == 0
    assert result["cause"] == "missing-scope"
    assert (result["workflow"], result["job"], result["step"], result["line"]) == (
        ".github/workflows/release.yml", "release", "Publish", 16)
    assert result["scopes"] == ["contents:write"]
    assert "+      contents: write" in result["patch"]
    assert result["notes"][0].startswith(f"run {url} (push, commit aaaaaaa); failed jobs "
                                         "read: 'release'")
    paths = [c.path.split("?")[0] for c in github.api.calls]
    assert paths == [f"/api/v3/repos/{github.slug}/actions/runs/30433642",
                     f"/api/v3/repos/{github.slug}/actions/runs/30433642/jobs",
                     f"/api/v3/repos/{github.slug}/actions/jobs/304336421/logs"]


def test_the_token_stays_on_the_api_host_across_the_log_redirect(github: GitHubServer) -> None:
    github.add_run(5, [FakeJob("release", RELEASE_LOG, "Publish")])
    code, result, _ = run_json(github, "--run", "5", "--github-repo", github.slug)
    assert code == 0 and result["cause"] == "missing-scope"
    assert {c.authorization for c in github.api.calls} == {f"Bearer {TOKEN}"}
    assert [c.path for c in github.blob.calls] == ["/logs/50.txt?sig=abc"]
    assert github.blob.tokens() == []  # the storage host never sees the token


def test_without_a_checkout_the_run_s_workflow_at_its_commit_locates_the_step(
        github: GitHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .github/workflows here
    github.add_run(6, [FakeJob("release", RELEASE_LOG, "Publish")], workflow_text=WORKFLOW,
                   head_sha="b" * 40)
    code, result, _ = run_json(github, "--run", "6", "--github-repo", github.slug)
    assert code == 0
    assert (result["workflow"], result["job"], result["line"]) == (
        ".github/workflows/release.yml", "release", 16)
    assert "located in .github/workflows/release.yml at the run's commit bbbbbbb" in " ".join(
        result["notes"])
    assert any(c.path.endswith(f"contents/.github/workflows/release.yml?ref={'b' * 40}")
               for c in github.api.calls)


def test_text_output_and_a_job_url(github: GitHubServer) -> None:
    github.add_run(8, [FakeJob("lint", "all good\n", "Lint"),
                       FakeJob("release", RELEASE_LOG, "Publish")])
    jobs = json.loads(github.api.routes[f"/api/v3/repos/{github.slug}/actions/runs/8/jobs"][2])
    release_id = jobs["jobs"][1]["id"]
    url = f"{github.web}/{github.slug}/actions/runs/8/job/{release_id}"
    code, out, _ = invoke("diagnose", "--github-url", github.web, "--run", url)
    assert code == 0
    assert out.startswith("cause: missing-scope")
    assert "failed jobs read: 'release'" in out  # the URL names one job: the other is not read
    assert not any(c.path.startswith(f"/logs/{jobs['jobs'][0]['id']}") for c in github.blob.calls)


def test_a_run_on_another_host_is_refused_before_any_request(github: GitHubServer) -> None:
    code, _, err = invoke("diagnose", "--github-url", github.web, "--run",
                          "https://github.com/octo/app/actions/runs/1")
    assert code == 2
    assert "the run is on github.com but gha-fix talks to 127.0.0.1:" in err
    assert github.api.calls == []


def test_an_id_needs_a_repository(github: GitHubServer, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("diagnose", "--github-url", github.web, "--run", "12")
    assert code == 2 and "which repository? give --github-repo OWNER/REPO" in err


def test_a_missing_run_and_a_refusing_api_say_why(github: GitHubServer) -> None:
    code, _, err = invoke("diagnose", "--github-url", github.web, "--run", "404",
                          "--github-repo", github.slug)
    assert code == 2 and "run 404 of octo/app: not found (HTTP 404)" in err
    github.route(f"repos/{github.slug}/actions/runs/403",
                 {"message": "Resource not accessible by integration"}, status=403)
    code, _, err = invoke("diagnose", "--github-url", github.web, "--run", "403",
                          "--github-repo", github.slug)
    assert code == 2
    assert "HTTP 403 (Resource not accessible by integration)" in err
    assert TOKEN not in err


def test_an_expired_log_is_a_note_and_the_cause_is_unknown(github: GitHubServer) -> None:
    github.add_run(9, [FakeJob("release", RELEASE_LOG, "Publish")])
    github.api.routes[f"/api/v3/repos/{github.slug}/actions/jobs/90/logs"] = (
        410, {}, b'{"message": "Gone"}')
    code, result, _ = run_json(github, "--run", "9", "--github-repo", github.slug)
    assert code == 1 and result["cause"] == "unknown"
    assert any("the log of job 'release' could not be fetched" in n for n in result["notes"])


def test_a_log_or_a_run_not_both(github: GitHubServer, tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("x\n")
    assert invoke("diagnose", log, "--run", "1")[0] == 2
    assert invoke("diagnose")[0] == 2


def test_offline_refuses_run(github: GitHubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHA_FIX_OFFLINE", "1")
    code, _, err = invoke("diagnose", "--github-url", github.web, "--run", "1",
                          "--github-repo", github.slug)
    assert code == 2 and "GHA_FIX_OFFLINE" in err
    assert github.api.calls == []


PR_WORKFLOW = WORKFLOW.replace("  push:\n    tags: ['v*']\n", "  pull_request:\n")


def test_the_run_s_record_names_a_fork_s_or_dependabot_s_read_only_token(
        github: GitHubServer, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", {".github/workflows/release.yml": PR_WORKFLOW})
    log = tmp_path / "release.log"
    log.write_text(RELEASE_LOG)
    offline = json.loads(invoke("diagnose", "--format", "json", "--repo", repo, log)[1])
    assert (offline["cause"], offline["possible_causes"]) == ("missing-scope", ["fork-read-only"])

    github.add_run(11, [FakeJob("release", RELEASE_LOG, "Publish")], event="pull_request",
                   head_repository="someone/app")
    github.add_run(12, [FakeJob("release", RELEASE_LOG, "Publish")], event="pull_request",
                   actor="dependabot[bot]")
    github.add_run(13, [FakeJob("release", RELEASE_LOG, "Publish")], event="pull_request")
    fork, dependabot, same = (run_json(github, "--run", str(i), "--github-repo", github.slug,
                                       "--repo", repo)[1] for i in (11, 12, 13))
    assert (fork["cause"], fork["possible_causes"], fork["scopes"]) == (
        "fork-read-only", [], ["contents:write"])
    assert "the run is a pull request from the fork someone/app: its GITHUB_TOKEN is " \
           "read-only" in fork["notes"]
    assert (dependabot["cause"], dependabot["possible_causes"]) == ("dependabot-read-only", [])
    # a pull request from a branch of the repository itself: not a fork, whatever the log
    assert (same["cause"], same["possible_causes"]) == ("missing-scope", [])


def test_a_large_log_is_read_from_its_end_and_says_so(github: GitHubServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gha_fix.transforms.diagnose.run.MAX_LOG_BYTES", 64 * 1024)
    filler = "".join(f"compiling module {n} of 5000\n" for n in range(5000))  # ~150 KiB
    github.add_run(14, [FakeJob("release", filler + RELEASE_LOG, "Publish")])
    code, result, _ = run_json(github, "--run", "14", "--github-repo", github.slug)
    assert code == 0 and result["cause"] == "missing-scope"  # the failure is at the end
    assert "the log of job 'release' is larger than 64 KiB: only its last 64 KiB were read" in \
        result["notes"]
