"""A repository being processed: its workflows, local actions, reusable workflows and config."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gha_fix.codemod.document import Document, DocumentError

WORKFLOWS_DIR = Path(".github/workflows")
CONFIG_FILE = Path(".github/gha-fix.yml")
ACTION_FILES = ("action.yml", "action.yaml")
RESOLVER = "actions_meta.resolver"  # RepoContext.cache key of the run's MetadataResolver


class ConfigError(Exception):
    """A bad `.github/gha-fix.yml`; the message is `path:line: reason`."""


def is_repo_root(path: Path) -> bool:
    return (path / WORKFLOWS_DIR).is_dir()


def relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


@dataclass
class RepoContext:
    """Everything a transform may look at beyond the workflow it is given.

    Local composite actions and reusable workflows are parsed on first use and kept, so that
    analyses shared between transforms run once per repository (`cache` holds them).
    """

    root: Path
    config: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    _documents: dict[str, Document | DocumentError] = field(default_factory=dict)

    def workflow_files(self) -> list[Path]:
        folder = self.root / WORKFLOWS_DIR
        if not folder.is_dir():
            return []
        return sorted(
            p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and not p.is_dir()
        )

    def inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root.resolve())
        except (ValueError, OSError):
            return False
        return True

    def parse(self, rel: str) -> Document:
        """A YAML file of the repo, parsed once per run (transforms and the runner share it);
        raises DocumentError (also for a path outside the repo)."""
        if rel not in self._documents:
            path = self.root / rel
            try:
                if not self.inside(path):
                    raise DocumentError("symlink leads outside the repo", 0)
                self._documents[rel] = Document.from_file(path, rel)
            except DocumentError as exc:
                self._documents[rel] = exc
        found = self._documents[rel]
        if isinstance(found, DocumentError):
            raise found
        return found

    def load(self, rel: str) -> Document | None:
        """A YAML file of the repo (an action.yml, a reusable workflow) or None if unusable."""
        if not (self.root / rel).is_file():
            return None
        try:
            return self.parse(rel)
        except DocumentError:
            return None

    def local_action(self, uses: str) -> Document | None:
        """The metadata of a local action (`uses: ./path/to/action`)."""
        folder = os.path.normpath(uses.removeprefix("./")).replace(os.sep, "/")
        if folder.startswith(".."):
            return None
        for name in ACTION_FILES:
            doc = self.load(f"{folder}/{name}" if folder != "." else name)
            if doc is not None:
                return doc
        return None

    def local_workflow(self, uses: str) -> Document | None:
        """A local reusable workflow (`jobs.<id>.uses: ./.github/workflows/x.yml`)."""
        rel = os.path.normpath(uses.split("@")[0].removeprefix("./")).replace(os.sep, "/")
        return None if rel.startswith("..") else self.load(rel)

    def local_actions(self) -> list[str]:
        """Every composite action under .github/actions (relative folders)."""
        base = self.root / ".github" / "actions"
        if not base.is_dir():
            return []
        return sorted(
            relative(self.root, p.parent) for name in ACTION_FILES for p in base.rglob(name)
        )


def load_config(root: Path, override: Path | None = None) -> dict[str, Any]:
    """The repo's `.github/gha-fix.yml` (or `override`), or {} when there is none."""
    path = override if override is not None else root / CONFIG_FILE
    if not path.is_file():
        if override is not None:
            raise ConfigError(f"{path}:0: config file not found")
        return {}
    shown = str(path) if override is not None else CONFIG_FILE.as_posix()
    try:
        doc = Document.from_file(path, shown)
    except DocumentError as exc:
        raise ConfigError(f"{shown}:{exc.line}: {exc.reason}") from None
    config = doc.data
    for key in ("select", "ignore"):
        value = config.get(key)
        if isinstance(value, str):
            config[key] = [v.strip() for v in value.split(",") if v.strip()]
        elif value is not None and not isinstance(value, list):
            raise ConfigError(f"{shown}:{doc.line_of((key,))}: {key} must be a list of ids")
    return config
