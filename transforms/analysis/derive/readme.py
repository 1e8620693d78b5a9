"""What an action's README (or docs page) says it needs:

- `permissions:` blocks inside fenced code blocks (a usage example), block or flow style;
- per-input lines, as actions/stale writes them: under a heading naming an input,
  `Required Permission: `issues: write`` (the need then depends on that input: it holds when
  the input has a default, else only when the step sets it);
- prose in a section whose heading speaks of permissions: `contents: write`, in code spans or
  plain text, on any line of that section.

Each need keeps its file:line.  Scopes are those of the GITHUB_TOKEN (needs.SCOPES).
"""

from __future__ import annotations

import re

from gha_fix.transforms.analysis.derive.model import DerivedNeed
from gha_fix.transforms.analysis.needs import SCOPES, InputCondition

FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SCOPE_LEVEL = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(map(re.escape, SCOPES), key=len, reverse=True))
    + r")\s*:\s*['\"]?(read|write)\b"
)
REQUIRED = re.compile(r"required\s+permissions?\s*:?(.*)", re.IGNORECASE)
PERMISSIONS_KEY = re.compile(r"^(\s*)(?:-\s+)?permissions\s*:\s*(.*)$")


def _heading_input(title: str, inputs: set[str]) -> str | None:
    """The input a heading names (`#### stale-issue-message`, `### `token``), if any."""
    name = title.strip("`*_ ").split()[0].strip("`*_:") if title.strip() else ""
    return name if name in inputs else None


def readme_needs(text: str, where: str, inputs: dict[str, str | None]) -> list[DerivedNeed]:
    """Needs stated in one Markdown file; `inputs`: the action's inputs and defaults."""
    needs: list[DerivedNeed] = []
    lines = text.splitlines()
    fence: str | None = None
    block_indent: int | None = None  # inside a `permissions:` mapping of a fenced example
    section_input: str | None = None  # the input the current heading names
    permissions_section = False
    for number, line in enumerate(lines, 1):
        at = f"{where}:{number}"
        opened = FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence, block_indent = None, None
                continue
            block_indent = _fenced_line(line, at, block_indent, needs)
            continue
        if opened:
            fence = opened.group(1)
            continue
        heading = HEADING.match(line)
        if heading:
            title = heading.group(2)
            section_input = _heading_input(title, set(inputs))
            permissions_section = "permission" in title.lower()
            continue
        required = REQUIRED.search(line)
        if section_input is not None and required:
            when = None if inputs.get(section_input) not in (None, "") else \
                InputCondition(section_input, "set")
            for scope, level in SCOPE_LEVEL.findall(required.group(1)):
                needs.append(DerivedNeed(scope, level, "readme", at,
                                         f"Required Permission of input {section_input}",
                                         when=when))
            continue
        if permissions_section or required:
            for scope, level in SCOPE_LEVEL.findall(line):
                needs.append(DerivedNeed(scope, level, "readme", at, "permissions section"))
    return needs


def _fenced_line(line: str, at: str, block_indent: int | None,
                 needs: list[DerivedNeed]) -> int | None:
    """Read one line of a fenced example; returns the indentation of the `permissions:` key
    whose mapping is being read (None when outside one)."""
    stripped = line.strip()
    indent = len(line) - len(line.lstrip())
    if block_indent is not None:
        if stripped and not stripped.startswith("#") and indent <= block_indent:
            block_indent = None  # the mapping ended
        else:
            for scope, level in SCOPE_LEVEL.findall(line.split("#", 1)[0]):
                needs.append(DerivedNeed(scope, level, "readme", at, "permissions: example"))
            return block_indent
    key = PERMISSIONS_KEY.match(line)
    if key is None:
        return block_indent
    rest = key.group(2).split("#", 1)[0].strip()
    if not rest:
        return len(key.group(1))
    for scope, level in SCOPE_LEVEL.findall(rest):  # flow style: {contents: write}
        needs.append(DerivedNeed(scope, level, "readme", at, "permissions: example"))
    return block_indent
