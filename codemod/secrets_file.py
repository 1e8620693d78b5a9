"""`--secrets-file`: the credentials the applied fixes moved to secrets, as `NAME=value` lines.

An engine output channel built only from `Fix.creates` (each `SecretToCreate` has the secret's
name and the value that was in the file): the one place a value is ever written.  The file is
dotenv, as `gh secret set -f PATH` reads it, mode 0600, and never inside the repository unless
git ignores it (the values must not end up in another commit).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from gha_fix.codemod.model import RepoResult, Status


def secrets_mapping(results: Iterable[RepoResult]) -> dict[str, str]:
    """NAME → value of every secret an applied fix makes a workflow or script read."""
    mapping: dict[str, str] = {}
    for repo in results:
        for result in repo.fixes(Status.APPLIED):
            for secret in result.fix.creates:
                mapping.setdefault(secret.name, secret.value)
    return mapping


class SecretsFileError(Exception):
    """A path --secrets-file refuses; the message never holds a value."""


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
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            fd = -1
            handle.write("".join(lines))
    finally:
        if fd >= 0:
            os.close(fd)
