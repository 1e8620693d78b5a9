"""A repository being processed: its workflows, local actions, reusable workflows and config."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.document import Document, DocumentError
from gha_fix.codemod.reading import read_regular_file

if TYPE_CHECKING:
    from gha_fix.codemod.github_files import GitHubFiles

WORKFLOWS_DIR = Path(".github/workflows")
ACTION_FILES = ("action.yml", "action.yaml")
UNKNOWN_SLUG = "OWNER/REPO"


def is_repo_root(path: Path) -> bool:
    return (path / WORKFLOWS_DIR).is_dir()


def relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


@dataclass
class RepoContext:
    """Everything a transform may look at beyond the workflow it is given (LibCST's
    `CodemodContext` is the model): typed fields for what the engine provides, `warn()` for
    what a transform has to say about the run, `scratch` for analyses shared between
    transforms (computed once per repository).

    Local composite actions and reusable workflows are parsed on first use and kept.
    """

    root: Path
    config: dict[str, Any] = field(default_factory=dict)
    # OWNER/REPO of the `origin` remote (for `gh secret set --repo`), else UNKNOWN_SLUG
    slug: str = UNKNOWN_SLUG
    # fetches files of GitHub repositories (actions' metadata; cached); None: local only
    resolver: GitHubFiles | None = None
    warnings: list[str] = field(default_factory=list)  # said once per run, e.g. a rate limit
    # the repository's default token as GitHub's "Workflow permissions" setting says
    # ("restricted" or "permissive"; `codemod/default_token.py`), None when not read; the
    # config's `permissions: repository_default:` overrides it
    repository_default: str | None = None
    scratch: dict[str, Any] = field(default_factory=dict)
    _documents: dict[str, Document | DocumentError] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        """Say `message` once for this repository (shown after its results)."""
        if message not in self.warnings:
            self.warnings.append(message)

    def workflow_files(self) -> list[Path]:
        """The `.yml`/`.yaml` entries of the workflows folder that are not folders: FIFOs,
        broken links and symlink loops too (reading one is that file's error, see
        `read_document`);
        OSError if the folder cannot be listed."""
        folder = self.root / WORKFLOWS_DIR
        if not folder.is_dir():
            return []
        return sorted(
            p for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and not p.is_dir()
        )

    def read_text(self, rel: str) -> str:
        """A UTF-8 text file of the repository (a script a step runs): only a regular file
        inside the repository is read (a FIFO would block forever); DocumentError otherwise,
        with the reason."""
        data = read_regular_file(self.root / rel, within=self.root)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError("not UTF-8", 0) from None

    def inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root.resolve())
        except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
            return False
        return True

    def read_document(self, rel: str) -> Document:
        """A YAML file of the repo, parsed once per run (transforms and the runner share it);
        raises DocumentError (also for a path outside the repo)."""
        if rel not in self._documents:
            try:
                raw = read_regular_file(self.root / rel, self.root)
                self._documents[rel] = Document.from_bytes(rel, raw)
            except DocumentError as exc:
                self._documents[rel] = exc
        found = self._documents[rel]
        if isinstance(found, DocumentError):
            raise found
        return found

    def find_document(self, rel: str) -> Document | None:
        """A YAML file of the repo (an action.yml, a reusable workflow) or None if unusable."""
        if not (self.root / rel).is_file():
            return None
        try:
            return self.read_document(rel)
        except DocumentError:
            return None

    def local_action(self, uses: str) -> Document | None:
        """The metadata of a local action (`uses: ./path/to/action`)."""
        folder = os.path.normpath(uses.removeprefix("./")).replace(os.sep, "/")
        if folder.startswith(".."):
            return None
        for name in ACTION_FILES:
            doc = self.find_document(f"{folder}/{name}" if folder != "." else name)
            if doc is not None:
                return doc
        return None

    def local_workflow(self, uses: str) -> Document | None:
        """A local reusable workflow (`jobs.<id>.uses: ./.github/workflows/x.yml`)."""
        rel = os.path.normpath(uses.split("@")[0].removeprefix("./")).replace(os.sep, "/")
        return None if rel.startswith("..") else self.find_document(rel)


def origin_slug(root: Path) -> str:
    """OWNER/REPO from the `origin` remote in `root`'s .git/config, else UNKNOWN_SLUG."""
    config = root / ".git" / "config"
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return UNKNOWN_SLUG
    section = re.search(r'\[remote "origin"\]([^\[]*)', text)
    url = re.search(r"^\s*url\s*=\s*(\S+)", section.group(1), re.M) if section else None
    if url is None:
        return UNKNOWN_SLUG
    return slug_of_url(url.group(1))


def slug_of_url(url: str) -> str:
    """OWNER/REPO from a remote URL (the path part only: an https URL may carry
    credentials before the host), else UNKNOWN_SLUG."""
    match = re.search(r"[:/]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?\Z", url)
    return f"{match.group(1)}/{match.group(2)}" if match else UNKNOWN_SLUG
