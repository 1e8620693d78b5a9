"""Commit gha-fix's changes on a new branch with GitPython, never touching the user's work.

`apply` without `--dry-run`/`--no-commit` lands here.  Two ways, chosen by `git status`:

* clean tree (nothing staged, modified or untracked): like `git switch -c BRANCH`, write the
  fixed files, `git add` exactly those, `git commit`.  Because it *is* `git commit`, the
  repo's hooks run and `commit.gpgSign` is honoured; the user ends on the new branch.
* dirty tree: the fixes are computed from HEAD's content (not the user's edits), checked out
  into a temporary folder through a temporary index (`GIT_INDEX_FILE`), and committed with
  `git write-tree` + `git commit-tree` + `git update-ref`.  The user's work tree, index and
  branch are not touched at all.  Hooks do not run in this mode (there is no work tree for
  them to look at); signing follows `commit.gpgSign` (`commit-tree -S`).

Author and committer come from the repo's git config, as for `git commit`.  Every error is
one line (`GitError`); the CLI exits 2 on it.  GitPython is imported inside functions, so
`gha-fix --help` does not pay for it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gha_fix.codemod.git_safety import (
    INTERRUPTED,
    GitError,
    SavedFile,
    killed_by_sigint,
    one_line,
    put_back,
    ref_value,
    repo_lock,
    sigint_noted,
    undo_clean,
    worktree_of,
)
from gha_fix.codemod.io import OUTSIDE, file_bytes, symlink_note, target_path, write_atomic
from gha_fix.codemod.model import FileResult, RepoResult
from gha_fix.codemod.repo import WORKFLOWS_DIR, origin_slug

if TYPE_CHECKING:
    from collections.abc import Callable

    from git import Repo

    from gha_fix.codemod.bulk import CommitOptions

# Files git leaves in its folder while an operation is half done.
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or `git am`",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}


@dataclass
class RepoState:
    repo: Repo
    head: str  # commit sha
    branch: str | None  # None when HEAD is detached
    clean: bool


def open_repo(root: Path) -> RepoState:
    """The repository at `root` if a commit can be made there, else GitError."""
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    try:
        repo = Repo(root)
        repo.git.update_environment(GIT_LITERAL_PATHSPECS="1")  # a path is a path, not a glob
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise GitError(
            "not the root of a git repository (use --no-commit to write the files only)"
        ) from None
    if repo.bare:
        raise GitError("bare repository: there is no work tree to fix")
    if Path(repo.working_tree_dir or "").resolve() != root.resolve():
        raise GitError(f"not the root of its git repository ({repo.working_tree_dir})")
    conflicted = sorted({
        line.split("\t", 1)[1]
        for line in repo.git.ls_files("--unmerged").splitlines() if "\t" in line
    })
    workflows = [p for p in conflicted if p.startswith(f"{WORKFLOWS_DIR.as_posix()}/")]
    if workflows:
        raise GitError(f"workflow files with merge conflicts: {', '.join(workflows)}; "
                       "resolve them first")
    git_dir = Path(repo.git_dir)
    for name, what in _IN_PROGRESS.items():
        if (git_dir / name).exists():
            raise GitError(f"the repository is in the middle of {what}; finish or abort it first")
    if conflicted:
        shown = ", ".join(conflicted[:5])
        raise GitError(f"files with merge conflicts: {shown}; resolve them first")
    try:
        head = repo.head.commit.hexsha
    except ValueError:
        raise GitError("the repository has no commits yet: commit the workflows first") from None
    branch = None if repo.head.is_detached else repo.active_branch.name
    clean = not repo.git.status("--porcelain", "--untracked-files=normal")
    return RepoState(repo, head, branch, clean)


def branch_exists(repo: Repo, name: str) -> bool:
    ref = f"refs/heads/{name}"
    return bool(repo.git.rev_parse("--verify", "--quiet", ref, with_exceptions=False))


def check_branch_name(repo: Repo, name: str) -> None:
    from git import GitCommandError

    try:
        repo.git.check_ref_format("--branch", name)
    except GitCommandError:
        raise GitError(f"invalid branch name: {name}") from None


def commit_repo(
    root: Path,
    process: Callable[[Path, str], RepoResult],
    options: CommitOptions,
) -> RepoResult:
    """Compute the fixes with `process(folder, slug)` and commit them on a new branch
    (`slug`: the repository's OWNER/REPO, the same whichever folder the fixes are computed in).

    Errors come back in `RepoResult.error` as one line (`<root>: <reason>`).
    """
    from git import GitCommandError

    try:
        state = open_repo(root)
        if options.branch:
            check_branch_name(state.repo, options.branch)
        slug = origin_slug(root)
        with repo_lock(Path(state.repo.common_dir)):
            return _process_and_commit(state, root, slug, process, options)
    except GitError as exc:
        return RepoResult(str(root), error=f"{root}: {exc}")
    except GitCommandError as exc:
        return RepoResult(str(root), error=f"{root}: git: {one_line(exc)}")


def _process_and_commit(state: RepoState, root: Path, slug: str,
                        process: Callable[[Path, str], RepoResult], options: CommitOptions
                        ) -> RepoResult:
    """The fixes of the work tree (clean) or of HEAD (dirty), committed on a new branch."""
    if state.clean:
        result = process(root, slug)
        if result.error is None:
            _commit_clean(state, result, root, options)
        return result
    with tempfile.TemporaryDirectory(prefix="gha-fix-") as tmp:
        result = _process_head(state, Path(tmp), lambda work: process(work, slug))
        result.root = str(root)
        if result.error is None:
            _commit_dirty(state, result, Path(tmp), options)
        return result


@dataclass
class Planned:
    """A changed file to commit: `target` is the file written (the symlink's target, if
    the FileResult's path is a symlink), relative to the repository's root."""

    file: FileResult
    target: str


# `git ls-files -v` tags: S is skip-worktree, a lowercase tag is assume-unchanged
def _flag(tag: str) -> str | None:
    return "skip-worktree" if tag in "Ss" else "assume-unchanged" if tag.islower() else None


def _plan(state: RepoState, result: RepoResult, folder: Path) -> list[Planned]:
    """The changed files to commit, each once, with their targets in `folder` (the work tree
    or the temporary checkout of HEAD); the others are left out and the run says why."""
    say = result.messages.append
    planned: dict[str, Planned] = {}
    for file in (f for f in result.files if f.changed):
        try:
            target = target_path(folder, file.path)
        except ValueError:
            say(f"{file.path}: {OUTSIDE}, left out of the commit")
            continue
        if (note := symlink_note(file.path, target, "committed in")) is not None:
            say(note)
        if target not in planned:
            planned[target] = Planned(file, target)
        elif file_bytes(planned[target].file) != file_bytes(file):
            say(f"{file.path}: the same file as {planned[target].file.path}, fixed "
                "differently: left out of the commit")
    if not planned:
        return []
    tags = {
        entry[2:]: entry[0]
        for entry in state.repo.git.ls_files("-v", "-z", "--", *planned).split("\0") if entry
    }
    for target in list(planned):
        if target not in tags:
            say(f"{target}: not tracked by git, left out of the commit")
        elif flag := _flag(tags[target]):
            say(f"{target}: marked {flag} in git's index: left out of the commit "
                "(and not written)")
        else:
            continue
        del planned[target]
    return list(planned.values())


def _prepare(state: RepoState, result: RepoResult, options: CommitOptions, folder: Path
             ) -> tuple[list[Planned], str, str] | None:
    """The files to commit, the branch and the message; None when there is nothing to do."""
    plan = _plan(state, result, folder)
    if not plan:
        result.messages.append("nothing to fix: no branch created")
        return None
    from gha_fix.codemod.commit_message import commit_message, default_branch  # hashlib: late

    files = [p.file for p in plan]
    branch = options.branch or default_branch(state.head, files)
    if branch_exists(state.repo, branch):
        if not options.force:
            raise GitError(f"branch {branch} already exists (use --force to replace it)")
        where = worktree_of(state.repo.git.worktree("list", "--porcelain"), branch)
        if where is not None:
            here = os.path.realpath(where) == os.path.realpath(state.repo.working_tree_dir or "")
            raise GitError(f"branch {branch} is checked out"
                           f"{'' if here else f' in the worktree {where}'}: cannot replace it")
    if state.branch is None:
        result.messages.append(f"HEAD is detached at {state.head[:12]}: branching from it")
    return plan, branch, commit_message(result, files)


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


def _committed(state: RepoState, commit: str) -> int:
    """How many files `commit` changes from HEAD (what the message says is what it holds)."""
    names = state.repo.git.diff_tree("-r", "--no-renames", "--name-only", "-z", state.head,
                                     commit)
    return len([n for n in names.split("\0") if n])


def _commit_clean(
    state: RepoState, result: RepoResult, root: Path, options: CommitOptions
) -> None:
    """`git switch -c`, write, `git add`, `git commit` (hooks, signing); undone on failure."""
    from git import GitCommandError

    prepared = _prepare(state, result, options, root)
    if prepared is None:
        return
    plan, branch, message = prepared
    git = state.repo.git
    old = git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}", with_exceptions=False)
    saved: dict[str, SavedFile] = {}
    with sigint_noted() as interrupted:
        failure: BaseException | None = None
        switched = False
        try:
            saved.update((p.target, SavedFile.of(root / p.target)) for p in plan)
            git.switch("-C" if options.force else "-c", branch)
            switched = True
            for planned in plan:
                saved[planned.target].write(file_bytes(planned.file))
            git.add("--", *(p.target for p in plan))
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt",
                                             delete=False) as handle:
                handle.write(message)
            try:
                git.commit("-q", "-F", handle.name)
            finally:
                os.unlink(handle.name)
        except (GitCommandError, OSError) as exc:
            failure = exc
        if failure is not None or interrupted():
            undo_clean(git, (state.head, state.branch), branch if switched else None, old,
                       saved, (failure, interrupted()))
    for planned in plan:
        planned.file.written = True
    result.branch = branch
    result.messages.append(
        f"committed {_files(_committed(state, 'HEAD'))} on new branch {branch} and switched "
        f"to it (`git switch {state.branch or '--detach ' + state.head[:12]}` goes back)"
    )
    _after_commit(state, result, branch, options)


def _git_env(tmp: Path) -> dict[str, str]:
    """git on the temporary checkout: a temporary index keeps the user's staged changes out;
    LFS must not fetch anything; no fsmonitor (it watches the user's tree, not this one)."""
    return {"GIT_INDEX_FILE": str(tmp / "index"), "GIT_WORK_TREE": str(tmp / "work"),
            "GIT_LFS_SKIP_SMUDGE": "1", "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "core.fsmonitor", "GIT_CONFIG_VALUE_0": "false"}


def _process_head(
    state: RepoState, tmp: Path, process: Callable[[Path], RepoResult]
) -> RepoResult:
    """Run the fixes on HEAD's files, checked out into `tmp/work` via a temporary index."""
    git = state.repo.git
    env = _git_env(tmp)
    work = tmp / "work"
    work.mkdir()
    git.read_tree(state.head, env=env)
    git.checkout_index("-a", "-f", f"--prefix={work}{os.sep}", env=env)
    return process(work)


def _commit_dirty(
    state: RepoState, result: RepoResult, tmp: Path, options: CommitOptions
) -> None:
    """Build the commit from the temporary index; the user's tree, index and HEAD stay put."""
    from git import GitCommandError

    work = tmp / "work"
    prepared = _prepare(state, result, options, work)
    if prepared is None:
        return
    plan, branch, message = prepared
    git = state.repo.git
    env = _git_env(tmp)
    ref = f"refs/heads/{branch}"
    old = ref_value(git, ref)
    commit = ""
    with sigint_noted() as interrupted:
        try:
            for planned in plan:
                # the bytes --no-commit would write, into the temporary checkout (not the
                # user's tree: the file is not marked written); `git add` stores them as the
                # clean-tree commit does (core.autocrlf, .gitattributes, the blob in the index)
                write_atomic(work / planned.target, file_bytes(planned.file))
            git.add("--", *(p.target for p in plan), env=env)
            tree = git.write_tree(env=env)
            (tmp / "message").write_text(message, encoding="utf-8")
            sign = ["-S"] if _gpg_sign(state.repo) else []
            commit = git.commit_tree(tree, "-p", state.head, *sign, "-F", str(tmp / "message"))
            # create-only unless --force: fails if the branch appeared in the meantime
            git.update_ref("-m", "gha-fix: branch created", ref, commit, old or "0" * 40)
        except GitCommandError as exc:
            if not (interrupted() or killed_by_sigint(exc)):
                raise
        if interrupted() or not commit or ref_value(git, ref) != commit:
            put_back(git, ref, old, commit)
            raise GitError(INTERRUPTED)
    result.branch = branch
    result.messages.append(
        f"your work tree has uncommitted changes: left as it was; committed "
        f"{_files(_committed(state, commit))} on new branch {branch} without switching to it "
        f"(hooks not run); see it with `git show {branch}`, `git switch {branch}` once your "
        "work is committed"
    )
    _after_commit(state, result, branch, options)


def _gpg_sign(repo: Repo) -> bool:
    value = repo.git.config("--type=bool", "--get", "commit.gpgsign", with_exceptions=False)
    return value.strip() == "true"


def _after_commit(state: RepoState, result: RepoResult, branch: str, options: CommitOptions
                  ) -> None:
    from git import GitCommandError

    base = f" --base {state.branch}" if state.branch else ""
    if options.push:
        force = ["--force-with-lease"] if options.force else []
        try:
            state.repo.git.push("--quiet", "--set-upstream", *force, options.push,
                                f"refs/heads/{branch}:refs/heads/{branch}")
        except GitCommandError as exc:
            result.error = (f"{result.root}: branch {branch} created, but the push to "
                            f"{options.push} failed: {one_line(exc)}")
            return
        result.messages.append(f"pushed {branch} to {options.push}; open a pull request with:")
    else:
        result.messages.append(
            f"push it with `git push -u origin {branch}`, then open a pull request with:"
        )
    result.messages.append(f"  gh pr create --head {branch}{base} --fill")

