"""Which files of an action the deriver reads, from a folder (a local action in the
checkout): its README, the code `runs.main`/`pre`/`post` name and the modules they import
(relative imports, followed), or, when the built file is not in the checkout, every source
file of the package it belongs to (`src/`, `lib/` next to the nearest package.json).

Only regular files inside the repository are read (`read_regular_file`), each up to
MAX_FILE bytes, at most MAX_FILES files.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gha_fix.codemod.document import DocumentError
from gha_fix.codemod.reading import read_regular_file
from gha_fix.transforms.analysis.derive.jslex import strip_comments

MAX_FILE = 6 * 1024 * 1024  # about 6 s of lexing in pure Python
MAX_FILES = 400
CODE_SUFFIXES = (".ts", ".js", ".mjs", ".cjs", ".mts", ".cts", ".tsx")
README_NAMES = ("README.md", "readme.md", "Readme.md", "README.markdown", "README")
IMPORT = re.compile(
    r"(?:\brequire\s*\(\s*|\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['\"])(\.{1,2}/[^'\"]+)\1"
)
_TESTS = re.compile(r"(^|/)(__tests__|__test__|tests?|__mocks__|node_modules)/|\.(spec|test)\.")


@dataclass
class CodeFiles:
    """The code read: path (relative to the repository) -> text; and what was missing."""

    texts: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    how: str = ""  # `runs.main and its imports`, `the package's sources`, ...


class Files(Protocol):
    """Where an action's files are read from: a checkout, or its repository on GitHub."""

    readme_names: tuple[str, ...]

    def read(self, rel: str) -> str | None: ...

    def is_file(self, rel: str) -> bool: ...

    def sources_under(self, rel_dir: str) -> list[str]: ...


class LocalFiles:
    """Files of a checkout, read safely."""

    readme_names = README_NAMES

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, rel: str) -> str | None:
        rel = posixpath.normpath(rel)
        if rel.startswith(".."):
            return None
        try:
            if (self.root / rel).stat().st_size > MAX_FILE:
                return None
            data = read_regular_file(self.root / rel, within=self.root)
        except (DocumentError, OSError):
            return None
        return data.decode("utf-8", errors="replace")

    def is_file(self, rel: str) -> bool:
        path = self.root / posixpath.normpath(rel)
        return not posixpath.normpath(rel).startswith("..") and path.is_file() \
            and not path.is_symlink()

    def sources_under(self, rel_dir: str) -> list[str]:
        """Source files below a folder, tests and declaration files left out, sorted."""
        base = self.root / rel_dir
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and d not in ("node_modules", "__tests__", "__mocks__"))
            for name in sorted(filenames):
                rel = Path(dirpath, name).relative_to(self.root).as_posix()
                if name.endswith(CODE_SUFFIXES) and not name.endswith(".d.ts") \
                        and not _TESTS.search(rel):
                    found.append(rel)
        return found


def readme_files(files: Files, action_dir: str) -> list[str]:
    """The README of the action's folder (and of the repository when that is the folder)."""
    for name in files.readme_names:
        rel = posixpath.join(action_dir, name) if action_dir != "." else name
        if files.is_file(rel):
            return [rel]
    return []


def _resolve(files: Files, importer: str, spec: str) -> str | None:
    base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
    stem = re.sub(r"\.(js|mjs|cjs)$", "", base)
    candidates = [base, *(stem + s for s in CODE_SUFFIXES),
                  *(posixpath.join(base, "index" + s) for s in CODE_SUFFIXES)]
    return next((c for c in candidates if files.is_file(c)), None)


def code_files(files: Files, action_dir: str, runs: dict) -> CodeFiles:
    """The code of a JavaScript action: its entry points and what they import."""
    out = CodeFiles()
    entries = [runs.get(k) for k in ("pre", "main", "post")]
    paths = [posixpath.normpath(posixpath.join(action_dir, e))
             for e in entries if isinstance(e, str) and e.strip()]
    present = [p for p in paths if files.is_file(p)]
    if present:
        out.how = "runs.main/pre/post and the modules they import"
        _follow(files, present, out)
        out.missing += [f"{p} (runs entry)" for p in paths if p not in present]
        return out
    package = _package_root(files, action_dir)
    sources: list[str] = []
    if package is not None:
        for folder in ("src", "lib", "sources/src"):
            sources += files.sources_under(posixpath.join(package, folder))
    if not sources:
        out.missing += [f"{p} (runs entry: not found, nor sources)" for p in paths]
        return out
    out.how = f"runs entry not built in the checkout: every source file of {package}/"
    _follow(files, sources[:MAX_FILES], out)
    return out


def _package_root(files: Files, action_dir: str) -> str | None:
    current = action_dir
    while True:
        if files.is_file(posixpath.join(current, "package.json")):
            return current
        if current in (".", ""):
            return None
        current = posixpath.dirname(current) or "."


def _follow(files: Files, start: list[str], out: CodeFiles) -> None:
    queue = list(start)
    while queue and len(out.texts) < MAX_FILES:
        rel = queue.pop(0)
        if rel in out.texts:
            continue
        text = files.read(rel)
        if text is None:
            out.missing.append(f"{rel} (unreadable or over {MAX_FILE // 1024 // 1024} MB)")
            continue
        out.texts[rel] = text
        for match in IMPORT.finditer(strip_comments(text)):
            target = _resolve(files, rel, match.group(2))
            if target is None:
                if not match.group(2).endswith((".json", ".css", ".node")):
                    out.missing.append(f"{match.group(2)} (imported by {rel})")
            elif target not in out.texts:
                queue.append(target)
    if queue:
        out.missing.append(f"more than {MAX_FILES} files")
