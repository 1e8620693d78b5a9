"""What ends up in the commit for workflows that are symlinks (inside the repository: the
target is edited, in all three write modes) and for CRLF files under `core.autocrlf` (both
commit modes make the same blob) (issue #13, items 10 and 12)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from git_helpers import CI, new_branch
from repo_helpers import (
    WORKFLOW,
    git,
    make_repo,
    run,
    snapshot,
    test_transforms,  # noqa: F401  (a fixture)
    write_files,
)

pytestmark = pytest.mark.usefixtures("test_transforms")
SHARED = "shared/ci.yml"
FIXED = "permissions:\n  contents: read\n"


def _symlinked(tmp_path: Path, layout: str) -> tuple[Path, str, str]:
    """A repository whose workflow is reached through a symlink: (repo, link, target)."""
    if layout == "file":  # .github/workflows/ci.yml -> ../../shared/ci.yml
        repo = make_repo(tmp_path / "repo", {SHARED: WORKFLOW, "README.md": "# demo\n",
                                             ".github/workflows/.keep": ""})
        os.symlink("../../shared/ci.yml", repo / CI)
        link, target = CI, SHARED
    else:  # the workflows folder itself: .github/workflows -> ../ci/workflows
        repo = make_repo(tmp_path / "repo", {"ci/workflows/ci.yml": WORKFLOW,
                                             "README.md": "# demo\n"})
        (repo / ".github").mkdir()
        os.symlink("../ci/workflows", repo / ".github/workflows")
        link, target = CI, "ci/workflows/ci.yml"
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "symlinked workflow")
    return repo, link, target


def _links(repo: Path, rev: str) -> list[str]:
    """The symlinks of a commit: mode 120000, the blob holding the link's target, the path."""
    return [line for line in git(repo, "ls-tree", "-r", rev).splitlines()
            if line.startswith("120000")]


@pytest.mark.parametrize("layout", ["file", "folder"])
@pytest.mark.parametrize("mode", ["no-commit", "clean", "dirty"])
def test_symlinked_workflow_fixes_its_target_in_every_mode(tmp_path: Path, layout: str,
                                                           mode: str) -> None:
    """Failed before the fix: the dirty-tree commit recorded a symlink whose target was the
    YAML text, the clean-tree commit held no change (the target was written, not added) or
    failed ("beyond a symbolic link"), and no mode said that the target was edited."""
    repo, link, target = _symlinked(tmp_path, layout)
    if mode == "dirty":
        write_files(repo, {"notes.txt": "mine\n"})
    before = snapshot(repo)
    code, _, err = run("apply", *(["--no-commit"] if mode == "no-commit" else []), str(repo))
    assert code == 0, err
    said = "written to" if mode == "no-commit" else "committed in"
    assert f"{link}: a symlink: the fix is {said} its target {target}" in err
    assert os.path.islink(repo / (link if layout == "file" else ".github/workflows"))
    if mode != "no-commit":
        branch = new_branch(repo)
        assert git(repo, "diff", "--name-only", "main", branch).split() == [target]
        assert _links(repo, branch) == _links(repo, "main") != []
        assert FIXED in git(repo, "show", f"{branch}:{target}")
        assert git(repo, "status", "--porcelain") == ("?? notes.txt\n" if mode == "dirty" else "")
    if mode == "dirty":
        assert snapshot(repo) == before
    else:
        assert FIXED in (repo / target).read_text()


def test_symlink_to_another_workflow_commits_the_target_once(tmp_path: Path) -> None:
    """Failed before the fix: the alias was committed as a symlink to the YAML text (dirty)."""
    repo = make_repo(tmp_path / "repo", {CI: WORKFLOW})
    os.symlink("ci.yml", repo / ".github/workflows/alias.yml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "alias")
    write_files(repo, {"notes.txt": "mine\n"})
    code, _, err = run("apply", str(repo))
    assert code == 0, err
    branch = new_branch(repo)
    assert git(repo, "diff", "--name-only", "main", branch).split() == [CI]
    assert "committed 1 file on new branch" in err
    assert git(repo, "cat-file", "-p", f"{branch}:.github/workflows/alias.yml") == "ci.yml"


@pytest.mark.parametrize("eol", ["crlf", "lf"])
@pytest.mark.parametrize("autocrlf", ["true", "input"])
def test_both_commit_modes_make_the_same_blob_under_autocrlf(tmp_path: Path, autocrlf: str,
                                                             eol: str) -> None:
    """Failed before the fix (CRLF committed): the dirty-tree commit converted the whole file
    to LF, the clean-tree commit kept CRLF."""
    text = WORKFLOW.replace("\n", "\r\n") if eol == "crlf" else WORKFLOW
    repo = make_repo(tmp_path / "repo", {CI: text, "README.md": "# demo\n"})
    git(repo, "config", "core.autocrlf", autocrlf)
    (repo / CI).unlink()
    git(repo, "checkout", "--", CI)  # the work tree as this setting checks it out
    write_files(repo, {"notes.txt": "mine\n"})
    code, _, err = run("apply", "--branch", "dirty", str(repo))
    assert code == 0, err
    (repo / "notes.txt").unlink()
    code, _, err = run("apply", "--branch", "clean", str(repo))
    assert code == 0, err
    blob = git(repo, "rev-parse", "dirty:" + CI)
    assert blob == git(repo, "rev-parse", "clean:" + CI)
    data = subprocess.run(["git", "-C", str(repo), "cat-file", "blob", blob.strip()],
                          capture_output=True, check=True).stdout  # bytes: \r kept
    assert FIXED.replace("\n", "\r\n" if eol == "crlf" else "\n").encode() in data
    lines = data.splitlines(keepends=True)
    assert all(line.endswith(b"\r\n" if eol == "crlf" else b"\n") for line in lines)
    assert eol == "crlf" or b"\r" not in data
