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

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gha_fix.codemod.diff import redact
from gha_fix.codemod.io import file_bytes, write_atomic, write_file
from gha_fix.codemod.model import FileResult, RepoResult, SecretToCreate, Status
from gha_fix.codemod.repo import WORKFLOWS_DIR, origin_slug

if TYPE_CHECKING:
    from collections.abc import Callable

    from git import Repo

# Files git leaves in its folder while an operation is half done.
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or `git am`",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}


class GitError(Exception):
    """Why the commit could not be made, as one line."""


@dataclass(frozen=True)
class CommitOptions:
    branch: str | None = None  # default: gha-fix/<short id of the change>
    force: bool = False  # replace an existing branch
    push: str | None = None  # remote to push the branch to


@dataclass
class RepoState:
    repo: Repo
    head: str  # commit sha
    branch: str | None  # None when HEAD is detached
    clean: bool


def _one_line(exc: Exception) -> str:
    """The last meaningful line of a git error, without GitPython's framing."""
    stderr = getattr(exc, "stderr", "") or ""
    lines = [
        line.strip().removeprefix("stderr:").strip(" '")
        for line in str(stderr).splitlines()
        if line.strip().strip("'")
    ]
    useful = [line for line in lines if not line.startswith("hint:")]
    return (useful or [str(exc).splitlines()[0] if str(exc) else type(exc).__name__])[-1]


def open_repo(root: Path) -> RepoState:
    """The repository at `root` if a commit can be made there, else GitError."""
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    try:
        repo = Repo(root)
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


def _blob_id(file: FileResult) -> str:
    data = file_bytes(file)
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def default_branch(head: str, files: list[FileResult]) -> str:
    """`gha-fix/<id>`: the same change from the same commit gets the same name."""
    digest = hashlib.sha1(head.encode())
    for file in sorted(files, key=lambda f: f.path):
        digest.update(f"{file.path}\0{_blob_id(file)}\n".encode())
    return f"gha-fix/{digest.hexdigest()[:8]}"


def secrets_to_create(result: RepoResult) -> list[SecretToCreate]:
    """The repository secrets the applied fixes refer to: the user must create them."""
    entries: dict[str, SecretToCreate] = {}
    for fix in result.fixes(Status.APPLIED):
        for secret in fix.fix.creates:
            entries.setdefault(secret.name, secret)
    return list(entries.values())


def commit_message(result: RepoResult, files: list[FileResult]) -> str:
    """Summary line and a body listing, per file, what was fixed; never a secret value."""
    applied = [r for f in files for r in f.fixes if r.status is Status.APPLIED]
    transforms = ", ".join(sorted({r.fix.transform for r in applied}))
    count = f"{len(applied)} finding{'s' if len(applied) != 1 else ''}"
    where = f"{len(files)} workflow file{'s' if len(files) != 1 else ''}"
    lines = [f"gha-fix: fix {count} in {where} ({transforms})", ""]
    for file in files:
        lines.append(f"{file.path}:")
        for fix in file.fixes:
            if fix.status is Status.APPLIED:
                lines.append(f"- line {fix.line} [{fix.fix.transform}] {fix.fix.message}")
        lines.append("")
    entries = secrets_to_create(result)
    leaked = [s for f in files for s in f.secrets]
    if entries:
        lines.append("Secrets to create (Settings > Secrets and variables > Actions):")
        lines += [f"- {e.name}" + (f": {e.create}" if e.create else "") for e in entries]
        lines.append("")
    if leaked or entries:
        lines.append("Rotate the credentials that were written in plain text: they stay in")
        lines.append("the history of this repository even after this change.")
        where = sorted({e.rotate for e in entries if e.rotate})
        if where:
            lines.append(f"They were at: {', '.join(where)}.")
        lines.append("")
    lines.append("Generated by gha-fix.")
    # every credential of the repository's files masked, by value and as written
    message = redact("\n".join(lines) + "\n", results=[result])
    if redact(message, results=[result]) != message:
        raise GitError("internal error: a secret value would appear in the commit message")
    return message


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
        if state.clean:
            result = process(root, slug)
        else:
            with tempfile.TemporaryDirectory(prefix="gha-fix-") as tmp:
                result = _process_head(state, Path(tmp), lambda work: process(work, slug))
                result.root = str(root)
                if result.error is None:
                    _commit_dirty(state, result, Path(tmp), options)
                return result
        if result.error is None:
            _commit_clean(state, result, root, options)
        return result
    except GitError as exc:
        return RepoResult(str(root), error=f"{root}: {exc}")
    except GitCommandError as exc:
        return RepoResult(str(root), error=f"{root}: git: {_one_line(exc)}")


def _tracked_changes(state: RepoState, result: RepoResult) -> list[FileResult]:
    changed = [f for f in result.files if f.changed]
    if not changed:
        return []
    tracked = set(state.repo.git.ls_files("-z", "--", *(f.path for f in changed)).split("\0"))
    for file in changed:
        if file.path not in tracked:
            result.messages.append(f"{file.path}: not tracked by git, left out of the commit")
    return [f for f in changed if f.path in tracked]


