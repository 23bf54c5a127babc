"""How a read matches hotlist entries: pure, no I/O.

OCR mixes up a few letter and digit pairs. Mapping each pair to one character gives every
plate a "confusion key"; two plates that differ only by such mix-ups share a key. So a
confusable match is an equality on the key, which an index answers, and an exact match is an
equality on the plate (whose key is then equal too, so one index on the key serves both).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from schemas.hotlists import ListKind, Tolerance

CONFUSABLE = str.maketrans("OBISZ", "08152")
SEPARATORS = re.compile(r"[\s._-]+")
PLATE = re.compile(r"^[A-Z0-9]{1,16}$")
PATTERN = re.compile(r"^[A-Z0-9?*]{1,16}$")


def confusion_key(plate: str) -> str:
    """The plate with each confusable letter replaced by its digit (O→0, B→8, I→1, S→5, Z→2)."""
    return plate.translate(CONFUSABLE)


def clean_plate(text: str) -> str:
    """A plate as typed or listed ("12 ab-34") in normalized form ("12AB34"); ValueError if
    anything but letters and digits remains."""
    plate = SEPARATORS.sub("", text).upper()
    if not PLATE.match(plate):
        raise ValueError(f"plate {text!r} must be 1 to 16 letters A-Z and digits")
    return plate


class Entry(Protocol):
    """What matching needs of a hotlist entry."""

    @property
    def plate(self) -> str: ...
    @property
    def kind(self) -> ListKind: ...
    @property
    def tolerance(self) -> Tolerance: ...
    @property
    def valid_from(self) -> datetime: ...
    @property
    def valid_until(self) -> datetime | None: ...


def matches(entry: Entry, plate: str, at: datetime) -> bool:
    """Does a read of `plate` at `at` hit `entry`? An entry outside its window never matches."""
    if at < entry.valid_from or (entry.valid_until is not None and at >= entry.valid_until):
        return False
    if entry.tolerance is Tolerance.EXACT:
        return entry.plate == plate
    return confusion_key(entry.plate) == confusion_key(plate)


E = TypeVar("E", bound=Entry)


@dataclass(frozen=True)
class Decision(Generic[E]):
    """What a read's hits lead to: the black entries to alert on, and whether the read is
    exempt from enforcement (a white entry matched)."""

    alert_on: list[E]
    exempt: bool


def decide(hits: list[E]) -> Decision[E]:
    """White beats black: a plate on a white list (an ambulance, the city's own fleet) raises
    no alert even when a black entry matches it too, and is exempt from enforcement."""
    exempt = any(entry.kind is ListKind.WHITE for entry in hits)
    if exempt:
        return Decision([], True)
    return Decision([entry for entry in hits if entry.kind is ListKind.BLACK], False)


def like_pattern(pattern: str) -> str | None:
    """A partial plate as a witness gives it (`12?4AB`: `?` one unknown character, `*` any
    run of them) as a SQL LIKE pattern; None when it has no wildcard (an exact search)."""
    text = SEPARATORS.sub("", pattern).upper()
    if not PATTERN.match(text):
        raise ValueError(
            "plate takes 1 to 16 letters A-Z, digits, `?` for one unknown character "
            "and `*` for several"
        )
    if "?" not in text and "*" not in text:
        return None
    return text.replace("?", "_").replace("*", "%")
