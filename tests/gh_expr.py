"""A small GitHub Actions expression evaluator, for tests: what does an `if:` decide?

Independent of the transforms (its own tokenizer and recursive-descent parser) so that tests
can check the *meaning* of rewritten conditions, not their text.  It follows
docs.github.com "Evaluate expressions in workflows and actions":
- literals: true/false/null, numbers (JSON, hex), 'strings' with '' escapes;
- operators, loosest first: `||`, `&&`, `== !=`, `< <= > >=`, `!`, then `.x`, `[i]`, `.*`;
  `&&`/`||` return an operand (as in JavaScript), not a boolean;
- loose equality: different types are compared as numbers; strings ignore case;
- functions: contains, startsWith, endsWith, fromJSON, toJSON, format, join, and the status
  functions success(), failure(), cancelled(), always();
- an `if:` with no status function anywhere in it gets an implicit `success() && (...)`
  (the runner walks the whole expression tree for them: actions/runner,
  src/Sdk/WorkflowParser/Conversion/WorkflowTemplateConverter.cs, ConvertToIfCondition).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

STATUS = ("success", "failure", "cancelled", "always")


class ExpressionError(Exception):
    pass


# --- tokens -------------------------------------------------------------------------------------
@dataclass
class Token:
    kind: str  # "num", "str", "id", "op", "end"
    text: str
    value: Any = None


_OPS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ",", ".", "*")


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "'":
            j, chars = i + 1, []
            while True:
                if j >= len(text):
                    raise ExpressionError("unterminated string")
                if text[j] == "'":
                    if text[j + 1 : j + 2] == "'":
                        chars.append("'")
                        j += 2
                        continue
                    break
                chars.append(text[j])
                j += 1
            out.append(Token("str", text[i : j + 1], "".join(chars)))
            i = j + 1
        elif ch.isdigit() or (ch == "-" and text[i + 1 : i + 2].isdigit()):
            m = re.compile(r"-?(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][-+]?\d+)?)").match(text, i)
            assert m is not None
            raw = m.group(0)
            value = float(int(raw, 16)) if "0x" in raw else float(raw)
            out.append(Token("num", raw, value))
            i = m.end()
        elif ch.isalpha() or ch == "_":
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] in "_-"):
                j += 1
            out.append(Token("id", text[i:j]))
            i = j
        else:
            for op in _OPS:
                if text.startswith(op, i):
                    out.append(Token("op", op))
                    i += len(op)
                    break
            else:
                raise ExpressionError(f"unexpected character {ch!r} at {i}")
    out.append(Token("end", ""))
    return out


# --- syntax tree --------------------------------------------------------------------------------
@dataclass
class Node:
    kind: str  # "literal", "context", "not", "and", "or", "compare", "index", "call"
    value: Any = None
    children: list[Node] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = tokens(text)
        self.i = 0

    def peek(self) -> Token:
        return self.toks[self.i]

    def next(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.next()
        if tok.text != text:
            raise ExpressionError(f"expected {text!r}, got {tok.text!r}")

    def parse(self) -> Node:
        node = self.or_()
        if self.peek().kind != "end":
            raise ExpressionError(f"unexpected {self.peek().text!r}")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek().text == "||":
            self.next()
            node = Node("or", children=[node, self.and_()])
        return node

    def and_(self) -> Node:
        node = self.equality()
        while self.peek().text == "&&":
            self.next()
            node = Node("and", children=[node, self.equality()])
        return node

    def equality(self) -> Node:
        node = self.relation()
        while self.peek().text in ("==", "!="):
            op = self.next().text
            node = Node("compare", op, [node, self.relation()])
        return node

    def relation(self) -> Node:
        node = self.unary()
        while self.peek().text in ("<", "<=", ">", ">="):
            op = self.next().text
            node = Node("compare", op, [node, self.unary()])
        return node

    def unary(self) -> Node:
        if self.peek().text == "!":
            self.next()
            return Node("not", children=[self.unary()])
        return self.postfix(self.primary())

    def primary(self) -> Node:
        tok = self.next()
        if tok.text == "(":
            node = self.or_()
            self.expect(")")
            return node
        if tok.kind in ("num", "str"):
            return Node("literal", tok.value)
        if tok.kind == "id":
            word = tok.text.lower()
            if word in ("true", "false"):
                return Node("literal", word == "true")
            if word == "null":
                return Node("literal", None)
            if self.peek().text == "(":
                self.next()
                args: list[Node] = []
                if self.peek().text != ")":
                    args.append(self.or_())
                    while self.peek().text == ",":
                        self.next()
                        args.append(self.or_())
                self.expect(")")
                return Node("call", word, args)
            return Node("context", word)
        raise ExpressionError(f"unexpected {tok.text!r}")

    def postfix(self, node: Node) -> Node:
        while self.peek().text in (".", "["):
            if self.next().text == ".":
                tok = self.next()
                key = Node("literal", "*" if tok.text == "*" else tok.text)
                if tok.kind != "id" and tok.text != "*":
                    raise ExpressionError("expected a property name")
                node = Node("index", children=[node, key])
            else:
                if self.peek().text == "*":
                    self.next()
                    key = Node("literal", "*")
                else:
                    key = self.or_()
                self.expect("]")
                node = Node("index", children=[node, key])
        return node


def parse(text: str) -> Node:
    return _Parser(text).parse()


# --- values -------------------------------------------------------------------------------------
def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, float | int) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, str):
        return value
    raise ExpressionError("arrays and objects are not converted to strings")


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return a is b
    if isinstance(a, str) and isinstance(b, str):
        return a.upper() == b.upper()
    if type(a) is type(b) or (a is None and b is None):
        return a == b
    return number(a) == number(b)


def compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if isinstance(a, str) and isinstance(b, str):
        x, y = a.upper(), b.upper()
    else:
        x, y = number(a), number(b)
        if math.isnan(x) or math.isnan(y):
            return False
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def index(obj: Any, key: Any) -> Any:
    if key == "*":
        if isinstance(obj, list):
            return list(obj)
        if isinstance(obj, dict):
            return list(obj.values())
        return []
    if isinstance(obj, _Filtered):
        return _Filtered([v for v in (index(x, key) for x in obj) if v is not None])
    if isinstance(obj, dict):
        if not isinstance(key, str):
            return None
        for k, v in obj.items():
            if k.lower() == key.lower():
                return v
        return None
    if isinstance(obj, list) and isinstance(key, int | float) and not isinstance(key, bool):
        i = int(key)
        return obj[i] if 0 <= i < len(obj) else None
    return None


class _Filtered(list):
    """The result of `x.*`: later property accesses apply to each element."""


@dataclass
class Status:
    """The job's state when the `if:` is evaluated."""

    result: str = "success"  # "success" | "failure" | "cancelled"