def _prepare(state: RepoState, result: RepoResult, options: CommitOptions) -> tuple[
        list[FileResult], str, str] | None:
    """The files to commit, the branch and the message; None when there is nothing to do."""
    files = _tracked_changes(state, result)
    if not files:
        result.messages.append("nothing to fix: no branch created")
        return None
    branch = options.branch or default_branch(state.head, files)
    if branch_exists(state.repo, branch):
        if not options.force:
            raise GitError(f"branch {branch} already exists (use --force to replace it)")
        if branch == state.branch:
            raise GitError(f"branch {branch} is checked out: cannot replace it")
    if state.branch is None:
        result.messages.append(f"HEAD is detached at {state.head[:12]}: branching from it")
    return files, branch, commit_message(result, files)


def _commit_clean(
    state: RepoState, result: RepoResult, root: Path, options: CommitOptions
) -> None:
    """`git switch -c`, write, `git add`, `git commit` (hooks, signing); undone on failure."""
    from git import GitCommandError

    prepared = _prepare(state, result, options)
    if prepared is None:
        return
    files, branch, message = prepared
    git = state.repo.git
    old = git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}", with_exceptions=False)
    git.switch("-C" if options.force else "-c", branch)
    try:
        for file in files:
            write_file(root / file.path, file)
        git.add("--", *(f.path for f in files))
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt",
                                         delete=False) as handle:
            handle.write(message)
        try:
            git.commit("-q", "-F", handle.name)
        finally:
            os.unlink(handle.name)
    except (GitCommandError, OSError) as exc:
        # the tree was clean: going back to the original commit loses nothing of the user's
        git.reset("-q", "--hard", state.head)
        git.switch(*(["--detach", state.head] if state.branch is None else [state.branch]))
        if old:
            git.branch("-f", branch, old)
        else:
            git.branch("-D", branch)
        for file in files:
            file.written = False
        reason = _one_line(exc) if isinstance(exc, GitCommandError) else str(exc)
        raise GitError(f"commit failed, nothing changed: {reason}") from None
    result.branch = branch
    result.messages.append(
        f"committed {len(files)} file(s) on new branch {branch} and switched to it "
        f"(`git switch {state.branch or '--detach ' + state.head[:12]}` goes back)"
    )
    _after_commit(state, result, branch, options)


def _git_env(index: Path) -> dict[str, str]:
    # a temporary index keeps the user's staged changes out; LFS must not fetch anything
    return {"GIT_INDEX_FILE": str(index), "GIT_LFS_SKIP_SMUDGE": "1"}


def _process_head(
    state: RepoState, tmp: Path, process: Callable[[Path], RepoResult]
) -> RepoResult:
    """Run the fixes on HEAD's files, checked out into `tmp/work` via a temporary index."""
    git = state.repo.git
    env = _git_env(tmp / "index")
    git.read_tree(state.head, env=env)
    work = tmp / "work"
    work.mkdir()
    git.checkout_index("-a", "-f", f"--prefix={work}{os.sep}", env=env)
    return process(work)


def _commit_dirty(
    state: RepoState, result: RepoResult, tmp: Path, options: CommitOptions
) -> None:
    """Build the commit from the temporary index; the user's tree, index and HEAD stay put."""
    prepared = _prepare(state, result, options)
    if prepared is None:
        return
    files, branch, message = prepared
    git = state.repo.git
    env = _git_env(tmp / "index")
    work = tmp / "work"
    modes = {}
    for line in git.ls_tree(state.head, "--", *(f.path for f in files)).splitlines():
        meta, path = line.split("\t", 1)
        modes[path] = meta.split()[0]
    for file in files:
        # the bytes --no-commit would write, into the temporary checkout (not the user's
        # tree: the file is not marked written), then into git's object store
        write_atomic((work / file.path).resolve(), file_bytes(file))
        blob = git.hash_object("-w", f"--path={file.path}", str(work / file.path))
        git.update_index("--cacheinfo", f"{modes.get(file.path, '100644')},{blob},{file.path}",
                         env=env)
    tree = git.write_tree(env=env)
    (tmp / "message").write_text(message, encoding="utf-8")
    sign = ["-S"] if _gpg_sign(state.repo) else []
    commit = git.commit_tree(tree, "-p", state.head, *sign, "-F", str(tmp / "message"))
    # create-only unless --force: update-ref fails if the branch appeared in the meantime
    old = [] if options.force else ["0" * 40]
    git.update_ref("-m", "gha-fix: branch created", f"refs/heads/{branch}", commit, *old)
    result.branch = branch
    result.messages.append(
        f"your work tree has uncommitted changes: left as it was; committed {len(files)} "
        f"file(s) on new branch {branch} without switching to it (hooks not run); "
        f"see it with `git show {branch}`, `git switch {branch}` once your work is committed"
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
                            f"{options.push} failed: {_one_line(exc)}")
            return
        result.messages.append(f"pushed {branch} to {options.push}; open a pull request with:")
    else:
        result.messages.append(
            f"push it with `git push -u origin {branch}`, then open a pull request with:"
        )
    result.messages.append(f"  gh pr create --head {branch}{base} --fill")

