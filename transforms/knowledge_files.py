"""The knowledge files (`transforms/data/*.yml`): one loader, which fails loudly.

`load(name)` reads a data file shipped in the package (through `importlib.resources`, so it
works from a wheel as from a checkout), once per process, and checks its top-level shape
against the file's JSON Schema (`transforms/data/schema/<name>.schema.json`): the top-level
type and required keys only, which is cheap; the tests validate every file against the whole
schema.  A missing file, a file that is not YAML, a file without a schema or of the wrong
shape raises `KnowledgeFileError` naming the file: a broken install must not silently become
"knows nothing".  The value returned is shared: callers must not change it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from typing import Any

from ruamel.yaml.error import MarkedYAMLError

from gha_fix.codemod.document import load_yaml

PACKAGE = "gha_fix.transforms"
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
def load(name: str) -> Any:
    """The data of `transforms/data/<name>`, checked against its schema's top level."""
    try:
        text = data_dir().joinpath(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeFileError(f"knowledge file {name} cannot be read ({exc}): "
                                 "the installation of gha-fix is broken") from None
    return parse(text, name)


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
