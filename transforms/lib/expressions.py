"""GitHub Actions expressions: lexer, parser and evaluator, concrete or three-valued.

Source: docs.github.com, "Evaluate expressions in workflows and actions":
- literals: `true`/`false`/`null`, numbers in any JSON format (`-9.2`, `0xff`, `2e3`),
  `'strings'` with `''` for a quote;
- operators, loosest first: `||`, `&&`, `== !=`, `< <= > >=`, `!`, then `.x`, `[i]`, `.*`;
  `&&`/`||` return one of their operands (as in JavaScript), not a boolean;
- loose equality: values of different types are compared as numbers (a string is parsed as a
  JSON number, `''` is 0, anything else is NaN; null is 0, true 1), strings ignore case,
  arrays and objects are equal only to themselves, NaN to nothing;
- property names ignore case; a missing property is null; `x.*` filters an array or object,
  and a property of a filtered array is taken from each element that has it;
- functions: contains, startsWith, endsWith, format, join, toJSON, fromJSON, hashFiles, and the
  status check functions success(), always(), cancelled(), failure();
- "A default status check of success() is applied unless you include one of these functions"
  in an `if:`; the runner looks for them anywhere in the tree (actions/runner,
  src/Sdk/WorkflowParser/Conversion/WorkflowTemplateConverter.cs, ConvertToIfCondition,
  `node.Traverse().Any(...)`), so `(always()) && (x)` still runs after a failure.

Concrete evaluation: a context of plain dicts and lists, and a status ("success", "failure",
"cancelled").  Three-valued evaluation, for what a transform cannot know: any value may be
UNKNOWN, a `Sym` (a string of which only some facts are known) or a `PartialObject` (an object
of which only some properties are known); the status may be None (not known).  A result is then
True/False only when it holds for every value the unknowns could take, else UNKNOWN.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

STATUS_FUNCTIONS = ("success", "always", "cancelled", "failure")
STATUSES = ("success", "failure", "cancelled")  # the job's state when an `if:` is evaluated
# name -> (fewest, most) arguments
FUNCTIONS = {"contains": (2, 2), "startswith": (2, 2), "endswith": (2, 2), "format": (1, 99),
             "join": (1, 2), "tojson": (1, 1), "fromjson": (1, 1), "hashfiles": (1, 99),
             **{name: (0, 0) for name in STATUS_FUNCTIONS}}


class ExpressionError(Exception):
    pass


# --- values a transform does not know -------------------------------------------------------
class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Sym:
    """A string whose value is not known, with what is known about it."""

    name: str
    prefix: str = ""  # it starts with this
    choices: frozenset[str] = frozenset()  # it is one of these (upper case), when not empty
    distinct: frozenset[str] = frozenset()  # names of Syms it is known to differ from
    foreign: bool = False  # an outsider's name: no workflow spells it out as a literal


class PartialObject(dict):
    """An object of which only the listed properties are known; any other is `others`."""

    def __init__(self, known: dict[str, Any] | None = None, others: Any = UNKNOWN) -> None:
        super().__init__(known or {})
        self.others = others


def _complete(value: Any) -> bool:
    """Whether nothing in `value` is unknown."""
    if value is UNKNOWN or isinstance(value, Sym | PartialObject):
        return False
    if isinstance(value, dict):
        return all(_complete(v) for v in value.values())
    return all(_complete(v) for v in value) if isinstance(value, list) else True


# --- tokens -----------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?(?:0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?))"
    r"|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.*])"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_-]*))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs: kind is "num", "str", "op" or "id"."""
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:]!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


