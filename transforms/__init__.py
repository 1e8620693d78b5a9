"""The transforms, one module each; `REGISTRY` maps a transform id to its class, in run order."""

from __future__ import annotations

from codemod.transform import Transform

REGISTRY: dict[str, type[Transform]] = {}


def register(cls: type[Transform]) -> type[Transform]:
    REGISTRY[cls.id] = cls
    return cls


from transforms import permissions  # noqa: E402, F401  (registers itself)

# isort: split
from transforms import fork_guard  # noqa: E402, F401  (registers itself)

# isort: split
from transforms import secrets  # noqa: E402, F401  (registers itself)
