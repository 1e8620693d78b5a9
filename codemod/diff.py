"""Git-style unified diffs that `git apply` accepts, with secret values masked (a diff with
a masked value does not apply as printed: `masked` tells)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gha_fix.codemod.paths import diff_prefix

if TYPE_CHECKING:
    from gha_fix.codemod.model import FileResult, RepoResult


def mask(value: str) -> str:
    """How a secret is shown: its type prefix and its length, never the value."""
    head = value[:4] if len(value) >= 16 else ""
    return f"{head}…({len(value)} chars)"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, mask(secret))
    return text


def unified_diff(path: str, before: str, after: str, secrets: Iterable[str] = ()) -> str:
    if before == after:
        return ""
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    out = [f"diff --git a/{path} b/{path}\n"]
    for line in difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", n=3):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\r\n").rstrip() + "\n")
            continue
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return redact("".join(out), secrets)


def file_diff(repo: RepoResult, file: FileResult, many: bool) -> str:
    """A changed file's diff, its paths from the repo root (or, over many repos, with the
    repo's folder in front); rendered once, by the worker when it ran in one."""
    if file.diff is None:
        shown = f"{diff_prefix(repo.root)}{file.path}" if many else file.path
        file.diff = unified_diff(shown, file.original, file.new, file.secrets)
    return file.diff


def masked(file: FileResult) -> bool:
    """Whether the file's rendered diff shows a masked credential (so `git apply` would
    write the mask, not the fix)."""
    return bool(file.diff) and any(s and mask(s) in (file.diff or "") for s in file.secrets)
