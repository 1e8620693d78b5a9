"""The knowledge files (`transforms/data/*.yml`): one loader, which fails loudly.

`load(name)` reads a data file shipped in the package (through `importlib.resources`, so it
works from a wheel as from a checkout), once per process, and checks its top-level shape
against the file's JSON Schema (`transforms/data/schema/<name>.schema.json`): the top-level
type and required keys only, which is cheap; the tests validate every file against the whole
schema.  A missing file, a file that is not YAML, a file without a schema or of the wrong
shape raises `KnowledgeFileError` naming the file: a broken install must not silently become
"knows nothing".  The value returned is shared: callers must not change it.

Parsing YAML is the slow part of a short run (actions.yml: ~18 ms), so the checked data is
kept in the user's cache folder (`knowledge/`, as `marshal` data named after the Python
version, the file and a checksum of its text) and read from there while the text is unchanged,
like Python's own `.pyc` files: only a regular file owned by this user and writable by no one
else is read; anything unreadable is parsed again; failing to write the cache costs nothing.
"""

from __future__ import annotations

import json
import marshal
import os
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar, cast

from ruamel.yaml.error import MarkedYAMLError

from gha_fix.codemod.document import load_yaml
from gha_fix.codemod.paths import default_cache_dir

PACKAGE = "gha_fix.transforms"
T = TypeVar("T")
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict, "array": list, "string": str, "boolean": bool,
}


class KnowledgeFileError(Exception):
    """A knowledge file is missing, malformed or of the wrong shape; says which and why."""


def data_dir() -> Traversable:
    return resources.files(PACKAGE).joinpath("data")


def names() -> list[str]:
    """The knowledge files shipped (`actions.yml`, ...)."""
    return sorted(p.name for p in data_dir().iterdir() if p.name.endswith(".yml"))


@cache
def text_of(name: str) -> str:
    try:
        return data_dir().joinpath(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeFileError(f"knowledge file {name} cannot be read ({exc}): "
                                 "the installation of gha-fix is broken") from None


@cache
def load(name: str) -> Any:
    """The data of `transforms/data/<name>`, checked against its schema's top level."""
    text = text_of(name)
    cached = cache_file(name, text)
    data = read_cached(cached)
    if data is not None:
        try:
            check_shape(data, schema(name), name)
            return data
        except KnowledgeFileError:
            pass  # a cache file of another shape: parse the text again
    data = parse(text, name)
    write_cached(cached, data)
    return data


def derived(name: str, what: str, compute: Callable[[Any], T]) -> T:
    """`compute(load(name))`, kept in the cache beside the data while the file is unchanged:
    for facts that take long to work out (the fixed text every match of a rule's regex
    holds).  `what` names the fact; the value must be plain data (marshal)."""
    cached = cache_file(name, text_of(name), what)
    value = read_cached(cached)
    if value is None:
        value = compute(load(name))
        write_cached(cached, value)
    return cast(T, value)


def cache_file(name: str, text: str, what: str = "data") -> Path:
    """Where the parsed data of a knowledge file with this text (or a fact derived from
    it, `what`) is kept."""
    raw = text.encode("utf-8")
    checksum = f"{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}{len(raw):x}"
    tag = sys.implementation.cache_tag or "python"
    return default_cache_dir() / "knowledge" / f"{name}.{what}.{tag}.{checksum}.marshal"


def read_cached(path: Path) -> Any:
    """The data in a cache file, or None (no file, not ours, not private, unreadable)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o022 or (
                hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
            return None
        with os.fdopen(fd, "rb") as file:
            fd = -1
            return marshal.loads(file.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def write_cached(path: Path, data: Any) -> None:
    """Keep `data` for the next run; any failure (read-only home, no room) is ignored."""
    try:
        raw = marshal.dumps(data)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # 0600
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(raw)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        stem = path.name.rsplit(".", 2)[0]  # `actions.yml.data.cpython-311`: older texts' go
        for older in path.parent.glob(f"{stem}.*.marshal"):
            if older != path:
                older.unlink(missing_ok=True)
    except (OSError, ValueError):
        return


def parse(text: str, name: str) -> Any:
    """A knowledge file's text (shipped, or built by a bench script) as data, checked."""
    try:
        data = load_yaml(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        reason = (exc.problem or exc.context or "invalid YAML").strip()
        raise KnowledgeFileError(f"knowledge file {name}:{line}: {reason}") from None
    check_shape(data, schema(name), name)
    return data


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a knowledge file (`actions.yml` -> `schema/actions.schema.json`)."""
    stem = name.rsplit(".", 1)[0]
    try:
        text = data_dir().joinpath("schema", f"{stem}.schema.json").read_text(encoding="utf-8")
        return dict(json.loads(text))
    except (OSError, ValueError) as exc:
        raise KnowledgeFileError(f"knowledge file {name} has no usable schema ({exc})") from None


def check_shape(data: Any, spec: dict[str, Any], name: str) -> None:
    """The top level of `data` has the schema's type and required keys."""
    expected = spec.get("type")
    if isinstance(expected, str) and not isinstance(data, _JSON_TYPES.get(expected, object)):
        got = "nothing" if data is None else type(data).__name__
        raise KnowledgeFileError(f"knowledge file {name}: expected a top-level {expected}, "
                                 f"got {got}")
    missing = [k for k in spec.get("required", ()) if isinstance(data, dict) and k not in data]
    if missing:
        raise KnowledgeFileError(f"knowledge file {name}: missing top-level keys {missing}")


@cache
def options_schema(transform_id: str) -> dict[str, Any]:
    """The JSON Schema of a transform's section of `.github/gha-fix.yml`
    (`transforms/data/options/<id>.schema.json`)."""
    path = data_dir().joinpath("options", f"{transform_id}.schema.json")
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise KnowledgeFileError(f"the options schema of {transform_id} cannot be read ({exc}):"
                                 " the installation of gha-fix is broken") from None
