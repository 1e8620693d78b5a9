"""How paths are shown: so that they open from where the user stands."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: str | Path) -> str:
    """Relative to the current folder when below it, else absolute (never `../..`)."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.getcwd())
    if relative == os.curdir:
        return relative
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return absolute
    return relative


def in_repo(root: str, rel: str) -> str:
    """A repository file (`rel`, relative to `root`) as `display_path` shows it."""
    return display_path(os.path.join(root, rel))


def diff_prefix(root: str) -> str:
    """What goes before a file's path in a diff over several repositories: the repository's
    folder relative to the current one (`a/<it>/.github/...`), never an absolute path."""
    relative = os.path.relpath(os.path.abspath(root), os.getcwd())
    return "" if relative == os.curdir else Path(relative).as_posix() + "/"


def default_cache_dir() -> Path:
    """Where gha-fix keeps what it may read again (`$XDG_CACHE_HOME/gha-fix`, else
    `~/.cache/gha-fix`): action metadata fetched from GitHub, the parsed knowledge files."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "gha-fix"
