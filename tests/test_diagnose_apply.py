"""`gha-fix diagnose --apply`: the diagnosis's workflow edit made through the engine, in real
git repositories, with `apply`'s semantics (a commit on a new branch, `--dry-run`, `--no-commit`,
`--branch`, a dirty work tree left alone); where no edit is safe, nothing is written and the
reason is said.  The expected workflows are written by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_helpers import branches, git_state, head_branch, new_branch
from repo_helpers import git, make_repo, run, snapshot

CI = ".github/workflows/release.yml"

# `gh run view --log-failed` of a step whose `gh release create` got a 403
RELEASE_LOG = (
    "release\tPublish\t2024-05-01T10:00:00.1Z ##[group]Run gh release create v1.2.0\n"
    "release\tPublish\t2024-05-01T10:00:01.0Z HTTP 403: Resource not accessible by integration "
    "(https://api.github.com/repos/octo/app/releases)\n"
    "release\tPublish\t2024-05-01T10:00:01.1Z ##[error]Process completed with exit code 1.\n"
)

# the job has a block of its own; a comment and odd spacing that must stay as they are
OWN_BLOCK = """\
name: Release
on:
  push:
    tags: ['v*']
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: read   # checkout
    steps:
      - uses: actions/checkout@v4
      - name: Publish
        run: gh release create v1.2.0
        env:
          GH_TOKEN: ${{ github.token }}
"""
# the scope's line is there: its level changes, the user's comment stays (a new line gets ours)
OWN_BLOCK_FIXED = """\
name: Release
on:
  push:
    tags: ['v*']
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: write   # checkout
    steps:
      - uses: actions/checkout@v4
      - name: Publish
        run: gh release create v1.2.0
        env:
          GH_TOKEN: ${{ github.token }}
"""


def log_file(tmp_path: Path, text: str = RELEASE_LOG) -> Path:
    path = tmp_path / "run.log"
    path.write_text(text)
    return path


def repo_with(tmp_path: Path, workflow: str, **others: str) -> Path:
    return make_repo(tmp_path / "repo", {CI: workflow, **others})


def diagnose_apply(repo: Path, log: Path, *flags: str) -> tuple[int, str, str]:
    return run("diagnose", "--repo", str(repo), "--apply", *flags, str(log))


def test_commits_the_scope_on_a_new_branch(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, OWN_BLOCK)
    code, out, err = diagnose_apply(repo, log_file(tmp_path))
    assert code == 0, err
    assert out.startswith("cause: missing-scope")
    branch = new_branch(repo)
    assert head_branch(repo) == branch  # a clean tree: switched to it, like `apply`
    assert (repo / CI).read_text() == OWN_BLOCK_FIXED
    assert git(repo, "show", f"{branch}:{CI}") == OWN_BLOCK_FIXED
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert "[diagnose] job release: grant contents: write" in message
    assert git(repo, "status", "--porcelain") == ""
    assert f"committed 1 file on new branch {branch}" in err


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, OWN_BLOCK)
    before = git_state(repo)
    code, out, err = diagnose_apply(repo, log_file(tmp_path), "--dry-run")
    assert code == 0, err
    assert "-      contents: read   # checkout\n" in out
    assert "+      contents: write   # checkout\n" in out
    assert out.count("+      contents: write") == 1  # the diff once, not the preview too
    assert "1 fixes would be applied" in err
    assert git_state(repo) == before and (repo / CI).read_text() == OWN_BLOCK


def test_no_commit_writes_the_file_only(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, OWN_BLOCK)
    code, _, err = diagnose_apply(repo, log_file(tmp_path), "--no-commit")
    assert code == 0, err
    assert (repo / CI).read_text() == OWN_BLOCK_FIXED
    assert branches(repo) == ["main"]


def test_branch_name_and_a_dirty_tree_left_alone(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, OWN_BLOCK)
    (repo / "notes.txt").write_text("mine\n")
    (repo / CI).write_text(OWN_BLOCK + "# my edit, not committed\n")
    files = snapshot(repo)
    code, _, err = diagnose_apply(repo, log_file(tmp_path), "--branch", "fix/release-403")
    assert code == 0, err
    assert snapshot(repo) == files and head_branch(repo) == "main"
    assert git(repo, "show", f"fix/release-403:{CI}") == OWN_BLOCK_FIXED  # from HEAD's file


def test_flags_that_need_apply_or_a_commit(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, OWN_BLOCK)
    log = log_file(tmp_path)
    code, _, err = run("diagnose", "--repo", str(repo), "--dry-run", str(log))
    assert code == 2 and "go with --apply" in err
    code, _, err = diagnose_apply(repo, log, "--dry-run", "--branch", "x")
    assert code == 2 and "do not go with --dry-run" in err
    assert branches(repo) == ["main"]


TOP_LEVEL = """\
on: push
permissions: {contents: read, issues: write}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - name: Publish
        run: gh release create v1.2.0
        env: {GH_TOKEN: "${{ github.token }}"}
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: make lint
"""
# the job had the top-level grant: it keeps it, plus the scope (the other job is untouched)
TOP_LEVEL_FIXED = """\
on: push
permissions: {contents: read, issues: write}
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: write  # Publish: its run failed without it
      issues: write
    steps:
      - name: Publish
        run: gh release create v1.2.0
        env: {GH_TOKEN: "${{ github.token }}"}
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: make lint
"""


def test_no_job_block_copies_the_top_level_grant(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, TOP_LEVEL)
    code, _, err = diagnose_apply(repo, log_file(tmp_path), "--no-commit")
    assert code == 0, err
    assert (repo / CI).read_text() == TOP_LEVEL_FIXED


NO_BLOCK = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - name: Publish
        run: gh release create v1.2.0
        env:
          GH_TOKEN: ${{ github.token }}
"""
# every step understood: what they need (checkout: contents read) plus the scope
NO_BLOCK_FIXED = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    permissions:
      contents: write  # Publish: its run failed without it
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - name: Publish
        run: gh release create v1.2.0
        env:
          GH_TOKEN: ${{ github.token }}
