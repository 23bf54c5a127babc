"""Plate text normalization and format-based resolution of look-alike characters (pure).

OCR confuses glyphs that plate fonts draw almost alike: O/0, I/1, B/8, S/5, Z/2. A region's
plate formats often leave only one reading: on a Slovak plate (LL DDD LL) the third character is
a digit, so "RKO99AN" can only be "RK099AN". Formats are written as sequences of character
classes: L a letter, D a digit, X either. A region may also name the letters its plates use
(Bulgarian and Ukrainian plates use only the Cyrillic letters that look Latin).

Resolution changes a character only when every format of the region that the text could fit
(reading each ambiguous character either way) wants the same class at that position; when the
formats disagree, or none fits (foreign cars, show plates), the text stays as read. A group of
regions ("eu") changes a character only where every member country that fits agrees.
"""

import re
from dataclasses import dataclass

# Letter <-> digit look-alikes; each pair resolves both ways.
LOOKALIKES: dict[str, str] = {"O": "0", "I": "1", "B": "8", "S": "5", "Z": "2"}
_TWIN: dict[str, str] = {**LOOKALIKES, **{d: letter for letter, d in LOOKALIKES.items()}}
_NOT_PLATE = re.compile(r"[^A-Z0-9]")
_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def normalize(raw: str) -> str:
    """Upper case, separators (spaces, dashes, dots, the OCR's pad character) removed."""
    return _NOT_PLATE.sub("", raw.upper())


@dataclass(frozen=True)
class RegionFormat:
    patterns: tuple[str, ...]
    letters: str = _LATIN
    # Personalised plates the owner spells: they fit almost anything, so a text that fits only
    # these is left alone rather than resolved.
    chosen: tuple[str, ...] = ()


def _german() -> tuple[str, ...]:
    # District 1-3 letters, then 1-2 letters, then 1-4 digits; at most 8 characters, an
    # optional E (electric) or H (historic) after them. Without separators that is 2-5 letters
    # followed by 1-4 digits.
    base = [
        "L" * letters + "D" * digits
        for letters in range(2, 6)
        for digits in range(1, 5)
        if letters + digits <= 8
    ]
    return tuple(base + [p + "L" for p in base])


_POLISH = (
    # Two-letter district, then 5 characters; three-letter district, then 4 or 5.
    "LLDDDDD",
    "LLDDDDL",
    "LLDDDLL",
    "LLDLDDD",
    "LLDLLDD",
    "LLLLDDD",
    "LLLDDLL",
    "LLLDLDD",
    "LLLDDLD",
    "LLLDLLD",
    "LLLLLDD",
    "LLLDDDDD",
    "LLLDDDDL",
    "LLLDDDLL",
)

REGIONS: dict[str, RegionFormat] = {
    "bg": RegionFormat(("LDDDDLL", "LLDDDDLL"), letters="ABCEHKMOPTXY"),
    "cz": RegionFormat(("DLXDDDD", "LLLDDDD")),  # since 2001; pre-2001 ABC 12-34 still seen
    "de": RegionFormat(_german()),
    "es": RegionFormat(("DDDDLLL",)),
    "fr": RegionFormat(("LLDDDLL",)),
    # 2001-: LL DD LLL; prefix (1983-2001): A123 BCD; suffix (1963-1983): ABC 123D
    "gb": RegionFormat(("LLDDLLL", "LDDDLLL", "LDDLLL", "LDLLL", "LLLDDDL", "LLLDDL", "LLLDL")),
    "it": RegionFormat(("LLDDDLL",)),
    "no": RegionFormat(("LLDDDDD", "LLDDDD")),
    "pl": RegionFormat(_POLISH),
    "ro": RegionFormat(("LDDLLL", "LLDDLLL", "LDDDLLL")),
    "sk": RegionFormat(("LLDDDLL",), chosen=("LLXXXXX",)),
    "ua": RegionFormat(("LLDDDDLL",), letters="ABCEHIKMOPTX"),
}

# The "eu" resolver reads a plate of unknown country against the countries whose plates the
# labelled EU set (and the pilot cities' traffic) shows: Slovak and Czech plates mostly, then
# German, British, Norwegian and Polish cars.
GROUPS: dict[str, tuple[str, ...]] = {"eu": ("sk", "cz", "de", "gb", "no", "pl")}


def _fits(char: str, cls: str, letters: str) -> bool:
    if cls == "D":
        return char.isdigit()
    if cls == "L":
        return char in letters
    return char.isdigit() or char in letters


def _readings(char: str, cls: str, letters: str) -> list[str]:
    """The ways `char` (as read, or as its look-alike) fits class `cls`."""
    return [c for c in dict.fromkeys((char, _TWIN.get(char, char))) if _fits(c, cls, letters)]


def _country_reading(text: str, fmt: RegionFormat) -> list[str | None] | None:
    """Per position, the one character every fitting format of the country allows there
    (None where they allow both look-alikes); None when no format fits."""
    fitting = [
        p
        for p in fmt.patterns
        if len(p) == len(text)
        and all(_readings(c, k, fmt.letters) for c, k in zip(text, p, strict=True))
    ]
    if not fitting:
        as_read = any(
            len(p) == len(text)
            and all(_fits(c, k, fmt.letters) for c, k in zip(text, p, strict=True))
            for p in fmt.chosen
        )
        return [None] * len(text) if as_read else None
    out: list[str | None] = []
    for i, char in enumerate(text):
        options = {tuple(_readings(char, p[i], fmt.letters)) for p in fitting}
        only = next(iter(options)) if len(options) == 1 else ()
        out.append(only[0] if len(only) == 1 else None)
    return out


def resolve(text: str, region: str | None) -> str:
    """`text` (normalized) with look-alikes set by the region's formats; no or unknown region:
    unchanged. For a group ("eu"), every member country whose formats fit the text must want
    the same character at a position for it to change."""
    members = GROUPS.get(region or "") or ((region,) if region in REGIONS else ())
    votes = [r for code in members if (r := _country_reading(text, REGIONS[code])) is not None]
    chars = list(text)
    for i in range(len(text)):
        wanted = {v[i] for v in votes}
        if len(wanted) == 1 and (only := wanted.pop()) is not None:
            chars[i] = only
    return "".join(chars)


def fits_region(text: str, region: str) -> bool:
    """Whether `text` is, as it stands, a plate of one of the region's (or group's) formats."""
    members = GROUPS.get(region) or (region,)
    return any(
        len(p) == len(text)
        and all(_fits(c, k, REGIONS[code].letters) for c, k in zip(text, p, strict=True))
        for code in members
        for p in REGIONS[code].patterns
    )
