"""Helpers of the commit tests: the branches of a repository, its whole git state, hooks, and
the CLI run as a real process (for signals and concurrent runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from repo_helpers import git

CI = ".github/workflows/ci.yml"
TESTS = Path(__file__).resolve().parent
# the CLI with the test transforms only, as the `test_transforms` fixture sets them up in-process
_CLI = ("import sys, repo_helpers, gha_fix.transforms as t; "
        "t.REGISTRY = dict(repo_helpers.TEST_REGISTRY); "
        "from gha_fix.codemod.cli import main; main()")


def branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()


def head_branch(repo: Path) -> str:
    return git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip()


def new_branch(repo: Path) -> str:
    (name,) = [b for b in branches(repo) if b.startswith("gha-fix/")]
    return name


def git_state(repo: Path) -> dict[str, str]:
    """What a rolled-back run must leave exactly as it was: HEAD, every ref, the index (entries
    and their assume-unchanged / skip-worktree flags) and `git status`."""
    return {
        "head": git(repo, "symbolic-ref", "-q", "HEAD", check=False) + git(repo, "rev-parse",
                                                                            "HEAD"),
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "index": git(repo, "ls-files", "--stage"),
        "flags": git(repo, "ls-files", "-v"),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all"),
    }


def hook(repo: Path, name: str, body: str) -> None:
    path = repo / ".git" / "hooks" / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def spawn(*args: str) -> subprocess.Popen[str]:
    """`gha-fix ARGS` as its own process group (a terminal's Ctrl-C reaches the whole group)."""
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    return subprocess.Popen([sys.executable, "-c", _CLI, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
