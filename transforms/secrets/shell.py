"""`run:` scripts (bash, sh, pwsh, cmd): the credentials a script holds or assigns, and the script
rewritten so that each one is a reference to an env variable in the shell's syntax."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from gha_fix.transforms.lib.shell import quote_states
from gha_fix.transforms.secrets.detect import Hit, Rule, known_tokens, name_hit

_ASSIGN = {
    "bash": re.compile(r"(?<![\w$])(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)="
                       r"(?:\"([^\"$`\\]*)\"|'([^']*)'|([^\s;&|'\"$`()<>]+))"),
    "pwsh": re.compile(r"\$env:([A-Za-z_]\w*)\s*=\s*(?:\"([^\"$`]*)\"|'([^']*)')"),
    "cmd": re.compile(r"(?i)\bset\s+\"?([A-Za-z_]\w*)=([^\"\r\n&]+)"),
}
_ASSIGN["sh"] = _ASSIGN["bash"]


def script_hits(script: str, shell: str, tests: set[str],
                unkeyed: Sequence[Rule] | None = None) -> tuple[list[Hit], dict[int, str]]:
    """The credentials in a bash/sh/pwsh/cmd script, in order, and for each one assigned to a
    variable (`export NPM_TOKEN=...`) that variable's name, by the hit's start."""
    hits = known_tokens(script, unkeyed=unkeyed)
    assigned: dict[int, str] = {}
    pattern = _ASSIGN.get(shell)
    for m in pattern.finditer(script) if pattern else ():
        group = next(g for g in range(2, (m.lastindex or 1) + 1) if m.group(g) is not None) \
            if m.lastindex and m.lastindex > 1 else None
        if group is None:
            continue
        start, value = m.start(group), m.group(group)
        known = [h for h in hits if h.start == start and h.end == start + len(value)]
        # e.g. AWS_SECRET_ACCESS_KEY=
        bound = [] if known else known_tokens(value, m.group(1), unkeyed)
        if bound and not any(h.start < start + len(value) and start < h.end for h in hits):
            hits += [dataclasses.replace(h, start=h.start + start, end=h.end + start)
                     for h in bound]
            assigned[start] = m.group(1)
        elif known:
            assigned[start] = m.group(1)
        elif not any(h.start < start + len(value) and start < h.end for h in hits):
            hit = name_hit(m.group(1), value, start, tests)
            if hit is not None:
                hits.append(hit)
                assigned[start] = m.group(1)
    hits.sort(key=lambda h: h.start)
    return hits, assigned


def rewrite_script(script: str, shell: str, hits: list[Hit], names: Mapping[str, str]
                   ) -> str | None:
    """`script` with each hit replaced by a reference to its env variable, or None if unsafe."""
    if shell not in ("bash", "sh", "pwsh", "cmd"):
        return None  # a custom shell, or a matrix that may pick Windows or Linux
    before = script[: max(h.end for h in hits)]
    if shell in ("bash", "sh", "pwsh") and re.search(r"<<(?!<)", before):
        return None  # inside or after a heredoc: the lexer cannot tell what expands
    states = quote_states(script, shell) if shell != "cmd" else []
    out, pos = [], 0
    for hit in hits:
        name = names[hit.value]
        state = states[hit.start] if states else ""
        if shell == "cmd":
            ref = f"%{name}%"
        elif shell == "pwsh":
            if state == "'":
                return None
            ref = f"${{env:{name}}}"
        elif state == "'":
            ref = f"'\"${{{name}}}\"'"  # close the single quotes, expand, reopen
        else:
            ref = f'"${{{name}}}"' if state == "" and any(c.isspace() for c in hit.value) \
                else f"${{{name}}}"
        out += [script[pos : hit.start], ref]
        pos = hit.end
    return "".join(out) + script[pos:]
