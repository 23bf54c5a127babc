"""Hotlist matching rules: confusion keys, windows, exact vs confusable, white beats black, and
partial plate patterns."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from hub.hotlists.matching import clean_plate, confusion_key, decide, like_pattern, matches
from schemas.hotlists import ListKind, Tolerance

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class E:
    plate: str
    kind: ListKind = ListKind.BLACK
    tolerance: Tolerance = Tolerance.EXACT
    valid_from: datetime = NOW - timedelta(days=1)
    valid_until: datetime | None = None


def test_confusion_key_maps_each_confusable_letter_to_its_digit() -> None:
    assert confusion_key("OBISZ") == "08152"
    assert confusion_key("12AB34") == "12A834"
    assert confusion_key("0815Z") == confusion_key("O8I52")


def test_exact_entry_matches_only_the_same_plate() -> None:
    entry = E("12AB34")
    assert matches(entry, "12AB34", NOW)
    assert not matches(entry, "12A834", NOW)


def test_confusable_entry_matches_ocr_mixups_but_not_other_plates() -> None:
    entry = E("12AB34", tolerance=Tolerance.CONFUSABLE)
    assert matches(entry, "I2A834", NOW)
    assert matches(entry, "12AB34", NOW)
    assert not matches(entry, "12AB35", NOW)


def test_expired_or_future_entry_never_matches() -> None:
    expired = E("12AB34", valid_until=NOW)
    future = E("12AB34", valid_from=NOW + timedelta(seconds=1))
    assert not matches(expired, "12AB34", NOW)
    assert not matches(future, "12AB34", NOW)
    assert matches(expired, "12AB34", NOW - timedelta(seconds=1))


def test_white_entry_suppresses_black_alerts_and_exempts_the_read() -> None:
    black, white = E("12AB34"), E("12AB34", kind=ListKind.WHITE)
    assert decide([black]).alert_on == [black]
    assert not decide([black]).exempt
    both = decide([black, white])
    assert both.alert_on == []
    assert both.exempt


def test_clean_plate_drops_separators_and_upper_cases() -> None:
    assert clean_plate(" 12 ab-34 ") == "12AB34"
    with pytest.raises(ValueError, match="letters A-Z and digits"):
        clean_plate("12AB34!")
    with pytest.raises(ValueError):
        clean_plate("")


def test_partial_patterns_become_like_patterns() -> None:
    assert like_pattern("12?4AB") == "12_4AB"
    assert like_pattern("*4ab") == "%4AB"
    assert like_pattern("12AB34") is None
    with pytest.raises(ValueError, match="unknown character"):
        like_pattern("12%4")