"""


def test_no_block_anywhere_and_every_step_understood(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, NO_BLOCK)
    code, _, err = diagnose_apply(repo, log_file(tmp_path), "--no-commit")
    assert code == 0, err
    assert (repo / CI).read_text() == NO_BLOCK_FIXED
    assert "what its steps need (every one understood)" in err


def test_no_block_anywhere_with_the_restricted_default_in_the_config(tmp_path: Path) -> None:
    text = NO_BLOCK.replace("make", "x")
    workflow = text.replace("      - uses: actions/checkout@v4\n        with:\n"
                            "          persist-credentials: false\n",
                            "      - uses: someone/unknown-action@v1\n")
    config = "permissions:\n  repository_default: restricted\n"
    repo = repo_with(tmp_path, workflow, **{".github/gha-fix.yml": config})
    code, _, err = diagnose_apply(repo, log_file(tmp_path), "--no-commit")
    assert code == 0, err
    assert (repo / CI).read_text() == workflow.replace(
        "    runs-on: ubuntu-latest\n",
        "    runs-on: ubuntu-latest\n    permissions:\n      contents: write  # Publish: its "
        "run failed without it\n      packages: read\n")


@pytest.mark.parametrize(("workflow", "reason"), [
    # an action gha-fix does not know may use any scope of the unknown default
    (NO_BLOCK.replace("actions/checkout@v4\n        with:\n          persist-credentials: "
                      "false", "someone/unknown-action@v1"), "not every step of it is understood"),
    # read-all: a block of its own would have to list every scope
    (NO_BLOCK.replace("on: push\n", "on: push\npermissions: read-all\n"),
     "`permissions: read-all`"),
    # a reusable workflow: its callers decide
    (NO_BLOCK.replace("on: push\n", "on: workflow_call\n"), "its callers decide"),
    # the job already grants the scope: something else restricted the token
    (OWN_BLOCK.replace("contents: read   # checkout", "contents: write"), "already grants"),
])
def test_nothing_applied_when_no_edit_is_safe(tmp_path: Path, workflow: str, reason: str) -> None:
    repo = repo_with(tmp_path, workflow)
    before = git_state(repo)
    code, out, err = diagnose_apply(repo, log_file(tmp_path))
    assert code == 0, err
    assert "gha-fix: nothing applied: " in err and reason in err
    assert reason in out  # the diagnosis's `patch:` line says the same
    assert git_state(repo) == before and (repo / CI).read_text() == workflow


def test_a_cause_that_is_not_a_workflow_edit(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, OWN_BLOCK)
    log = log_file(tmp_path, "release\tPublish\t2024-05-01T10:00:01.0Z Error: Bad credentials\n")
    code, _, err = diagnose_apply(repo, log)
    assert code == 0
    assert "nothing applied: the fix is not a workflow edit: " in err
    assert branches(repo) == ["main"]


FORK = """\
on: pull_request
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
  label:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      pull-requests: write
    steps:
      - name: Comment
        run: gh pr comment 7 --body done
        env:
          GH_TOKEN: ${{ github.token }}
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: ./deploy.sh
        env:
          DEPLOY_KEY: ${{ secrets.DEPLOY_KEY }}
"""
FORK_LOG = (
    "label\tComment\t2024-05-01T10:00:00.1Z ##[group]Run gh pr comment 7 --body done\n"
    "label\tComment\t2024-05-01T10:00:00.2Z This run is from a fork.\n"
    "label\tComment\t2024-05-01T10:00:01.0Z GraphQL: Resource not accessible by integration "
    "(addComment)\n"
)


def test_fork_read_only_guards_the_failing_job_only(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, FORK)
    code, out, err = diagnose_apply(repo, log_file(tmp_path, FORK_LOG), "--no-commit")
    assert code == 0, err
    assert out.startswith("cause: fork-read-only")
    # the failing job is skipped on forks; `deploy` (a secret) is fork-guard's business too,
    # but not this diagnosis's fix
    assert (repo / CI).read_text() == FORK.replace(
        "  label:\n", "  label:\n    if: github.event.pull_request.head.repo.full_name == "
        "github.repository\n")
    assert "[fork-guard]" in err


def test_a_scope_the_block_lacks_is_added_with_its_reason(tmp_path: Path) -> None:
    workflow = OWN_BLOCK.replace("      contents: read   # checkout\n",
                                 "      actions: read\n      contents: read\n")
    repo = repo_with(tmp_path, workflow.replace("      contents: read\n", ""))
    code, _, err = diagnose_apply(repo, log_file(tmp_path), "--no-commit")
    assert code == 0, err
    assert (repo / CI).read_text() == workflow.replace(
        "      contents: read\n", "      contents: write  # Publish: its run failed without it\n")


def test_a_job_the_workflows_do_not_have(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, OWN_BLOCK.replace("  release:\n", "  publish:\n"))
    log = log_file(tmp_path, RELEASE_LOG.replace("Publish", "Upload"))
    code, out, err = diagnose_apply(repo, log)
    assert code == 0
    assert "nothing applied: the job the log names was not found" in err
    assert "patch: the job the log names was not found" in out
    assert branches(repo) == ["main"]
