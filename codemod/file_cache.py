"""The metadata fetcher's on-disk cache: one JSON file per source, kind and ref, trusted only
when it is safely ours.

Layout: `<root>/<source>/<kind>/<owner>/<repo>/<path…>/<ref>.json`; `<source>` names where the
answers came from (`raw.githubusercontent.com-<hash of its origin>`), so what a
mirror or a test server answered is never taken for GitHub's.

Folders are made 0700 and files 0600 whatever the umask (a folder of ours that others may
write is made 0700 again when written to).  An entry is read only when it is a regular file
(not a symlink), and it and every folder from the root down to it belong to the current user
and are not writable by group or others; else `Untrusted` says why and it is not read.
Entries are at most `max_entry_bytes`; past `max_bytes` or `max_entries` in all, the oldest
files go (counted once per process, then kept up to date by this process's writes).
Writes are a temp file + rename: another process sees the old file or the new one.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import time
import urllib.parse
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gha_fix.codemod.github_files import ActionRef

MAX_ENTRY_BYTES = 2 * 1024 * 1024  # a 1 MiB answer, JSON-escaped
MAX_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 20_000
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9.-]+")


class Untrusted(Exception):
    """A cache entry or folder that is not safely ours; the message names it and why."""


def source_folder(origin: str) -> str:
    """`<host>-<checksum of scheme://host:port>`: readable, and distinct per origin (a
    folder name, not a secret: zlib's checksums, no OpenSSL to load at start-up)."""
    host = urllib.parse.urlsplit(origin).hostname or "local"
    raw = origin.encode()
    digest = f"{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}"
    return f"{_UNSAFE_NAME.sub('_', host)}-{digest}"


class FileCache:
    def __init__(self, root: Path, source: str, max_entry_bytes: int = MAX_ENTRY_BYTES,
                 max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> None:
        self.root = root
        self.source = source
        self.max_entry_bytes = max_entry_bytes
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._usage: list[int] | None = None  # [bytes, files], once counted

    def path(self, kind: str, ref: ActionRef) -> Path:
        folders = ref.path.split("/") if ref.path else ["_"]
        parts = [self.source, kind, ref.owner.lower(), ref.repo.lower(), *folders]
        return self.root.joinpath(*parts, urllib.parse.quote(ref.ref, safe="") + ".json")

    # -- reading ---------------------------------------------------------------------------
    def read(self, kind: str, ref: ActionRef) -> dict[str, Any] | None:
        """The entry's data; None when absent, too large or unreadable; raises Untrusted."""
        path = self.path(kind, ref)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError:
            if path.is_symlink():
                raise Untrusted(f"{path} is a symbolic link") from None
            return None
        with os.fdopen(fd, "rb") as file:
            _check(os.fstat(file.fileno()), path, stat.S_ISREG)
            self._check_folders(path.parent)
            if os.fstat(file.fileno()).st_size > self.max_entry_bytes:
                return None  # never written by us: not read
            raw = file.read(self.max_entry_bytes + 1)
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) and len(raw) <= self.max_entry_bytes else None

    def _check_folders(self, folder: Path) -> None:
        """Every folder from the root down to `folder`: a folder (the root may be a link to
        one), ours, not writable by others."""
        relative = folder.relative_to(self.root).parts
        _check(os.stat(self.root), self.root, stat.S_ISDIR)
        current = self.root
        for part in relative:
            current = current / part
            _check(os.lstat(current), current, stat.S_ISDIR)

    # -- writing ---------------------------------------------------------------------------
    def write(self, kind: str, ref: ActionRef, data: dict[str, Any]) -> None:
        """Raises OSError (a read-only cache) and Untrusted (a folder not ours)."""
        path = self.path(kind, ref)
        text = json.dumps(data, ensure_ascii=False).encode("utf-8")
        if len(text) > self.max_entry_bytes:
            return
        self._make_folders(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(text)
            os.replace(tmp, path)  # mkstemp made it 0600; the rename keeps that
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._account(len(text))

    def _make_folders(self, folder: Path) -> None:
        if not self.root.parent.is_dir():  # $XDG_CACHE_HOME, ~/.cache: private too (XDG)
            self.root.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folders = [self.root]
        for part in folder.relative_to(self.root).parts:
            folders.append(folders[-1] / part)
        for current in folders:
            try:
                os.mkdir(current, 0o700)
            except FileExistsError:
                info = os.stat(current) if current == self.root else os.lstat(current)
                if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
                    if stat.S_IMODE(info.st_mode) != 0o700:
                        os.chmod(current, 0o700)  # ours: made private again
                    continue
                _check(info, current, stat.S_ISDIR)
            else:
                os.chmod(current, 0o700)  # mkdir's mode went through the umask

    # -- size --------------------------------------------------------------------------------
    def _account(self, size: int) -> None:
        if self._usage is None:
            self._usage = self._count()
        self._usage[0] += size
        self._usage[1] += 1
        if self._usage[0] > self.max_bytes or self._usage[1] > self.max_entries:
            self._evict()

    def _files(self) -> list[tuple[float, int, str]]:
        """(mtime, size, path) of every file under the root (links are not followed)."""
        found = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                found.append((info.st_mtime, info.st_size, path))
        return found

    def _count(self) -> list[int]:
        files = self._files()
        return [sum(size for _, size, _ in files), len(files)]

    def _evict(self) -> None:
        """The oldest files go until the cache is at 80 % of its limits."""
        files = sorted(self._files())
        total, count = sum(size for _, size, _ in files), len(files)
        for mtime, size, path in files:
            young_temp = os.path.basename(path).startswith(".tmp-") and mtime > time.time() - 60
            if total <= self.max_bytes * 0.8 and count <= self.max_entries * 0.8:
                break
            if young_temp:
                continue  # another process is writing it
            try:
                os.unlink(path)
            except OSError:
                continue
            total, count = total - size, count - 1
        self._usage = [total, count]


def _check(info: os.stat_result, path: Path, kind: Any) -> None:
    """Raises Untrusted unless `info` is of `kind`, ours, and not writable by others."""
    if not kind(info.st_mode):
        raise Untrusted(f"{path} is not a regular {'folder' if kind is stat.S_ISDIR else 'file'}")
    if info.st_uid != os.geteuid():
        raise Untrusted(f"{path} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o022:
        raise Untrusted(f"{path} is writable by group or others "
                        f"(mode {stat.S_IMODE(info.st_mode):o})")
