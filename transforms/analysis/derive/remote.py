"""The deriver online: an action the knowledge base lacks is read from its repository at the
ref the workflow pins, through the engine's `GitHubFiles` (the hardened client: on-disk
cache, a commit cached forever and a tag for its TTL, deadlines, size caps, credentials only to
the configured hosts).  Only what the deriver needs is fetched: the README of the action's
folder and the files `runs.main`/`pre`/`post` name (a bundle over the client's answer cap is
not fetched: then the README alone may settle it).  Folders cannot be listed, so an action
whose built code is not committed is understood from its README or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gha_fix.codemod.github_files import ActionRef

if TYPE_CHECKING:
    from gha_fix.codemod.github_files import GitHubFiles

KIND = "derive"  # the cache folder of these files


class RemoteFiles:
    """Files of `owner/repo` at `ref`, fetched one by one (each cached)."""

    readme_names = ("README.md",)

    def __init__(self, files: GitHubFiles, owner: str, repo: str, ref: str) -> None:
        self.files = files
        self.owner, self.repo, self.ref = owner, repo, ref
        self._texts: dict[str, str | None] = {}
        self.problems: list[str] = []

    def read(self, rel: str) -> str | None:
        if rel.startswith("..") or rel.startswith("/"):
            return None
        if rel not in self._texts:
            failures = self.files.failures
            got = self.files.fetch(KIND, ActionRef(self.owner, self.repo, rel, self.ref), [rel])
            if "answer larger than" in got.problem:  # a big bundle: no sign of a dead network
                self.files.failures = failures
            if got.problem:
                self.problems.append(got.problem)
            fetched = got.file
            self._texts[rel] = (fetched.text if fetched is not None and fetched.status == "ok"
                                else None)
        return self._texts[rel]

    def is_file(self, rel: str) -> bool:
        return self.read(rel) is not None

    def sources_under(self, rel_dir: str) -> list[str]:
        return []  # no listing of folders
