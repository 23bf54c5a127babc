"""Plate text normalization and format-based resolution of look-alike characters."""

import pytest

from hub.plates.normalize import REGIONS, fits_region, normalize, resolve


def test_normalize_strips_separators_and_upper_cases() -> None:
    assert normalize("rk-099 an") == "RK099AN"
    assert normalize("B·123·ABC_") == "B123ABC"
    assert normalize(" m 5.xsx ") == "M5XSX"


@pytest.mark.parametrize(
    ("read", "region", "expected"),
    [
        ("RKO99AN", "sk", "RK099AN"),  # LL DDD LL: the third character is a digit
        ("RK30OAS", "sk", "RK300AS"),
        ("8A302OZ", "sk", "BA302OZ"),  # and the first a letter
        ("BA3020Z", "sk", "BA302OZ"),
        ("CA1234B0", "bg", "CA1234BO"),  # L(L) DDDD LL
        ("AA12S4BI", "ua", "AA1254BI"),  # LL DDDD LL, I is a Ukrainian plate letter
        ("0Y09FEU", "gb", "OY09FEU"),  # LL DD LLL
        ("1234BC5", "es", "1234BCS"),  # DDDD LLL
        ("IB42345", "cz", "1B42345"),  # D L X DDDD: the first character is a digit
    ],
)
def test_resolve_fixes_the_one_reading_the_format_allows(
    read: str, region: str, expected: str
) -> None:
    assert resolve(read, region) == expected


def test_resolve_leaves_characters_the_format_allows_both_ways() -> None:
    # Czech D L X DDDD: the third character may be a letter or a digit.
    assert resolve("4BO4979", "cz") == "4BO4979"
    assert resolve("4B04979", "cz") == "4B04979"


def test_resolve_leaves_text_that_fits_no_format() -> None:
    assert resolve("GWAGEN", "de") == "GWAGEN"
    assert resolve("RK099AN1", "sk") == "RK099AN1"


def test_resolve_without_a_known_region_changes_nothing() -> None:
    assert resolve("RKO99AN", None) == "RKO99AN"
    assert resolve("RKO99AN", "zz") == "RKO99AN"


def test_a_personalised_plate_is_left_alone() -> None:
    # Slovak chosen plates: district + five characters of the owner's choice.
    assert resolve("KMBORAK", "sk") == "KMBORAK"


def test_eu_resolves_only_where_every_fitting_country_agrees() -> None:
    # Only the British format fits a 7-character "LL DD LLL" with a zero in the letters.
    assert resolve("0Y09FEU", "eu") == "OY09FEU"
    # Slovak (LL DDD LL) wants a digit, British (LL DD LLL) a letter: left as read.
    assert resolve("RK30OAS", "eu") == "RK30OAS"
    # Czech D L X DDDD wants the leading 1; its pre-2001 ABC 12-34 an I: left as read.
    assert resolve("1B80338", "eu") == "1B80338"


def test_every_region_uses_only_letter_digit_either_classes() -> None:
    for fmt in REGIONS.values():
        for pattern in fmt.patterns + fmt.chosen:
            assert set(pattern) <= {"L", "D", "X"}, pattern


def test_fits_region() -> None:
    assert fits_region("RK099AN", "sk")
    assert not fits_region("RKO99AN", "sk")
    assert fits_region("RK099AN", "eu")
