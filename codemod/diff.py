"""Git-style unified diffs that `git apply` accepts, with credentials masked (a diff with a
masked value does not apply as printed: `masked` tells).

The old side's lines (removed and context) are the file's lines with the credentials' spans
masked, whatever their form; the new side's lines are masked by the credentials' text forms
(a fix writes `${{ secrets.NAME }}` where a value was; a value left in place keeps its text)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from gha_fix.codemod.masks import Masker, label
from gha_fix.codemod.paths import diff_prefix

if TYPE_CHECKING:
    from gha_fix.codemod.model import FileResult, RepoResult


def redact(text: str, secrets: Iterable[str] = (), results: Sequence[RepoResult] = ()) -> str:
    """`text` with every credential value in `secrets` (and every line of one) and every
    credential of the files of `results` (by value and as written) masked, and URL user info
    removed."""
    masker = Masker.of_results(results)
    return Masker(values=secrets, forms=masker.forms).text(text)


def _range(start: int, stop: int) -> str:
    """A hunk header's range, as difflib writes it."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def unified_diff(path: str, before: str, after: str, masker: Masker | None = None) -> str:
    if before == after:
        return ""
    a = before.splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    old = masker.masked_lines() if masker else a
    new = [masker.text(line, urls=False) for line in b] if masker else b
    out = [f"diff --git a/{path} b/{path}\n", f"--- a/{path}\n", f"+++ b/{path}\n"]
    matcher = difflib.SequenceMatcher(None, a, b)
    for group in matcher.get_grouped_opcodes(3):
        out.append(f"@@ -{_range(group[0][1], group[-1][2])} "
                   f"+{_range(group[0][3], group[-1][4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            lines = [" " + line for line in old[i1:i2]] if tag == "equal" else [
                *("-" + line for line in old[i1:i2]), *("+" + line for line in new[j1:j2])]
            for line in lines:
                out.append(line)
                if not line.endswith("\n"):
                    out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def file_diff(repo: RepoResult, file: FileResult, many: bool) -> str:
    """A changed file's diff, its paths from the repo root (or, over many repos, with the
    repo's folder in front); rendered once, by the worker when it ran in one."""
    if file.diff is None:
        shown = f"{diff_prefix(repo.root)}{file.path}" if many else file.path
        masker = Masker.of_file(file)
        file.diff = unified_diff(shown, file.original, file.new, masker if masker else None)
    return file.diff


def masked(file: FileResult) -> bool:
    """Whether the file's rendered diff shows a masked credential (so `git apply` would
    write the mask, not the fix)."""
    if not file.diff or not (file.spans or file.secrets):
        return False
    return any(label(s.prefix) in file.diff for s in file.spans) or label() in file.diff
