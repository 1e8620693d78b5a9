"""Hostile inputs over a fleet: each bad file is one error line, every other file is fixed.

Run as real processes with a timeout: on the code before these fixes a FIFO hung the run
and a deeply nested file crashed it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from repo_helpers import CLEAN_WORKFLOW, WORKFLOW, make_repo
from test_bulk_process import CI, fleet, gha_fix

from gha_fix.codemod.document import MAX_DEPTH, Document, DocumentError

WORKFLOWS = ".github/workflows"


def hostile_files(repo: Path) -> dict[str, str]:
    """Writes the hostile workflows into `repo`; the error line each must give."""
    folder = repo / WORKFLOWS
    os.mkfifo(folder / "fifo.yml")
    deep = "on: push\njobs: " + "[" * 30_000 + "]" * 30_000 + "\n"  # 60 KB, a C-stack crash
    (folder / "deep.yml").write_text(deep)
    indented = "on: push\njobs:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(400))
    (folder / "indented.yml").write_text(indented + " " * 401 + "v: 1\n")  # RecursionError
    (folder / "mac.yml").write_bytes(WORKFLOW.replace("\n", "\r").encode())
    (folder / "loop.yml").symlink_to("loop.yml")
    return {
        "fifo.yml": "fifo.yml:0: cannot read: not a regular file (a FIFO)",
        "deep.yml": f"deep.yml:2: collections nested more than {MAX_DEPTH} levels deep",
        "indented.yml": f"indented.yml:{MAX_DEPTH + 2}: collections nested more than "
                        f"{MAX_DEPTH} levels deep",
        "mac.yml": "mac.yml:1: line break other than LF or CRLF (CR): convert the file's line "
                   "endings to LF",
        "loop.yml": "loop.yml:0: cannot read: Too many levels of symbolic links",
    }


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_hostile_workflows_fail_alone(tmp_path: Path, jobs: str) -> None:
    """Fails on the code before the fix: deep.yml crashes the process (SIGSEGV, also the
    `--jobs 1` run); without it fifo.yml hangs the run, and the other three fail their whole
    repository with an internal error."""
    repos = fleet(tmp_path / "org", 3, {f"{WORKFLOWS}/lint.yml": CLEAN_WORKFLOW})
    expected = hostile_files(repos[1])
    report = tmp_path / "r.json"
    code, _, err = gha_fix("apply", "--no-commit", "--jobs", jobs, "--report", str(report),
                           str(tmp_path / "org"), cwd=tmp_path, timeout=60)
    assert code == 2
    data = {Path(r["root"]).name: r for r in json.loads(report.read_text())["repos"]}
    hostile = data["r01"]
    assert sorted(hostile["errors"]) == sorted(f"{WORKFLOWS}/{e}" for e in expected.values())
    for line in expected.values():
        assert f"org/r01/{WORKFLOWS}/{line}\n" in err
    # the other files of the hostile repository are fixed and counted like everyone's
    assert hostile["files"] == 2 + len(expected) and hostile["files_changed"] == [CI]
    for repo in repos:
        assert "permissions:" in (repo / CI).read_text()
        assert data[repo.name]["fixes_by_transform"] == {"perms-test": 1, "secrets-test": 1}
    assert json.loads(report.read_text())["summary"]["files_changed"] == 3


def test_nesting_limit_counts_collections_not_brackets() -> None:
    """Brackets in expressions, strings and scripts are not nesting; real nesting up to the
    limit parses (a cheap bound decides most files; the others are counted exactly)."""
    expressions = "on: push\njobs:\n  a:\n    steps:\n" + "".join(
        f"      - run: echo ${{{{ x[{i}] }}}} '[[[{{{{' [\n" for i in range(300))
    Document.from_text("x.yml", expressions)
    inner = MAX_DEPTH - 1  # the top-level mapping is the first level
    Document.from_text("x.yml", "a: " + "[" * inner + "]" * inner + "\n")
    block = "".join(" " * i + f"k{i}:\n" for i in range(MAX_DEPTH - 1)) + " " * 300 + "v: 1\n"
    Document.from_text("x.yml", block)
    with pytest.raises(DocumentError, match="nested more than"):
        Document.from_text("x.yml", "a: " + "{b: " * (MAX_DEPTH + 1) + "1" + "}" * 300 + "\n")
    with pytest.raises(DocumentError, match=r"\(U\+2028\)"):
        Document.from_text("x.yml", "a: 1 # \u2028\nb: 2\n")


def test_symlink_outside_and_broken_link_are_file_errors(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {CI: WORKFLOW}, use_git=False)
    (tmp_path / "outside.yml").write_text(WORKFLOW)
    (repo / WORKFLOWS / "out.yml").symlink_to(tmp_path / "outside.yml")
    (repo / WORKFLOWS / "gone.yml").symlink_to("missing.yml")
    code, _, err = gha_fix("check", "--jobs", "1", str(repo), cwd=tmp_path, timeout=60)
    assert code == 2
    assert f"{WORKFLOWS}/out.yml:0: symlink leads outside the repo" in err
    assert f"{WORKFLOWS}/gone.yml:0: cannot read: No such file or directory" in err


def test_scripts_a_workflow_runs_are_read_only_when_regular(tmp_path: Path) -> None:
    """A guard (it passed before too: an `is_file()` check came first): the scripts a step runs
    are FIFOs here. They are now read only through `RepoContext.read_text`, which checks the
    file's type again on the open descriptor (a file swapped after the check cannot block)."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: python scripts/release.py\n      - run: ./scripts/deploy.sh\n")
    (repo / "scripts").mkdir()
    for name in ("release.py", "deploy.sh"):
        os.mkfifo(repo / "scripts" / name)
    os.mkfifo(repo / ".github" / "helper.py")
    done = subprocess.run([sys.executable, "-m", "gha_fix", "check", str(repo)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "GHA_FIX_OFFLINE": "1"})
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
