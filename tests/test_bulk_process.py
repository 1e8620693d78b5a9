"""Bulk runs as real `gha-fix` processes: Ctrl-C, a worker killed, hostile files.

`gha-fix` runs in a child process (in its own session, killed with its workers if it
overstays) whose transforms are the test ones plus two more, chosen per workflow name:
`slow*.yml` takes SLOW_SECONDS, `die.yml` kills its worker with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from repo_helpers import CLEAN_WORKFLOW, TEST_REGISTRY, WORKFLOW, make_repo

from gha_fix.codemod.document import Document
from gha_fix.codemod.model import Fix, Note
from gha_fix.codemod.repo import RepoContext
from gha_fix.codemod.transform import Transform

CI = ".github/workflows/ci.yml"
SLOW_SECONDS = 0.5
TESTS = Path(__file__).resolve().parent


class Slow(Transform):
    id = "slow-test"
    summary = "test-only: sleep on slow*.yml"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        if Path(doc.path).name.startswith("slow"):
            time.sleep(SLOW_SECONDS)
        return []


class Die(Transform):
    id = "die-test"
    summary = "test-only: the worker kills itself on die.yml"

    def run(self, doc: Document, repo: RepoContext) -> Iterable[Fix | Note]:
        if Path(doc.path).name == "die.yml":
            os.kill(os.getpid(), signal.SIGKILL)
        return []


def main() -> None:
    """`gha-fix` with the test transforms (the child process's entry point)."""
    import gha_fix.transforms as transforms
    from gha_fix.codemod.cli import main as cli_main

    transforms.REGISTRY.clear()
    transforms.REGISTRY.update({**TEST_REGISTRY, Slow.id: Slow, Die.id: Die})
    sys.argv[0] = "gha-fix"
    cli_main()


def command(*args: str) -> list[str]:
    launch = f"import sys; sys.path.insert(0, {str(TESTS)!r}); import test_bulk_process; " \
             "test_bulk_process.main()"
    return [sys.executable, "-c", launch, *args]


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(command(*args), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(proc: subprocess.Popen[str], timeout: float) -> tuple[int, str, str]:
    """(exit code, stdout, stderr); the process and its workers are killed if it overstays."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"gha-fix still running after {timeout} s; stderr: {err}") from None
    return proc.returncode, out, err


def gha_fix(*args: str, cwd: Path, timeout: float = 60) -> tuple[int, str, str]:
    return finish(start(*args, cwd=cwd), timeout)


def fleet(base: Path, count: int, files: dict[str, str] | None = None) -> list[Path]:
    """`count` plain repositories r00, r01, ... each with ci.yml to fix (and `files`)."""
    return [make_repo(base / f"r{i:02d}", {CI: WORKFLOW, **(files or {})}, use_git=False)
            for i in range(count)]


def report_roots(report: Path) -> dict[str, dict]:
    return {Path(r["root"]).name: r for r in json.loads(report.read_text())["repos"]}


def test_ctrl_c_stops_a_bulk_run_and_writes_the_partial_report(tmp_path: Path) -> None:
    """Fails on the code before the fix: after SIGINT every remaining repository was still
    processed and written, and no report was written."""
    repos = fleet(tmp_path / "org", 24, {".github/workflows/slow.yml": CLEAN_WORKFLOW})
    report = tmp_path / "r.json"
    proc = start("apply", "--no-commit", "--jobs", "2", "--report", str(report),
                 str(tmp_path / "org"), cwd=tmp_path)
    deadline = time.monotonic() + 30  # once a repository is written (a worker takes ~0.5 s each)
    while not any("permissions:" in (r / CI).read_text() for r in repos):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    code, _, err = finish(proc, timeout=20)
    assert time.monotonic() - sent < 5
    assert code == 130
    done = report_roots(report)
    assert 0 < len(done) < len(repos)
    assert f"interrupted after {len(done)} of {len(repos)} repositories" in err
    for repo in repos:  # exactly the repositories reported were written
        written = "permissions:" in (repo / CI).read_text()
        assert written == (repo.name in done), repo.name
        if written:
            assert done[repo.name]["files_changed"] == [CI]


def test_a_killed_worker_fails_only_its_repository(tmp_path: Path) -> None:
    """Fails on the code before the fix: the pool broke and every repository not yet
    finished was reported as "worker failed: BrokenProcessPool"."""
    repos = fleet(tmp_path / "org", 12)
    (repos[3] / ".github/workflows/die.yml").write_text(CLEAN_WORKFLOW)
    report = tmp_path / "r.json"
    code, _, err = gha_fix("apply", "--no-commit", "--jobs", "2", "--report", str(report),
                           str(tmp_path / "org"), cwd=tmp_path)
    assert code == 2
    done = report_roots(report)
    assert set(done) == {r.name for r in repos}
    assert done["r03"]["errors"] == [
        f"{repos[3]}: worker died while processing this repository (killed by SIGKILL)"]
    assert "worker died while processing this repository" in err
    for repo in repos:
        if repo.name != "r03":
            assert done[repo.name]["errors"] == [] and done[repo.name]["files_changed"] == [CI]
            assert "permissions:" in (repo / CI).read_text()
