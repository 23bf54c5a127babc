"""Hotlist CSV rows: checked one by one, each failure saying what is wrong (no I/O)."""

from datetime import UTC, datetime

import pytest

from hub.hotlists.importer import ImportOptions, Plan, parse_row
from hub.imports.errors import ColumnError
from schemas.hotlists import Category, Tolerance

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
HEADERS = ("plate", "category", "reason", "legal_basis", "priority", "valid_until", "tolerance")


def _plan() -> Plan:
    return Plan(HEADERS, ImportOptions(source="national"))


def test_a_good_row_becomes_an_entry() -> None:
    row = parse_row(
        ["12 ab-34", "Stolen", "reported stolen", "Art. 5", "1", "2027-01-01T00:00:00Z", ""],
        _plan(),
        NOW,
    )
    plate, key, kind, category, reason, legal, priority, start, until, source, tol, agency = row
    assert (plate, key, kind, category) == ("12AB34", "12A834", "black", "stolen")
    assert (reason, legal, priority, source, tol) == (
        "reported stolen",
        "Art. 5",
        1,
        "national",
        "exact",
    )
    assert start == NOW
    assert until == datetime(2027, 1, 1, tzinfo=UTC)
    assert agency is None  # the node's name, filled in at import


def test_defaults_from_options_fill_empty_cells() -> None:
    plan = Plan(("plate",), ImportOptions(
        source="s", category=Category.EMERGENCY, reason="ambulance", legal_basis="Act 1",
        tolerance=Tolerance.CONFUSABLE,
    ))  # fmt: skip
    row = parse_row(["AMB001"], plan, NOW)
    assert row[2:6] == ("white", "emergency", "ambulance", "Act 1")
    assert row[10] == "confusable"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["12AB!", "stolen", "r", "l", "", "", ""], "letters A-Z and digits"),
        (["12AB34", "lost", "r", "l", "", "", ""], "unknown category 'lost'"),
        (["12AB34", "stolen", "r", "l", "9", "", ""], "priority '9' must be"),
        (["12AB34", "stolen", "", "l", "", "", ""], "reason is empty"),
        (["12AB34", "stolen", "r", "l", "", "2027-01-01", ""], "needs a time zone offset"),
        (["12AB34", "stolen", "r", "l", "", "tomorrow", ""], "not an ISO 8601 time"),
        (["12AB34", "stolen", "r", "l", "", "2020-01-01T00:00:00Z", ""], "after valid_from"),
        (["12AB34", "stolen", "r", "l", "", "", "fuzzy"], "unknown tolerance"),
        (["12AB34", "stolen"], "has 2 fields but the header has 7"),
    ],
)
def test_bad_rows_say_what_is_wrong(values: list[object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_row(values, _plan(), NOW)


def test_missing_columns_without_defaults_are_refused_before_any_row() -> None:
    with pytest.raises(ColumnError, match="no category, legal_basis column"):
        Plan(("plate", "reason"), ImportOptions(source="s"))