# --- syntax tree ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """kind: "literal", "context" (value: its name), "not", "and", "or", "compare" (value: the
    operator), "index" (children: object, key), "filter" (`x.*`), "call" (value: the name)."""

    kind: str
    value: Any = None
    children: tuple[Node, ...] = ()


class _Parser:
    LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    def parse(self) -> Node:
        node = self.binary(0)
        if self.pos != len(self.tokens):
            raise ExpressionError(f"unexpected {self.peek()!r}")
        return node

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ExpressionError("unexpected end")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, got {token[1]!r}")
        self.pos += 1
        return token

    def binary(self, level: int) -> Node:
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek() in self.LEVELS[level]:
            op = self.take()[1]
            right = self.binary(level + 1)
            kind = {"||": "or", "&&": "and"}.get(op, "compare")
            node = Node(kind, op if kind == "compare" else None, (node, right))
        return node

    def unary(self) -> Node:
        if self.peek() == "!":
            self.take()
            return Node("not", children=(self.unary(),))
        return self.postfix(self.primary())

    def primary(self) -> Node:
        kind, text = self.take()
        if text == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if kind == "num":
            sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text)
            value = float(int(digits, 16)) if digits.startswith("0x") else float(digits)
            return Node("literal", sign * value)
        if kind == "str":
            return Node("literal", text[1:-1].replace("''", "'"))
        if kind != "id":
            raise ExpressionError(f"unexpected {text!r}")
        word = text.lower()
        if word in ("true", "false", "null"):
            return Node("literal", None if word == "null" else word == "true")
        if self.peek() != "(":
            return Node("context", word)
        self.take()
        args: list[Node] = []
        while self.peek() != ")":
            if args:
                self.take(",")
            args.append(self.binary(0))
        self.take(")")
        fewest, most = FUNCTIONS.get(word, (-1, -1))
        if not fewest <= len(args) <= most:
            raise ExpressionError(f"unknown function {text}() or wrong number of arguments")
        return Node("call", word, tuple(args))

    def postfix(self, node: Node) -> Node:
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                kind, text = self.take()
                if text == "*":
                    node = Node("filter", children=(node,))
                elif kind == "id":
                    node = Node("index", children=(node, Node("literal", text)))
                else:
                    raise ExpressionError(f"expected a property name, got {text!r}")
            elif self.peek() == "*":
                self.take()
                self.take("]")
                node = Node("filter", children=(node,))
            else:
                key = self.binary(0)
                self.take("]")
                node = Node("index", children=(node, key))
        return node


@lru_cache(maxsize=4096)  # the same conditions come back in every job and file
def parse(text: str) -> Node:
    return _Parser(text).parse()


def has_status_function(node: Node) -> bool:
    if node.kind == "call" and node.value in STATUS_FUNCTIONS:
        return True
    return any(has_status_function(child) for child in node.children)


def expression_text(value: Any) -> str:
    """The expression of an `if:` value, written `${{ x }}` or bare `x` ("" when there is
    none); an `if:` that mixes `${{ }}` and text is a string, not a test: an error."""
    if value is None or value is True:
        return ""
    if value is False:
        return "false"
    if not isinstance(value, str):
        return json.dumps(value)
    text = value.strip()
    if text.startswith("${{") and text.endswith("}}") and text.count("${{") == 1:
        return text[3:-2].strip()
    if "${{" in text:
        raise ExpressionError("an `if:` that mixes ${{ }} and text is a string, not a test")
    return text


SUCCESS = Node("call", "success")


def condition(value: Any) -> Node:
    """The tree of an `if:` as GitHub evaluates it: with the implicit `success() && (...)`."""
    text = expression_text(value)
    node = parse(text) if text else SUCCESS
    return node if has_status_function(node) else Node("and", children=(SUCCESS, node))


# --- conversions --------------------------------------------------------------------------------
def truth(value: Any) -> Any:
    """True, False or UNKNOWN."""
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, Sym):
        return True if value.prefix or (value.choices and "" not in value.choices) else UNKNOWN
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return not (value == 0 or math.isnan(value))
    return value != "" if isinstance(value, str) else True


_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if not isinstance(value, str):
        return math.nan
    text = value.strip()
    if not text:
        return 0.0
    if re.fullmatch(r"0x[0-9a-fA-F]+", text):
        return float(int(text, 16))
    return float(text) if _NUMBER.fullmatch(text) else math.nan


def string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, str):
        return value
    raise ExpressionError("arrays and objects are not converted to strings")


# --- operators ----------------------------------------------------------------------------------
def equal(a: Any, b: Any) -> Any:
    """Loose equality: True, False or UNKNOWN."""
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, Sym) or isinstance(b, Sym):
        return _sym_equal(a, b) if isinstance(a, Sym) else _sym_equal(b, a)
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return a is b
    if isinstance(a, str) and isinstance(b, str):
        return a.upper() == b.upper()
    if type(a) is type(b):
        return a == b
    return number(a) == number(b)


def _sym_equal(sym: Sym, other: Any) -> Any:
    if isinstance(other, Sym):
        if other.name == sym.name:
            return True
        return False if other.name in sym.distinct or sym.name in other.distinct else UNKNOWN
    if not isinstance(other, str):
        return UNKNOWN
    text = other.upper()
    if sym.foreign:
        return False
    if sym.choices:
        return UNKNOWN if text in sym.choices else False
    if sym.prefix and not text.startswith(sym.prefix.upper()):
        return False
    return UNKNOWN


def compare(op: str, a: Any, b: Any) -> Any:
    if op in ("==", "!="):
        same = equal(a, b)
        return same if same is UNKNOWN or op == "==" else not same
    if not (_complete(a) and _complete(b)):
        return UNKNOWN
    if isinstance(a, str) and isinstance(b, str):
        x, y = a.upper(), b.upper()
    else:
        x, y = number(a), number(b)  # NaN: every comparison is false
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


class Filtered(list):
    """The result of `x.*`: a property of it is taken from each element."""


def index(obj: Any, key: Any) -> Any:
    if obj is UNKNOWN or key is UNKNOWN or isinstance(obj, Sym):
        return UNKNOWN
    if isinstance(obj, Filtered):
        return Filtered(v for v in (index(x, key) for x in obj) if v is not None)
    if isinstance(obj, dict):
        if isinstance(key, str):
            for name, value in obj.items():
                if name.lower() == key.lower():
                    return value
        return obj.others if isinstance(obj, PartialObject) else None
    if isinstance(obj, list) and isinstance(key, int | float) and not isinstance(key, bool):
        return obj[int(key)] if 0 <= key < len(obj) else None
    return None


def filtered(obj: Any) -> Any:
    if obj is UNKNOWN or isinstance(obj, Sym | PartialObject):
        return UNKNOWN
    if isinstance(obj, list):
        return Filtered(obj)
    return Filtered(obj.values()) if isinstance(obj, dict) else Filtered()


def call(name: str, args: list[Any], status: str | None) -> Any:
    """A function's value; `status`: the job's state, None when it is not known."""
    if name == "always":
        return True
    if name in STATUS_FUNCTIONS:
        return UNKNOWN if status is None else status == name
    if name == "contains" and isinstance(args[0], list):
        results = {equal(x, args[1]) for x in args[0]}
        return True if True in results else UNKNOWN if UNKNOWN in results else False
    if name == "startswith" and isinstance(args[0], Sym) and isinstance(args[1], str):
        prefix, part = args[0].prefix.upper(), args[1].upper()
        if prefix and prefix.startswith(part):
            return True
        if prefix and not part.startswith(prefix):
            return False
    if name == "hashfiles" or not all(_complete(a) for a in args):
        return UNKNOWN
    try:
        return _FUNCTIONS[name](*args)
    except (ExpressionError, ValueError):
        return UNKNOWN  # GitHub fails the step: no answer


def _format(text: Any, *values: Any) -> str:
    out = string(text)
    for i, value in enumerate(values):
        out = out.replace("{" + str(i) + "}", string(value))
    return out.replace("{{", "{").replace("}}", "}")


def _join(values: Any, separator: Any = ",") -> str:
    if not isinstance(values, list):
        return string(values)
    return string(separator).join(string(v) for v in values)


def _from_json(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    return value


_FUNCTIONS = {
    "contains": lambda search, item: string(item).upper() in string(search).upper(),
    "startswith": lambda text, part: string(text).upper().startswith(string(part).upper()),
    "endswith": lambda text, part: string(text).upper().endswith(string(part).upper()),
    "format": _format,
    "join": _join,
    "tojson": lambda value: json.dumps(value, indent=2),
    "fromjson": lambda text: _from_json(json.loads(string(text))),
}


# --- evaluation ---------------------------------------------------------------------------------
def evaluate(node: Node, ctx: dict[str, Any], status: str | None = None) -> Any:
    """The value of `node` in `ctx` (a dict, or a PartialObject); `status`: the job's state
    ("success", "failure", "cancelled"), None when it is not known."""
    kind, parts = node.kind, node.children
    if kind == "literal":
        return node.value
    if kind == "context":
        return index(ctx, node.value)
    if kind == "not":
        value = truth(evaluate(parts[0], ctx, status))
        return UNKNOWN if value is UNKNOWN else not value
    if kind in ("and", "or"):
        left = evaluate(parts[0], ctx, status)
        first = truth(left)
        if first is (kind == "or"):
            return left  # `a || b` with a truthy, `a && b` with a falsy: a
        right = evaluate(parts[1], ctx, status)
        if first is not UNKNOWN:
            return right
        second = truth(right)
        if kind == "and":
            return False if second is False else UNKNOWN
        return True if second is True else UNKNOWN
    if kind == "compare":
        return compare(node.value, evaluate(parts[0], ctx, status),
                       evaluate(parts[1], ctx, status))
    if kind == "index":
        return index(evaluate(parts[0], ctx, status), evaluate(parts[1], ctx, status))
    if kind == "filter":
        return filtered(evaluate(parts[0], ctx, status))
    return call(node.value, [evaluate(a, ctx, status) for a in parts], status)


def runs(value: Any, ctx: dict[str, Any], status: str | None = None) -> Any:
    """Whether a job or step with `if: value` runs: True, False or UNKNOWN."""
    return truth(evaluate(condition(value), ctx, status))
