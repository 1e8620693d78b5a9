"""A small JSON Schema validator for configuration: every problem, each at its YAML line.

Supports the subset the config schemas use (draft 2020-12 semantics): `type` (object, array,
string, boolean, integer, null, or a list of them), `enum`, `pattern`, `properties`,
`additionalProperties` (false or a schema), `propertyNames`, `required`, `items`, `minItems`,
`anyOf`, `$ref` to `#/$defs/NAME`; `description` and `$comment` are ignored.
`tests/test_config.py` checks that it agrees with the `jsonschema` package on the same schemas.
A full validator would cost start-up time for every repository with a config; this one is a
few dozen lines and names the line of each problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from gha_fix.codemod.document import YamlPath

Schema = Mapping[str, Any]
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
    "integer": (int,), "null": (type(None),),
}


def _is(value: Any, name: str) -> bool:
    if name == "integer" and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def _describe(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def problems(value: Any, schema: Schema, path: YamlPath = (), root: Schema | None = None
             ) -> Iterator[tuple[YamlPath, str]]:
    """Every way `value` breaks `schema`, as (path to the offending value, reason); `root`
    is the schema whose `$defs` a `$ref` names (default: `schema`)."""
    if root is None or "$defs" in schema:  # an embedded schema's `#` is itself
        root = schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        yield from problems(value, root["$defs"][name], path, root)
        return
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_is(value, n) for n in names):
            yield path, f"expected {' or '.join(names)}, got {_describe(value)}"
            return
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(c) for c in schema["enum"])
        yield path, f"expected one of {choices}, got {_describe(value)}"
        return
    if "anyOf" in schema:
        found = [list(problems(value, s, path, root)) for s in schema["anyOf"]]
        if all(found):  # report the alternative that got furthest: the one meant
            yield from max(found, key=lambda branch: max(len(where) for where, _ in branch))
        return
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        yield path, f"{value!r} does not match {schema['pattern']}"
    if isinstance(value, dict):
        yield from _object(value, schema, path, root)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            yield path, f"expected at least {schema['minItems']} item(s)"
        if "items" in schema:
            for index, item in enumerate(value):
                yield from problems(item, schema["items"], (*path, index), root)


def _object(value: dict, schema: Schema, path: YamlPath, root: Schema
            ) -> Iterator[tuple[YamlPath, str]]:
    properties = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            yield path, f"missing key {name}"
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if "propertyNames" in schema:
            for _, reason in problems(key, schema["propertyNames"], (), root):
                yield (*path, key), f"key {reason}"
        if key in properties:
            yield from problems(item, properties[key], (*path, key), root)
        elif extra is False:
            known = ", ".join(properties) or "none"
            yield (*path, key), f"unknown key {key!r} (known: {known})"
        elif isinstance(extra, Mapping):
            yield from problems(item, extra, (*path, key), root)
