"""One deadline per run for action metadata (issue #13, item 20): a host that never answers,
one that trickles a byte a second, one that sends 10 MiB.  Each run ends within the deadline
plus a small margin, says so once, and gives the results of the offline path (cache, index).

The command line runs in a subprocess, so that today's behaviour (95 s per worker, or never)
fails on the subprocess's timeout instead of hanging the suite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_servers import Raw, huge, never_answer, trickle_body, trickle_head

from gha_fix.codemod.github_files import GitHubFiles, ResolverError
from gha_fix.transforms.analysis.action_metadata import ActionMetadata

LIMIT = 2.0  # the run's metadata deadline in these tests
MARGIN = 5.0  # start-up of the interpreter, the analysis, a loaded machine (today: 30 s+)
WORKFLOW = """\
on: push
jobs:
  checkout: {runs-on: ubuntu-latest, steps: [{uses: actions/checkout@v4}]}
  mystery: {runs-on: ubuntu-latest, steps: [{uses: o/mystery@v1}]}
"""
PLAIN = "name: Plain\nruns: {using: node20, main: index.js}\n"
# what the offline path says (actions/checkout from the shipped index; o/mystery unknown)
OFFLINE = ["job checkout: add permissions (contents: read)",
           "job mystery left as is: unknown action o/mystery@v1"]
NOTE = "time limit"


@pytest.fixture
def raw_server(request: pytest.FixtureRequest) -> Iterator[Raw]:
    server = Raw(request.param)
    yield server
    server.close()


def repos(tmp_path: Path, count: int = 1) -> list[Path]:
    out = []
    for index in range(count):
        repo = tmp_path / f"repo{index}"
        (repo / ".github/workflows").mkdir(parents=True)
        (repo / ".github/workflows/ci.yml").write_text(WORKFLOW)
        out.append(repo)
    return out


def run_check(url: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None,
              limit: float = LIMIT) -> tuple[subprocess.CompletedProcess[str], float]:
    environ = {**os.environ, "GHA_FIX_OFFLINE": "0", "GHA_FIX_METADATA_URL": url,
               "GHA_FIX_API_URL": url + "/api", "XDG_CACHE_HOME": str(tmp_path / "cache"),
               **(env or {})}
    environ.pop("GITHUB_TOKEN", None)
    environ.pop("GH_TOKEN", None)
    command = [sys.executable, "-m", "gha_fix.codemod.cli", "check", "--select", "permissions",
               *args]
    start = time.monotonic()
    # a session of its own: on a timeout its worker processes are stopped with it
    with subprocess.Popen(command, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as process:
        try:
            out, err = process.communicate(timeout=limit + MARGIN + 2)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    took = time.monotonic() - start
    return subprocess.CompletedProcess(command, process.returncode, out, err), took


def assert_offline_results(done: subprocess.CompletedProcess[str], notes: int = 1) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    for line in OFFLINE:
        assert line in done.stdout, done.stdout
    assert done.stderr.count(NOTE) == notes, done.stderr


@pytest.mark.parametrize("raw_server", [never_answer, trickle_body, trickle_head],
                         indirect=True, ids=["never-answers", "trickles-body", "trickles-head"])
def test_a_slow_host_costs_the_deadline_once(raw_server: Raw, tmp_path: Path) -> None:
    """Failed before the fix: a host that never answers cost 10 s x 3 attempts per action
    (past the subprocess's timeout), a trickling one never finished."""
    repo, = repos(tmp_path)
    done, took = run_check(raw_server.url, tmp_path, str(repo),
                           env={"GHA_FIX_METADATA_TIMEOUT": str(LIMIT)})
    assert took < LIMIT + MARGIN
    assert_offline_results(done)


@pytest.mark.parametrize("raw_server", [never_answer], indirect=True)
def test_the_workers_of_a_bulk_run_share_the_deadline(raw_server: Raw, tmp_path: Path) -> None:
    """Failed before the fix: each worker process waited on its own (95 s each).  Now the
    deadline is fixed once, at the start of the run, and every worker stops at it; each
    worker says it once."""
    found = repos(tmp_path, 3)
    done, took = run_check(raw_server.url, tmp_path, "--jobs", "3", *map(str, found),
                           env={"GHA_FIX_METADATA_TIMEOUT": str(LIMIT)})
    assert took < LIMIT + MARGIN
    assert done.returncode == 1, done.stderr
    assert done.stdout.count(OFFLINE[0]) == 3 and done.stdout.count(OFFLINE[1]) == 3
    assert 1 <= done.stderr.count(NOTE) <= 3  # once per worker process at most


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
def test_a_huge_answer_is_refused(tmp_path: Path, declared: bool) -> None:
    """Failed before the fix: 10 MiB were read into memory, parsed, and believed (the job
    got `permissions: {}` from it).  Now an answer over 1 MiB is refused, not read, and the
    action is unknown unless the index knows it."""
    server = Raw(huge(PLAIN, declared))
    try:
        repo, = repos(tmp_path)
        done, took = run_check(server.url, tmp_path, str(repo),
                               env={"GHA_FIX_METADATA_TIMEOUT": str(LIMIT)})
    finally:
        server.close()
    assert took < LIMIT + MARGIN
    assert_offline_results(done, notes=0)
    assert "larger than" in done.stdout


def test_the_deadline_bounds_a_library_run(tmp_path: Path) -> None:
    """`GitHubFiles(deadline=...)`: every request gets the time left (not 10 s each), the
    fetch after the deadline makes no request and carries the note once."""
    server = Raw(never_answer)
    try:
        files = GitHubFiles(tmp_path, base_url=server.url, api_url=server.url + "/api",
                            timeout=10, deadline=time.time() + 1)
        lookup = ActionMetadata(files, index={"o/known": {"using": "node20"}})
        start = time.monotonic()
        with pytest.raises(ResolverError, match=NOTE) as said:  # the deadline came meanwhile
            lookup.action("o/mystery@v1")
        assert "\n" not in str(said.value) and files.requests == 1  # no retry: no time left
        assert lookup.action("o/mystery@v1") is None
        requests = files.requests
        known = lookup.action("o/known@v1")
        assert known is not None and known.source.startswith("index:")
        assert lookup.action("o/other@v1") is None and files.requests == requests
        assert time.monotonic() - start < 1 + 1.5
    finally:
        server.close()



@pytest.mark.parametrize("raw_server", [never_answer], indirect=True)
def test_metadata_timeout_option(raw_server: Raw, tmp_path: Path) -> None:
    """`--metadata-timeout` wins over GHA_FIX_METADATA_TIMEOUT; a bad value is one line and
    exit 2 (the option did not exist before the fix)."""
    repo, = repos(tmp_path)
    done, took = run_check(raw_server.url, tmp_path, "--metadata-timeout", "1s", str(repo),
                           env={"GHA_FIX_METADATA_TIMEOUT": "60"}, limit=1)
    assert took < 1 + MARGIN
    assert_offline_results(done)
    bad, _ = run_check(raw_server.url, tmp_path, "--metadata-timeout", "soon", str(repo))
    assert bad.returncode == 2
    assert "--metadata-timeout 'soon': expected a duration" in bad.stderr


def test_the_network_stack_is_imported_only_for_a_request(tmp_path: Path) -> None:
    """Failed before the fix: `gha-fix check` imported http.client, urllib.request, ssl and
    email.utils (about 25 ms) even offline, with nothing to fetch."""
    repo, = repos(tmp_path)
    script = (
        "import sys; from gha_fix.codemod.cli import app\n"
        "try:\n    app(args=['check', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "heavy = ('http.client', 'urllib.request', 'ssl', 'email.utils')\n"
        "print('heavy:', *[m for m in heavy if m in sys.modules])"
    )
    environ = {**os.environ, "GHA_FIX_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path / "c")}
    done = subprocess.run([sys.executable, "-c", script, str(repo)], env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[-1] == "heavy:", done.stdout