def evaluate(node: Node, ctx: dict[str, Any], status: Status | None = None) -> Any:
    status = status or Status()
    kind = node.kind
    if kind == "literal":
        return node.value
    if kind == "context":
        return index(ctx, node.value)
    if kind == "not":
        return not truthy(evaluate(node.children[0], ctx, status))
    if kind == "and":
        left = evaluate(node.children[0], ctx, status)
        return evaluate(node.children[1], ctx, status) if truthy(left) else left
    if kind == "or":
        left = evaluate(node.children[0], ctx, status)
        return left if truthy(left) else evaluate(node.children[1], ctx, status)
    if kind == "compare":
        a = evaluate(node.children[0], ctx, status)
        b = evaluate(node.children[1], ctx, status)
        return compare(node.value, a, b)
    if kind == "index":
        obj = evaluate(node.children[0], ctx, status)
        key = node.children[1].value if node.children[1].kind == "literal" else evaluate(
            node.children[1], ctx, status)
        result = index(obj, key)
        return _Filtered(result) if key == "*" else result
    return call(node.value, [evaluate(a, ctx, status) for a in node.children], status)


def call(name: str, args: list[Any], status: Status) -> Any:
    if name == "success":
        return status.result == "success"
    if name == "failure":
        return status.result == "failure"
    if name == "cancelled":
        return status.result == "cancelled"
    if name == "always":
        return True
    if name == "contains":
        search, item = args
        if isinstance(search, list):
            return any(equal(x, item) for x in search)
        return string(item).upper() in string(search).upper()
    if name == "startswith":
        return string(args[0]).upper().startswith(string(args[1]).upper())
    if name == "endswith":
        return string(args[0]).upper().endswith(string(args[1]).upper())
    if name == "fromjson":
        return _from_json(json.loads(string(args[0])))
    if name == "tojson":
        return json.dumps(args[0], indent=2)
    if name == "format":
        out = string(args[0])
        for i, value in enumerate(args[1:]):
            out = out.replace("{" + str(i) + "}", string(value))
        return out.replace("{{", "{").replace("}}", "}")
    if name == "join":
        sep = string(args[1]) if len(args) > 1 else ","
        return sep.join(string(v) for v in args[0]) if isinstance(args[0], list) else string(
            args[0])
    raise ExpressionError(f"unknown function {name}()")


def _from_json(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    return value


def has_status_function(node: Node) -> bool:
    if node.kind == "call" and node.value in STATUS:
        return True
    return any(has_status_function(c) for c in node.children)


def condition(value: Any) -> Node:
    """The tree of an `if:` value as GitHub reads it: `${{ x }}` or bare `x`, implicit
    `success() && (x)` when no status function appears anywhere in it."""
    if value is None or value is True:
        text = "success()"
    elif value is False:
        text = "false"
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("${{") and text.endswith("}}") and text.count("${{") == 1:
            text = text[3:-2]
        elif "${{" in text:
            raise ExpressionError("an `if:` that mixes ${{ }} and text is a string, not a test")
        text = text.strip() or "success()"
    else:
        text = json.dumps(value)
    node = parse(text)
    if not has_status_function(node):
        node = Node("and", children=[Node("call", "success"), node])
    return node


def runs(value: Any, ctx: dict[str, Any], status: Status | None = None) -> bool:
    """Whether a job or step with `if: value` runs."""
    return truthy(evaluate(condition(value), ctx, status))
