"""`--secrets-file`: the credentials the applied fixes moved to secrets, as `NAME=value` lines.

An engine output channel built only from `Fix.creates` (each `SecretToCreate` has the secret's
name and the value that was in the file): the one place a value is ever written.  The file is
dotenv, as `gh secret set -f PATH` reads it, mode 0600, and never inside the repository unless
git ignores it (the values must not end up in another commit).

One repository a run: names are unique within a repository (one NAME per value), not across
repositories, and one file feeds one `gh secret set -f FILE --repo OWNER/REPO`.  Everything is
checked before any work (`prepare`: one repository found, a file path that is not a folder, in
a folder that exists, outside the repository or git-ignored); `--dry-run` writes nothing and
says which names it would write; two values for one name is an error, never a silent choice.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from gha_fix.codemod.model import RepoResult, Status


class SecretsFileError(Exception):
    """A path --secrets-file refuses; the message never holds a value."""


def secrets_mapping(results: Iterable[RepoResult]) -> dict[str, str]:
    """NAME → value of every secret an applied fix makes a workflow or script read;
    SecretsFileError if one name would hold two values (never one dropped silently)."""
    mapping: dict[str, str] = {}
    for repo in results:
        for result in repo.fixes(Status.APPLIED):
            for secret in result.fix.creates:
                if mapping.setdefault(secret.name, secret.value) != secret.value:
                    raise SecretsFileError(f"two different values would be the secret "
                                           f"{secret.name}; nothing written")
    return mapping


def prepare(path: Path, paths: Sequence[Path], depth: int, listed: bool) -> Path:
    """The one repository the run covers, once `path` is known to be writable there: checked
    before any work (SecretsFileError otherwise)."""
    from gha_fix.codemod.bulk import discover
    from gha_fix.codemod.repo import is_repo_root

    if len(paths) > 1 or listed:
        raise SecretsFileError("--secrets-file takes one repository (names could clash)")
    roots = [t.path for t in discover(paths or [Path(".")], depth)
             if t.error is None and is_repo_root(t.path)]
    if len(roots) > 1:
        raise SecretsFileError(f"--secrets-file takes one repository; {paths[0]} holds "
                               f"{len(roots)} (run one at a time: names could clash)")
    root = roots[0] if roots else (paths or [Path(".")])[0]
    check_secrets_file(path, root)
    return root


def finish(path: Path, results: Sequence[RepoResult], dry_run: bool) -> str:
    """Write the file (not in a dry run); what to tell the user (names only)."""
    mapping = secrets_mapping(results)
    if not mapping:
        return ""
    if dry_run:
        return (f"would write {len(mapping)} secrets to {path} (nothing written in a dry run): "
                f"{', '.join(sorted(mapping))}")
    write_secrets_file(path, Path(results[0].root), mapping)
    return f"wrote {len(mapping)} secrets to {path} (mode 0600): gh secret set -f {path}"


def _ignored_by_git(repo_root: Path, path: Path) -> bool:
    import subprocess

    try:
        done = subprocess.run(["git", "-C", str(repo_root), "check-ignore", "-q", str(path)],
                              capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def check_secrets_file(path: Path, repo_root: Path) -> Path:
    """The resolved path, or SecretsFileError for a path inside the repository that git does
    not ignore (checked before any fix is applied, and again when writing)."""
    if path.is_dir():
        raise SecretsFileError(f"{path}: is a folder; give the path of a file to write")
    if not path.parent.resolve().is_dir():
        raise SecretsFileError(f"{path}: no such folder: {path.parent}")
    target = path.resolve()
    try:
        target.relative_to(repo_root.resolve())
        inside = True
    except ValueError:
        inside = False
    if inside and not _ignored_by_git(repo_root, target):
        raise SecretsFileError(f"{path}: inside the repository and not ignored by git; "
                               "choose a path outside it or add it to .gitignore")
    return target


def write_secrets_file(path: Path, repo_root: Path, mapping: Mapping[str, str]) -> None:
    """Write `NAME=value` lines (dotenv, as `gh secret set -f PATH` reads) with mode 0600.

    Refuses a path inside the repository unless git ignores it: the values must not end up in
    another commit.
    """
    target = check_secrets_file(path, repo_root)
    lines = []
    for name, value in sorted(mapping.items()):
        if "\n" in value or '"' in value or "'" in value or "#" in value or " " in value:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            value = f'"{escaped}"'
        lines.append(f"{name}={value}\n")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise SecretsFileError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            handle.write("".join(lines))
    finally:
        if fd >= 0:
            os.close(fd)
