"""A branch checked out in another worktree is never moved, and two commit runs on one
repository never overlap: the second is refused while the first holds the lock (issue #13,
items 11 and 14)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from git_helpers import CI, branches, hook, new_branch, spawn
from repo_helpers import (
    git,
    make_repo,
    run,
    test_transforms,  # noqa: F401  (a fixture)
    write_files,
)

pytestmark = pytest.mark.usefixtures("test_transforms")


@pytest.mark.parametrize("dirty", [False, True], ids=["clean", "dirty"])
def test_force_refuses_a_branch_checked_out_in_another_worktree(tmp_path: Path,
                                                                 dirty: bool) -> None:
    """Failed before the fix: both modes moved the branch under the other worktree (git 2.39's
    `switch -C` does not refuse it either)."""
    repo = make_repo(tmp_path / "repo")
    other = tmp_path / "other"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(other))
    old = git(repo, "rev-parse", "feature")
    if dirty:
        write_files(repo, {"notes.txt": "mine\n"})
    code, _, err = run("apply", "--branch", "feature", "--force", str(repo))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"{repo}: branch feature is checked out in the worktree {other}: "
        "cannot replace it")
    assert git(repo, "rev-parse", "feature") == old
    assert git(other, "status", "--porcelain") == ""


def _lock(repo: Path) -> Path:
    return repo / git(repo, "rev-parse", "--git-common-dir").strip() / "gha-fix.lock"


def test_a_second_run_is_refused_while_the_first_commits(tmp_path: Path) -> None:
    """Failed before the fix: the second run committed from the first one's half-made state
    (and a failed first run's `reset --hard` dropped the second one's commit)."""
    repo = make_repo(tmp_path / "repo")
    started, release = tmp_path / "started", tmp_path / "release"
    hook(repo, "pre-commit", f"touch {started}\n"
         f"for i in $(seq 300); do [ -e {release} ] && exit 0; sleep 0.1; done\nexit 1")
    first = spawn("apply", "--branch", "first", str(repo))
    try:
        for _ in range(300):
            if started.exists() or first.poll() is not None:
                break
            time.sleep(0.1)
        assert started.exists(), first.communicate()
        code, _, err = run("apply", "--branch", "second", str(repo))
    finally:
        release.touch()
        _, first_err = first.communicate(timeout=60)
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"{repo}: another gha-fix run (pid {first.pid}) is committing in this repository; "
        "try again when it has finished")
    assert first.returncode == 0, first_err
    assert branches(repo) == ["first", "main"]
    assert git(repo, "diff", "--name-only", "main", "first").split() == [CI]
    assert not _lock(repo).exists()


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path: Path) -> None:
    """Failed before the fix: there was no lock (the test checks that a live one refuses and a
    stale one does not, and that the lock is removed on exit)."""
    repo = make_repo(tmp_path / "repo")
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        _lock(repo).write_text(f"{sleeper.pid}\n")
        code, _, err = run("apply", str(repo))
        assert code == 2 and f"another gha-fix run (pid {sleeper.pid})" in err
        assert branches(repo) == ["main"]
    finally:
        sleeper.kill()
        sleeper.wait()
    code, _, err = run("apply", str(repo))  # the pid is dead now: the lock is stale
    assert code == 0, err
    assert new_branch(repo)
    assert not _lock(repo).exists()
