"""The state tables of everything that holds a place: state × action → new state and effect.

Bookings, waiting-list entries, course registrations, slots and course sessions change state
only through these tables (``careapp.services.transitions`` runs them as compare-and-set
updates). Each action names the states it may start from, the state it leads to, and what it
does to the places of the inventory behind it.
"""

from dataclasses import dataclass

from careapp.models.base import StrEnum


class Effect(StrEnum):
    """What a transition does to the places of its inventory."""

    #: Takes a place (or a seat per seat) that was free.
    TAKE = "take"
    #: The place stays taken: it moves between records or stays with this one.
    KEEP = "keep"
    #: The place is given back: held for the first in line, or free again.
    RELEASE = "release"
    #: No place was held, none is taken.
    NONE = "none"
    #: Every place of the inventory ends (a cancelled slot or session).
    CLOSE = "close"


@dataclass(frozen=True)
class Move:
    """One row of a state table."""

    sources: frozenset[str]
    target: str
    effect: Effect


class StateTable:
    """The moves of one kind of record, by action."""

    def __init__(self, name: str, moves: dict[str, Move]):
        self.name = name
        self.moves = moves

    def __getitem__(self, action: str) -> Move:
        return self.moves[action]


def move(sources: set[str], target: str, effect: Effect) -> Move:
    """A row of a state table (``set()`` for a record that does not exist yet)."""
    return Move(frozenset(sources), target, effect)
