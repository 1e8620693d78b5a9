"""Derive what an action does with the GITHUB_TOKEN from its own files (issue #14).

`derive_local(root, action_dir, metadata)` reads a local action of a checkout (`uses: ./x`):
- the README (`readme.py`): `permissions:` blocks of its examples, "Required Permission" lines
  under an input's heading (the need then depends on that input), a permissions section;
- for a JavaScript action, the code (`sources.py` picks the files, `code.py` finds the call
  sites and maps them through the REST tables of `endpoints.py`).

The result (`model.DerivedEntry`) is understood only when nothing read was left unsettled:
- the code was read and every call site found is mapped (an unmapped method or route, a
  dynamic call, a GraphQL call, a module that could not be read: not understood);
- or, for an action whose code is not in the checkout (or a Docker action), the README states
  the permissions explicitly.
Needs from both sources are kept, each with its source (`kind`, file:line); the job is granted
the code's when the code was read (the README's extra claims stay in the entry, for the
agreement report), else the README's.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gha_fix.transforms.analysis.derive.model import DerivedEntry, DerivedNeed

if TYPE_CHECKING:
    from gha_fix.transforms.analysis.derive.sources import Files

JAVASCRIPT = ("node12", "node16", "node20", "node24")


def derive_local(root: Path, action_dir: str, metadata: dict[str, Any],
                 token_inputs: list[str] | None = None,
                 token_env: list[str] | None = None) -> DerivedEntry:
    """What the local action in `action_dir` (relative to `root`) needs; `metadata`: its
    parsed action.yml; `token_inputs` / `token_env`: the inputs and environment variables
    that hand it the GITHUB_TOKEN (default: the inputs whose default is the token)."""
    from gha_fix.transforms.analysis.derive.sources import LocalFiles

    return derive(LocalFiles(root), action_dir, metadata, token_inputs, token_env)


def derive(files: Files, action_dir: str, metadata: dict[str, Any],
           token_inputs: list[str] | None = None, token_env: list[str] | None = None,
           action: str = "") -> DerivedEntry:
    """`derive_local` over any `Files` (a checkout, or a repository at a ref on GitHub)."""
    from gha_fix.transforms.analysis.action_metadata import mentions_token
    from gha_fix.transforms.analysis.derive.code import CodeFindings, scan_code
    from gha_fix.transforms.analysis.derive.jslex import strip_comments
    from gha_fix.transforms.analysis.derive.readme import readme_needs
    from gha_fix.transforms.analysis.derive.sources import code_files, readme_files
    from gha_fix.transforms.analysis.derive.taint import (
        clients_escape,
        env_route_reasons,
        raw_token_uses,
        token_reads,
        unseen_packages,
    )

    action_dir = posixpath.normpath(action_dir) or "."
    runs = metadata.get("runs") if isinstance(metadata.get("runs"), dict) else {}
    using = str(runs.get("using", "")).strip().lower()
    inputs = _input_defaults(metadata)
    if token_inputs is None:
        token_inputs = [n for n, d in inputs.items() if mentions_token(d)]
    reads = token_reads(token_inputs, token_env or [])
    entry = DerivedEntry(action=action or (f"./{action_dir}" if action_dir != "." else "./"),
                         using=using)
    for rel in readme_files(files, action_dir):
        text = files.read(rel)
        if text is not None:
            entry.files.append(rel)
            entry.needs += readme_needs(text, rel, inputs)
    readme_says = bool(entry.needs)
    if using == "docker" and isinstance(runs.get("image"), str):
        from gha_fix.transforms.analysis.derive.docker import node_entry

        entry_file = node_entry(files, action_dir, runs["image"])
        if entry_file is not None:  # `node main.js` in the image: read as JavaScript
            using = "docker (node)"
            runs = {"main": posixpath.relpath(entry_file, action_dir)}
    if using in (*JAVASCRIPT, "docker (node)"):
        found = code_files(files, action_dir, runs)
        findings = CodeFindings()
        for rel, text in found.texts.items():
            scan_code(text, rel, findings)
        token_read = 0
        codes = {rel: strip_comments(text) for rel, text in found.texts.items()}
        if reads is not None:
            token_read, reasons = raw_token_uses(codes, reads)
            findings.unknown += reasons
        if unseen_packages(codes):  # a client handed to a package's code: calls unseen
            findings.unknown += clients_escape(codes)
        findings.unknown += env_route_reasons(codes, token_env or [])
        entry.files += list(found.texts)
        entry.needs += findings.needs
        if found.texts:
            entry.code_read = True
            entry.unknown += findings.unknown
            entry.unknown += [f"could not read {m}" for m in found.missing]
            if reads is not None and token_read == 0 and token_inputs:
                entry.unknown.append("its code does not visibly read the token input "
                                     f"({', '.join(token_inputs)})")
        elif not readme_says:
            entry.unknown.append("its code could not be read ("
                                 + "; ".join(found.missing or ["no runs.main"])
                                 + ") and its README states no permissions")
    elif not readme_says:
        entry.unknown.append(f"a {using or 'non-JavaScript'} action whose README states no "
                             "permissions (its code is not analysed)")
    return entry


def _input_defaults(metadata: dict[str, Any]) -> dict[str, str | None]:
    raw = metadata.get("inputs") if isinstance(metadata.get("inputs"), dict) else {}
    out: dict[str, str | None] = {}
    for name, spec in raw.items():
        default = spec.get("default") if isinstance(spec, dict) else None
        out[str(name)] = None if default is None else str(default)
    return out


__all__ = ["DerivedEntry", "DerivedNeed", "derive", "derive_local"]
