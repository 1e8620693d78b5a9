"""`.github/gha-fix.yml`: read it and validate all of it before anything runs.

A typo must never weaken a fix silently: `commands: {make release: {content: write}}` once
made a job "need nothing" and get `permissions: {}`, and `unsafe-fixes: no` (a string) turned
unsafe fixes on. Every problem is reported, one line each (`path:line: key: reason`), and the
repository is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gha_fix.codemod.document import Document, DocumentError
from gha_fix.codemod.schema import Schema, problems

CONFIG_FILE = Path(".github/gha-fix.yml")


class ConfigError(Exception):
    """A bad `.github/gha-fix.yml`; the message is one `path:line: reason` line per problem."""


def config_schema(transform_schemas: Mapping[str, Schema]) -> Schema:
    """The whole file's schema: the engine's keys plus one section per transform id."""
    ids: Schema = {"type": "array", "items": {"enum": sorted(transform_schemas)}}
    return {
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            "select": {"anyOf": [ids, {"type": "string"}]},
            "ignore": {"anyOf": [ids, {"type": "string"}]},
            "unsafe-fixes": {"type": "boolean"},
            **transform_schemas,
        },
    }


def load_config(root: Path, transform_schemas: Mapping[str, Schema],
                override: Path | None = None) -> dict[str, Any]:
    """The repo's `.github/gha-fix.yml` (or `override`), validated; {} when there is none."""
    path = override if override is not None else root / CONFIG_FILE
    shown = str(path) if override is not None else CONFIG_FILE.as_posix()
    if not path.is_file():
        if override is not None:
            raise ConfigError(f"{shown}:0: config file not found")
        return {}
    try:
        doc = Document.from_file(path, shown)
    except DocumentError as exc:
        raise ConfigError(f"{shown}:{exc.line}: {exc.reason}") from None
    found = [
        f"{shown}:{doc.line_of(where) if where else 1}: "
        f"{'.'.join(str(p) for p in where) + ': ' if where else ''}{reason}"
        for where, reason in problems(doc.data, config_schema(transform_schemas))
    ]
    if found:
        raise ConfigError("\n".join(found))
    config = dict(doc.data or {})
    for key in ("select", "ignore"):
        if isinstance(config.get(key), str):
            config[key] = [v.strip() for v in config[key].split(",") if v.strip()]
    unknown = [i for key in ("select", "ignore") for i in config.get(key) or ()
               if i not in transform_schemas]
    if unknown:
        line = doc.line_of(("select",) if "select" in config else ("ignore",))
        raise ConfigError(f"{shown}:{line}: unknown transform id: {', '.join(unknown)} "
                          "(see `gha-fix transforms`)")
    return config
