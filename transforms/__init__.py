"""The transforms, one module each; `REGISTRY` maps a transform id to its class, in run order."""

from __future__ import annotations

from gha_fix.codemod.transform import Transform

REGISTRY: dict[str, type[Transform]] = {}


def register(cls: type[Transform]) -> type[Transform]:
    REGISTRY[cls.id] = cls
    return cls


# Run order. `secrets` first: its messages name the line where a value was found, which must
# be the line in the file as committed (later transforms insert lines). `fork-guard` before
# `permissions`: it rarely edits, so both usually share one needs analysis of the same text.
from gha_fix.transforms import secrets  # noqa: E402, F401, I001  (each module registers itself)
from gha_fix.transforms import fork_guard  # noqa: E402, F401
from gha_fix.transforms import permissions  # noqa: E402, F401
from gha_fix.transforms import token_notes  # noqa: E402, F401  (notes only)
