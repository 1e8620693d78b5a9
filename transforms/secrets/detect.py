"""What counts as a credential: the rule table (known token formats, `data/secret_rules.yml`),
name-based detection (a secret-sounding key holding a literal, high-entropy value) and the
checks on a secret's NAME.  Pure functions of strings: no workflow, no file."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from gha_fix.transforms.knowledge_files import derived, load
from gha_fix.transforms.patterns import min_width, required_literal

EXPR = "${{"  # starts a GitHub expression: never a literal credential
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# --- the rule table ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """A known token format. Its regexes are compiled on first use: most runs meet few formats
    (compiling all of them was a third of a small repository's run)."""

    id: str
    name: str
    pattern: str  # the regex, as written in secret_rules.yml
    secret: str
    keys_pattern: str = ""  # a key-bound rule: the keys (env, inputs) it applies to
    literal: str = ""  # text every match starts with ("ghp_"): a cheap test before the regex
    required: str = ""  # the longest text every match contains ("Q~", ".atlasv1.")

    @cached_property
    def keys(self) -> re.Pattern[str] | None:
        return re.compile(self.keys_pattern) if self.keys_pattern else None

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """The whole match: a key-bound rule (no distinctive prefix) matches the whole value;
        any other must not start or end inside a word."""
        if self.keys_pattern:
            return re.compile(self.pattern)
        return re.compile(rf"(?<![A-Za-z0-9_])(?:{self.pattern})(?![A-Za-z0-9_])")

    @cached_property
    def core(self) -> re.Pattern[str]:
        """The regex without its edges: faster over a whole file."""
        return re.compile(self.pattern)


def literal_prefix(regex: str) -> str:
    """The plain characters a regex starts with (`ghp_[A-Z]...` → `ghp_`), or ''."""
    match = re.match(r"[A-Za-z0-9_~:/-]+", regex)
    literal = match.group() if match else ""
    # a quantifier applies to the last character: it is not certain to be there
    return literal[:-1] if literal and regex[len(literal):][:1] in ("?", "*", "{") else literal


@dataclass(frozen=True)
class Table:
    rules: tuple[Rule, ...]
    keys: re.Pattern[str]
    not_keys: re.Pattern[str]
    placeholders: frozenset[str]
    placeholder_regex: re.Pattern[str]
    not_values: re.Pattern[str]
    min_length: int
    min_entropy: float
    min_classes: int
    action_inputs: dict[str, dict[str, str]]
    any_keys: re.Pattern[str] | None = None  # the keys of every key-bound rule, in one regex
    any_literal: re.Pattern[str] | None = None  # every rule's literal prefix, in one regex
    shortest: int = 0  # no rule matches fewer characters: shorter strings are skipped

    @cached_property
    def keyed(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.keys_pattern)

    @cached_property
    def prefixed(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not r.keys_pattern and r.literal)

    @cached_property
    def bare(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if not r.keys_pattern and not r.literal)


@lru_cache(maxsize=1)
def table() -> Table:
    data = load("secret_rules.yml")
    facts = derived("secret_rules.yml", "literals", regex_facts)
    rules = []
    for raw, required in zip(data["rules"], facts["required"], strict=True):
        keys = raw.get("keys") or ""
        rules.append(Rule(raw["id"], raw["name"], raw["regex"], raw["secret"], keys,
                          "" if keys else literal_prefix(raw["regex"]), required))
    nb = data["name_based"]
    return Table(
        tuple(rules), re.compile(nb["keys"]), re.compile(nb["not_keys"]),
        frozenset(p.lower() for p in nb["placeholders"]), re.compile(nb["placeholder_regex"]),
        re.compile(nb["not_values"]),
        int(nb["min_length"]), float(nb["min_entropy"]), int(nb["min_classes"]),
        {k.lower(): dict(v or {}) for k, v in data["action_inputs"].items()},
        re.compile("|".join(f"(?:{r.keys_pattern.removeprefix('(?i)')})"
                            for r in rules if r.keys_pattern), re.IGNORECASE),
        re.compile("|".join(re.escape(r.literal) for r in rules if r.literal) or r"(?!)"),
        facts["shortest"],
    )


def regex_facts(data: dict[str, Any]) -> dict[str, Any]:
    """What the rules' regexes imply, worked out once per version of the file (parsing the
    regexes is slow): the text each rule's every match holds, the fewest characters any
    rule matches."""
    rules = data["rules"]
    return {"required": [required_literal(raw["regex"]) for raw in rules],
            "shortest": min(min_width(raw["regex"]) for raw in rules)}


@lru_cache(maxsize=4096)  # the same few hundred keys, over and over
def normalize_key(key: str) -> str:
    """`apiToken`, `api-token`, `api.token` → `API_TOKEN`."""
    key = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").upper()


@dataclass(frozen=True)
class Hit:
    """A secret inside a string: its span, the value and why it is one."""

    start: int
    end: int
    value: str
    label: str  # the token type, or the name-based reason
    type_name: str  # the secret name the token type suggests
    safe: bool  # known format (safe fix) or name-based (unsafe)
    prefix: str = ""  # what a mask may show: the known format's prefix (`ghp_`), else ''


def shown_prefix(rule: Rule) -> str:
    """The prefix a mask of the rule's tokens may show: its literal prefix if shorter than
    8 characters (a mask never shows 8 characters of a value), else ''."""
    return rule.literal if len(rule.literal) < 8 else ""


# `scheme://user:password@host`: user info that is neither a reference nor a placeholder, at a
# host that is not this machine (a service container's throwaway login)
_URL_CREDENTIALS = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://([^/\s:@'\"<>]+):([^/\s@'\"<>]+)@"
                              r"([^/\s:@'\"<>]*)")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "[::1]", "sha256"}


