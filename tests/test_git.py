"""`gha-fix apply` commits on a new branch, in real temporary git repositories.

The user's work (untracked files, unstaged and staged changes) must come out byte-exact; the
commit holds only the files the fixes changed; errors are one line and exit 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from git_helpers import CI, branches, head_branch, hook, new_branch
from repo_helpers import (
    FAKE_TOKEN,
    WORKFLOW,
    git,
    make_repo,
    run,
    snapshot,
    test_transforms,  # noqa: F401  (a fixture)
    write_files,
)

from gha_fix.codemod.cli import _push_value
from gha_fix.codemod.git import GitError, open_repo

pytestmark = pytest.mark.usefixtures("test_transforms")


def test_clean_tree_commits_on_a_new_branch_and_switches(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    code, _, err = run("apply", str(repo))
    assert code == 0, err
    branch = new_branch(repo)
    assert head_branch(repo) == branch
    assert f"new branch {branch} and switched to it" in err
    assert f"gh pr create --head {branch} --base main --fill" in err
    assert git(repo, "rev-parse", "HEAD~1").strip() == base
    # only the file the fixes changed; the already-correct workflow is not in the commit
    assert git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split() == [CI]
    assert git(repo, "status", "--porcelain") == ""
    assert "permissions:\n  contents: read\n" in (repo / CI).read_text()
    # author and committer from the repo's config
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn").strip() == (
        "Test User <test@example.com>|Test User")
    # idempotent: on the new branch there is nothing left to do
    code, _, err = run("apply", str(repo))
    assert code == 0
    assert "nothing to fix: no branch created" in err
    assert len([b for b in branches(repo) if b.startswith("gha-fix/")]) == 1


def test_commit_message_lists_fixes_and_secrets_never_values(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    code, out, err = run("apply", str(repo))
    assert code == 0
    message = git(repo, "log", "-1", "--format=%B")
    summary, blank, *body = message.splitlines()
    assert summary == "gha-fix: fix 2 findings in 1 workflow file (perms-test, secrets-test)"
    assert blank == ""
    assert f"{CI}:" in body
    assert "- line 1 [perms-test] add permissions: contents: read" in body
    assert "Secrets to create (Settings > Secrets and variables > Actions):" in body
    assert "- NPM_TOKEN: gh secret set NPM_TOKEN" in body
    assert f"They were at: {CI}:9." in body  # (its line once permissions were added)
    assert any(line.startswith("Rotate the credentials") for line in body)
    everything = message + out + err  # (the diff removes the value: it was in history)
    assert FAKE_TOKEN not in everything
    assert "${{ secrets.NPM_TOKEN }}" in (repo / CI).read_text()


def test_dirty_tree_is_left_byte_exact_and_the_branch_built_from_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {
        CI: WORKFLOW, "README.md": "# demo\n", "src/app.py": "print(1)\n",
    })
    base = git(repo, "rev-parse", "HEAD").strip()
    # unstaged edit of the workflow itself, a staged change, an untracked file
    (repo / CI).write_text(WORKFLOW.replace("npm publish", "npm publish --dry-run"))
    (repo / "src/app.py").write_text("print(2)\n")
    git(repo, "add", "src/app.py")
    (repo / "src/app.py").write_text("print(3)\n")  # staged and unstaged, different
    (repo / "README.md").write_bytes(b"# demo\r\nedited, no newline")
    write_files(repo, {"notes.txt": "mine\n", ".github/workflows/new.yml": "on: push\n"})
    before = snapshot(repo)
    index_before = git(repo, "ls-files", "--stage")
    status_before = git(repo, "status", "--porcelain")
    diff_before = git(repo, "diff") + git(repo, "diff", "--cached")

    code, _, err = run("apply", str(repo))
    assert code == 0, err
    assert snapshot(repo) == before
    assert git(repo, "ls-files", "--stage") == index_before
    assert git(repo, "status", "--porcelain") == status_before
    assert git(repo, "diff") + git(repo, "diff", "--cached") == diff_before
    assert head_branch(repo) == "main" and git(repo, "rev-parse", "HEAD").strip() == base
    branch = new_branch(repo)
    assert "uncommitted changes: left as it was" in err and f"git show {branch}" in err
    # the branch is HEAD + the fixes: none of the user's edits, only the workflow
    assert git(repo, "rev-parse", f"{branch}~1").strip() == base
    assert git(repo, "diff", "--name-only", base, branch).split() == [CI]
    fixed = git(repo, "show", f"{branch}:{CI}")
    assert "npm publish\n" in fixed and "--dry-run" not in fixed
    assert "permissions:\n  contents: read\n" in fixed
    assert FAKE_TOKEN not in git(repo, "log", "-1", "--format=%B", branch)


def test_detached_head_branches_from_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "--detach", "HEAD")
    code, _, err = run("apply", "--branch", "fix/perms", str(repo))
    assert code == 0, err
    assert f"HEAD is detached at {head[:12]}: branching from it" in err
    assert git(repo, "rev-parse", "fix/perms~1").strip() == head
    assert head_branch(repo) == "fix/perms"
    assert "--base" not in err  # no base branch to suggest


def test_existing_branch_needs_force(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "branch", "gha-fix/mine")
    old = git(repo, "rev-parse", "gha-fix/mine").strip()
    code, _, err = run("apply", "--branch", "gha-fix/mine", str(repo))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"{repo}: branch gha-fix/mine already exists (use --force to replace it)")
    assert git(repo, "rev-parse", "gha-fix/mine").strip() == old
    assert head_branch(repo) == "main" and git(repo, "status", "--porcelain") == ""
    code, _, err = run("apply", "--branch", "gha-fix/mine", "--force", str(repo))
    assert code == 0, err
    assert git(repo, "rev-parse", "gha-fix/mine~1").strip() == old


def test_existing_branch_force_in_a_dirty_tree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "branch", "fixes")
    (repo / "README.md").write_text("wip\n")
    assert run("apply", "--branch", "fixes", str(repo))[0] == 2
    code, _, err = run("apply", "--branch", "fixes", "--force", str(repo))
    assert code == 0, err
    assert git(repo, "diff", "--name-only", "main", "fixes").split() == [CI]
    assert (repo / "README.md").read_text() == "wip\n"


def test_push_to_a_bare_remote(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    repo = make_repo(tmp_path / "repo")
    git(repo, "remote", "add", "upstream", str(remote))
    code, _, err = run("apply", "--branch", "gha-fix/pushed", *_push_value(
        ["--push=upstream"]), str(repo))
    assert code == 0, err
    assert "pushed gha-fix/pushed to upstream" in err
    assert "gh pr create --head gha-fix/pushed --base main --fill" in err
    local = git(repo, "rev-parse", "gha-fix/pushed").strip()
    assert git(remote, "rev-parse", "refs/heads/gha-fix/pushed").strip() == local


def test_push_failure_is_one_line_and_keeps_the_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    code, _, err = run("apply", "--push", "--remote", "nowhere", str(repo))
    assert code == 2
    assert "created, but the push to nowhere failed" in err.splitlines()[-1]
    assert new_branch(repo)


def test_push_value_rewrite() -> None:
    assert _push_value(["apply", "--push=up", "."]) == ["apply", "--push", "--remote", "up", "."]
    assert _push_value(["apply", "--push", "."]) == ["apply", "--push", "."]
    assert _push_value(["apply", "--", "--push=x"]) == ["apply", "--", "--push=x"]


def test_not_a_git_repo_fails_clearly_but_no_commit_writes(tmp_path: Path) -> None:
    folder = make_repo(tmp_path / "plain", use_git=False)
    code, _, err = run("apply", str(folder))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"{folder}: not the root of a git repository (use --no-commit to write the files only)")
    assert "permissions" not in (folder / CI).read_text()
    assert run("apply", "--no-commit", str(folder))[0] == 0
    assert "permissions:\n  contents: read\n" in (folder / CI).read_text()


def test_bare_repo_is_refused(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "bare.git"))
    with pytest.raises(GitError, match="bare repository"):
        open_repo(tmp_path / "bare.git")


def test_nothing_to_fix_makes_no_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {".github/workflows/ok.yml": "on: push\npermissions: {}\n"
                                         "jobs: {}\n"})
    code, _, err = run("apply", str(repo))
    assert code == 0
    assert "nothing to fix: no branch created" in err
    assert branches(repo) == ["main"]


def _conflict(repo: Path, path: str) -> None:
    git(repo, "switch", "-q", "-c", "other")
    (repo / path).write_text((repo / path).read_text() + "# other\n")
    git(repo, "commit", "-q", "-am", "other")
    git(repo, "switch", "-q", "main")
    (repo / path).write_text((repo / path).read_text() + "# main\n")
    git(repo, "commit", "-q", "-am", "main")
    git(repo, "merge", "other", check=False)


def test_mid_merge_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    _conflict(repo, "README.md")
    before = snapshot(repo)
    code, _, err = run("apply", str(repo))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"{repo}: the repository is in the middle of a merge; finish or abort it first")
    assert snapshot(repo) == before


def test_conflicted_workflow_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    _conflict(repo, CI)
    code, _, err = run("apply", str(repo))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"{repo}: workflow files with merge conflicts: {CI}; resolve them first")


def test_mid_rebase_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git_dir = Path(git(repo, "rev-parse", "--absolute-git-dir").strip())
    (git_dir / "rebase-merge").mkdir()  # what git leaves while a rebase stops
    code, _, err = run("apply", str(repo))
    assert code == 2 and "in the middle of a rebase" in err


def test_failing_hook_leaves_everything_as_it_was(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    hook(repo, "pre-commit", "echo 'no commits today' >&2\nexit 1")
    before = snapshot(repo)
    code, _, err = run("apply", str(repo))
    assert code == 2
    assert "commit failed, nothing changed: no commits today" in err
    assert snapshot(repo) == before
    assert head_branch(repo) == "main" and branches(repo) == ["main"]
    assert git(repo, "status", "--porcelain") == ""


def test_hooks_run_in_a_clean_tree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    hook(repo, "commit-msg", 'echo "Signed-off-by: Hook" >> "$1"')
    assert run("apply", str(repo))[0] == 0
    assert "Signed-off-by: Hook" in git(repo, "log", "-1", "--format=%B")


def test_invalid_branch_name(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    code, _, err = run("apply", "--branch", "bad..name", str(repo))
    assert code == 2 and err.strip().endswith("invalid branch name: bad..name")


def test_commit_options_need_the_commit_mode(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    code, _, err = run("apply", "--dry-run", "--push", str(repo))
    assert code == 2 and "do not go with --dry-run or --no-commit" in err
    assert branches(repo) == ["main"]
