"""A commit that does not happen (a hook says no, Ctrl-C) leaves everything of the user's as
it was: only the files gha-fix wrote are put back, from the bytes it saved; HEAD, the refs and
the index are restored exactly.  Files git is told to ignore (assume-unchanged,
skip-worktree) are never written nor committed, in both commit modes (issue #13, items 9, 13
and 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_helpers import CI, branches, git_state, head_branch, hook, new_branch, spawn
from repo_helpers import (
    CLEAN_WORKFLOW,
    WORKFLOW,
    git,
    make_repo,
    run,
    snapshot,
    test_transforms,  # noqa: F401  (a fixture)
    write_files,
)

pytestmark = pytest.mark.usefixtures("test_transforms")
DEPLOY = ".github/workflows/deploy.yml"
LOCAL = WORKFLOW.replace("npm publish", "npm publish --tag local")


def _repo_with_flagged_workflow(tmp_path: Path, flag: str) -> Path:
    """ci.yml and deploy.yml both need fixes; deploy.yml is flagged in the index and (for
    assume-unchanged) holds local edits that git does not report."""
    repo = make_repo(tmp_path / "repo", {CI: WORKFLOW, DEPLOY: WORKFLOW, "README.md": "# demo\n",
                                         ".github/workflows/lint.yml": CLEAN_WORKFLOW})
    git(repo, "update-index", f"--{flag}", DEPLOY)
    if flag == "assume-unchanged":
        (repo / DEPLOY).write_text(LOCAL)
    return repo


def test_failed_hook_keeps_edits_made_meanwhile_and_assume_unchanged_files(
        tmp_path: Path) -> None:
    """Failed before the fix: `git reset --hard` wiped the README edit made while the hook ran
    and the assume-unchanged file gha-fix had written."""
    repo = _repo_with_flagged_workflow(tmp_path, "assume-unchanged")
    # the user edits a file while the slow hook runs; then the hook says no
    hook(repo, "pre-commit", "printf 'edited meanwhile\\n' >> README.md\n"
         "echo 'no commits today' >&2\nexit 1")
    before, state = snapshot(repo), git_state(repo)
    code, _, err = run("apply", str(repo))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"{repo}: commit failed, nothing changed: no commits today")
    after = snapshot(repo)
    assert after.pop("README.md") == b"# demo\nedited meanwhile\n"
    assert after == {k: v for k, v in before.items() if k != "README.md"}
    assert (repo / DEPLOY).read_text() == LOCAL
    state["status"] = " M README.md\n"  # the user's edit, unstaged as the user left it
    assert git_state(repo) == state


def test_failed_hook_restores_a_replaced_branch_and_a_detached_head(tmp_path: Path) -> None:
    """Passed before the fix too (`reset --hard` covered this case): a guard that the exact
    rollback also puts back a branch replaced with --force, a detached HEAD and a file mode."""
    repo = make_repo(tmp_path / "repo")
    (repo / CI).chmod(0o755)
    git(repo, "commit", "-qam", "executable")
    git(repo, "branch", "fixes", "HEAD~1")
    git(repo, "switch", "-q", "--detach", "HEAD")
    hook(repo, "pre-commit", "exit 1")
    before, state = snapshot(repo), git_state(repo)
    code, _, _ = run("apply", "--branch", "fixes", "--force", str(repo))
    assert code == 2
    assert snapshot(repo) == before and git_state(repo) == state
    assert (repo / CI).stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("flag", ["assume-unchanged", "skip-worktree"])
@pytest.mark.parametrize("dirty", [False, True], ids=["clean", "dirty"])
def test_flagged_workflows_are_left_out_and_said_so(tmp_path: Path, flag: str,
                                                    dirty: bool) -> None:
    """Failed before the fix: "committed 2 file(s)" with one file in the commit (clean tree),
    the flagged file rewritten in the work tree, or committed from HEAD (dirty tree)."""
    repo = _repo_with_flagged_workflow(tmp_path, flag)
    if dirty:
        write_files(repo, {"notes.txt": "mine\n"})
    before = snapshot(repo)
    code, _, err = run("apply", str(repo))
    assert code == 0, err
    branch = new_branch(repo)
    assert git(repo, "diff", "--name-only", "main", branch).split() == [CI]
    assert f"{DEPLOY}: marked {flag} in git's index: left out of the commit (and not written)" \
        in err
    assert "committed 1 file on new branch" in err
    assert snapshot(repo)[DEPLOY] == before[DEPLOY]
    assert git(repo, "ls-files", "-v", DEPLOY)[0] == ("h" if flag == "assume-unchanged" else "S")


def test_only_flagged_changes_make_no_branch(tmp_path: Path) -> None:
    """Failed before the fix: the assume-unchanged file was written, `git add` staged nothing,
    and the commit failed ("nothing to commit") with the file left modified."""
    repo = make_repo(tmp_path / "repo", {CI: WORKFLOW})
    git(repo, "update-index", "--assume-unchanged", CI)
    before = snapshot(repo)
    code, _, err = run("apply", str(repo))
    assert code == 0, err
    assert "nothing to fix: no branch created" in err
    assert snapshot(repo) == before and branches(repo) == ["main"]


def _assert_interrupted_and_restored(repo: Path) -> None:
    """`gha-fix apply` as its own process group, Ctrl-C'd by what it runs: one line, exit 2,
    the work tree and git state as they were."""
    before, state = snapshot(repo), git_state(repo)
    process = spawn("apply", str(repo))
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2, err
    assert err.strip().splitlines()[-1] == (
        f"{repo}: interrupted: your branch and files are as they were")
    assert "Traceback" not in err
    assert snapshot(repo) == before and git_state(repo) == state


@pytest.mark.parametrize("target", ["git", "group"])
def test_ctrl_c_during_a_hook_restores_everything(tmp_path: Path, target: str) -> None:
    """Failed before the fix: the user was left on the new branch with the fixes staged and no
    message (Ctrl-C reaches gha-fix, git and the hook: "group"; or only git dies: "git")."""
    repo = make_repo(tmp_path / "repo")
    kill = "kill -INT $PPID" if target == "git" else "kill -INT 0"
    hook(repo, "pre-commit", f"{kill}\nsleep 1\nexit 0")
    _assert_interrupted_and_restored(repo)
    assert head_branch(repo) == "main"


def test_a_written_file_changed_during_the_hook_is_kept_and_named(tmp_path: Path) -> None:
    """Failed before the fix: `reset --hard` wiped the change and said "nothing changed"."""
    repo = make_repo(tmp_path / "repo")
    hook(repo, "pre-commit", f"printf '# mine\\n' >> {CI}\necho no >&2\nexit 1")
    code, _, err = run("apply", str(repo))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"{repo}: commit failed: no; {CI} changed meanwhile: left as it is, the rest as it was")
    text = (repo / CI).read_text()
    assert text.endswith("# mine\n") and "permissions:" in text  # the fix and the user's line
    assert head_branch(repo) == "main" and branches(repo) == ["main"]
    assert git(repo, "diff", "--cached") == ""


def test_ctrl_c_while_a_dirty_tree_commit_is_signed(tmp_path: Path) -> None:
    """Failed before the fix: Ctrl-C (here while gpg signs the commit) ended in "Aborted!"
    with no word on the state (the dirty-tree mode runs no hook: gpg is what waits there)."""
    repo = make_repo(tmp_path / "repo")
    gpg = tmp_path / "gpg"
    gpg.write_text("#!/bin/sh\nkill -INT 0\nsleep 1\nexit 1\n")
    gpg.chmod(0o755)
    git(repo, "config", "commit.gpgsign", "true")
    git(repo, "config", "gpg.program", str(gpg))
    write_files(repo, {"notes.txt": "mine\n"})
    _assert_interrupted_and_restored(repo)
