"""The check every status machine makes before a move (innovations, commitments, scaling
proposals, competitions): an illegal move is a 409 `illegal_transition` naming the allowed ones."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import TypeVar

from app.core.errors import Conflict

T = TypeVar("T", bound=StrEnum)


def ensure_transition(
    transitions: Mapping[T, Collection[T]], current: T, to: T, subject: str, hint: str = ""
) -> None:
    """Refuse `current → to` unless `transitions` allows it; `subject` names the record in the
    message ("A commitment"), `hint` adds to it."""
    allowed = transitions[current]
    if to not in allowed:
        raise Conflict(
            f"{subject} cannot go from {current.value} to {to.value}{hint}.",
            code="illegal_transition",
            allowed=sorted(a.value for a in allowed),
        )
