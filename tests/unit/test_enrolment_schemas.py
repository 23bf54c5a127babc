"""Enrolment contracts: tier required, masks bounded to the image, a reason to reject."""

from typing import Any, get_args

import pytest
from pydantic import TypeAdapter, ValidationError

from hub.registry.probe import ProbeState
from schemas.enrolment import (
    Approve,
    ConsentTier,
    EnrolmentCreate,
    EnrolmentProbe,
    Reject,
    ReviewDecision,
)

SQUARE = [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]]


def _data(**extra: Any) -> dict[str, Any]:
    return {
        "location": {"type": "Point", "coordinates": [127.05, 37.5]},
        "consent_tier": "on_request",
        **extra,
    }


def test_a_minimal_enrolment_is_valid() -> None:
    data = EnrolmentCreate.model_validate(_data(privacy_masks=[SQUARE]))
    assert data.consent_tier is ConsentTier.ON_REQUEST and data.privacy_masks == [SQUARE]


def _errors(**extra: Any) -> list[Any]:
    with pytest.raises(ValidationError) as info:
        EnrolmentCreate.model_validate(_data(**extra))
    return info.value.errors()


def test_the_tier_is_required() -> None:
    payload = _data()
    del payload["consent_tier"]
    with pytest.raises(ValidationError) as info:
        EnrolmentCreate.model_validate(payload)
    assert info.value.errors()[0]["loc"] == ("consent_tier",)


@pytest.mark.parametrize(
    ("masks", "where"),
    [
        ([[[0.1, 0.1], [1.5, 0.1], [0.4, 0.4]]], ("privacy_masks", 0, 1, 0)),
        ([[[0.1, 0.1], [0.4, 0.1], [0.4, -0.01]]], ("privacy_masks", 0, 2, 1)),
        ([[[0.1, 0.1], [0.4, 0.4]]], ("privacy_masks", 0)),
        ([[[0.1, 0.1], [0.4, 0.1], [0.1, 0.1]]], ("privacy_masks", 0)),
        ([[[0.1, 0.1, 0.2], [0.4, 0.1], [0.4, 0.4]]], ("privacy_masks", 0, 0)),
        ([[["0.1", 0.1], [0.4, 0.1], [0.4, 0.4]]], ("privacy_masks", 0, 0, 0)),
        ([SQUARE] * 33, ("privacy_masks",)),
    ],
)
def test_bad_masks_name_the_point(masks: Any, where: tuple[Any, ...]) -> None:
    assert _errors(privacy_masks=masks)[0]["loc"] == where


def test_repeated_points_say_to_send_the_polygon_open() -> None:
    closed = [*SQUARE, SQUARE[0]]
    assert "open" in _errors(privacy_masks=[closed])[0]["msg"]


@pytest.mark.parametrize(
    "extra",
    [
        {"consent_tier": "everything"},
        {"retention_days": "30"},
        {"retention_days": 1.5},
        {"stream_uri": "rtsp://admin:pw@10.0.0.5/main"},
        {"owner_id": "00000000-0000-4000-8000-000000000000"},
        {"purpose": "traffic"},
    ],
)
def test_other_bad_input_is_refused(extra: dict[str, Any]) -> None:
    assert _errors(**extra)


def test_reject_needs_a_reason_approve_does_not() -> None:
    decision: TypeAdapter[Approve | Reject] = TypeAdapter(ReviewDecision)
    assert isinstance(decision.validate_python({"decision": "approve"}), Approve)
    with pytest.raises(ValidationError) as info:
        decision.validate_python({"decision": "reject"})
    assert info.value.errors()[0]["loc"] == ("reject", "reason")
    with pytest.raises(ValidationError):
        decision.validate_python({"decision": "reject", "reason": ""})


def test_probe_states_match_the_probe_jobs() -> None:
    shown = EnrolmentProbe.model_fields["state"].annotation
    assert set(get_args(shown)) == {s.value for s in ProbeState}