def url_credentials(text: str) -> list[Hit]:
    """`user:password` in the URLs of `text` (the user is often a token too): pattern-less
    credentials, so unsafe fixes, with no prefix shown."""
    if "://" not in text or "@" not in text:
        return []
    t = table()
    found = []
    for m in _URL_CREDENTIALS.finditer(text):
        user, password, host = m.group(1), m.group(2), m.group(3).lower()
        if (any(c in user + password for c in "$%`{}") or host in _LOCAL_HOSTS
                or password.lower() in t.placeholders or t.placeholder_regex.match(password)
                or _NUMBER.match(password)):
            continue
        found.append(Hit(m.start(1), m.end(2), f"{user}:{password}", "credentials in a URL",
                         "URL_CREDENTIALS", False))
    return found


def known_tokens(text: str, key: str | None = None,
                 unkeyed: Sequence[Rule] | None = None) -> list[Hit]:
    """Known-format credentials in `text`, left to right, without overlaps.

    `unkeyed`: the rules without a key worth trying, when the caller knows (see `rules_in`)."""
    urls = url_credentials(text)
    found = _known_tokens(text, key, unkeyed)
    # a known token written in a URL is that token (a safe fix), not the URL's user info
    found += [u for u in urls if not any(h.start < u.end and u.start < h.end for h in found)]
    return sorted(found, key=lambda h: h.start) if urls else found


def _known_tokens(text: str, key: str | None, unkeyed: Sequence[Rule] | None) -> list[Hit]:
    found: list[Hit] = []
    rules = table()
    if len(text) < rules.shortest:
        return found
    norm = normalize_key(key) if key else ""
    if unkeyed is not None:
        if not unkeyed and not norm:
            return found
        candidates = [r for r in unkeyed if not r.literal or r.literal in text]
    else:
        candidates = list(rules.bare)  # rules with neither a literal prefix nor a key
        if rules.any_literal is None or rules.any_literal.search(text) is not None:
            candidates += [r for r in rules.prefixed if r.literal in text]
    if norm and (rules.any_keys is None or rules.any_keys.search(norm) is not None):
        stripped = text.strip()
        for rule in rules.keyed:
            if rule.keys is not None and rule.keys.search(norm) and rule.regex.fullmatch(stripped):
                start = text.index(stripped)
                found.append(Hit(start, start + len(stripped), stripped, rule.name,
                                 rule.secret, True, shown_prefix(rule)))
    for rule in candidates:
        for m in rule.regex.finditer(text):
            found.append(Hit(m.start(), m.end(), m.group(), rule.name, rule.secret, True,
                             shown_prefix(rule)))
    if not found:
        return found
    found.sort(key=lambda h: (h.start, -(h.end - h.start)))
    out: list[Hit] = []
    for hit in found:
        if not out or hit.start >= out[-1].end:
            out.append(hit)
    return out


def rules_in(text: str) -> list[Rule]:
    """The rules without a key that match somewhere in `text`: given the strings of a file
    joined, the only ones worth trying on each string (a match in a string is one in the
    whole, since the rules' edges are lookarounds that a line break satisfies)."""
    rules = table()
    return [r for r in (*rules.prefixed, *rules.bare)
            if r.required in text and r.core.search(text)]


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def _classes(text: str) -> int:
    return sum(any(f(c) for c in text) for f in (
        str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum()))


_NUMBER = re.compile(r"[-+]?[0-9][0-9_.,]*\Z")
_REFERENCE = re.compile(r"\$\{?[A-Za-z_]|\$\(|%[A-Za-z_]\w*%|\benv\.|\bsecrets\.|\bvars\.")
_PATHLIKE = re.compile(r"(\.{0,2}/|~/|[A-Za-z]:\\)")


def name_based(key: str, value: str, test_values: Iterable[str] = ()) -> str | None:
    """The reason a literal under a secret-sounding key looks like a credential, or None."""
    t = table()
    norm = normalize_key(key)
    if not norm or not t.keys.search(norm) or t.not_keys.search(norm):
        return None
    if not value or value != value.strip() or any(ch.isspace() for ch in value):
        return None
    bare = value.strip("<>[]{}*\"'")
    if (EXPR in value or _REFERENCE.search(value) or "://" in value or _NUMBER.match(value)
            or _PATHLIKE.match(value) or bare.lower() in t.placeholders
            or t.placeholder_regex.match(value) or t.not_values.match(value)
            or value in test_values):
        return None
    if len(value) < t.min_length or _classes(value) < t.min_classes:
        return None
    bits = entropy(value)
    if bits < t.min_entropy:
        return None
    return f"{key} holds a literal of {len(value)} chars, entropy {bits:.1f} bits/char"


def name_hit(key: str, value: str, start: int = 0, tests: Iterable[str] = ()) -> Hit | None:
    reason = name_based(key, value, tests)
    if reason is None:
        return None
    return Hit(start, start + len(value), value, f"possible credential ({reason})",
               normalize_key(key), False)


def valid_name(name: str) -> bool:
    return bool(_VALID_NAME.match(name)) and not name.upper().startswith("GITHUB_")

