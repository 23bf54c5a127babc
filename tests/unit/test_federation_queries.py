"""Federated queries, the pure parts: parameter checks, reading a peer's reply, merging, and
the concurrent fan-out with its deadline (threads only; no network, no database)."""

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from federation.answers import MAX_ITEMS, check_params
from federation.client import PeerCallError, PeerResponse
from federation.queries import Reply, fan_out, merge, reply_of, reply_of_error
from hub.errors import Invalid
from schemas.federation import (
    FederatedQueryRequest,
    PeerAnswerStatus,
    PeerQueryAnswer,
    QueryKind,
    QueryParams,
)

QID = uuid.UUID("00000000-0000-4000-8000-000000000001")
A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
B = uuid.UUID("00000000-0000-4000-8000-00000000000b")
C = uuid.UUID("00000000-0000-4000-8000-00000000000c")
T0 = datetime(2025, 3, 1, tzinfo=UTC)
T1 = datetime(2025, 3, 2, tzinfo=UTC)


def sightings(**extra: object) -> QueryParams:
    return QueryParams.model_validate({"kind": "plate_sightings", **extra})


def near(**extra: object) -> QueryParams:
    return QueryParams.model_validate({"kind": "cameras_near", **extra})


POINT = {"type": "Point", "coordinates": [-101.0, 25.4]}


# --- parameters ---------------------------------------------------------------------------------


def test_a_plate_query_needs_a_plate() -> None:
    with pytest.raises(Invalid, match="needs `plate`"):
        check_params(sightings())
    check_params(sightings(plate="ABC1234"))


def test_a_plate_query_window_must_run_forwards() -> None:
    with pytest.raises(Invalid, match="before"):
        check_params(sightings(plate="ABC1234", **{"from": T1, "to": T0}))
    check_params(sightings(plate="ABC1234", **{"from": T0, "to": T1}))


def test_a_cameras_query_needs_point_and_radius() -> None:
    with pytest.raises(Invalid, match="point"):
        check_params(near(point=POINT))
    with pytest.raises(Invalid, match="point"):
        check_params(near(radius_m=100))
    check_params(near(point=POINT, radius_m=100))


def test_purpose_and_case_number_are_required() -> None:
    query = {"kind": "plate_sightings", "plate": "ABC1234"}
    with pytest.raises(ValueError, match="purpose"):
        FederatedQueryRequest.model_validate({"query": query, "case_number": "C-1"})
    with pytest.raises(ValueError, match="case_number"):
        FederatedQueryRequest.model_validate({"query": query, "purpose": "robbery"})
    with pytest.raises(ValueError, match="case_number"):
        FederatedQueryRequest.model_validate({"query": query, "purpose": "x", "case_number": ""})


# --- a peer's reply -----------------------------------------------------------------------------


def response(status: int, body: object) -> PeerResponse:
    return PeerResponse(status, {"content-type": "application/json"}, json.dumps(body).encode())


def test_a_200_answer_gives_its_items() -> None:
    body = PeerQueryAnswer(query_id=QID, items=[{"read_id": "r1"}]).model_dump(mode="json")
    reply = reply_of(response(200, body), QID)
    assert reply.status is PeerAnswerStatus.OK
    assert reply.items == [{"read_id": "r1"}]


def test_a_peer_answering_more_than_a_node_may_is_cut_to_the_limit() -> None:
    items = [{"n": n} for n in range(MAX_ITEMS + 5)]
    body = PeerQueryAnswer(query_id=QID, items=items).model_dump(mode="json")
    assert len(reply_of(response(200, body), QID).items) == MAX_ITEMS


def test_an_answer_for_another_query_is_an_error() -> None:
    body = PeerQueryAnswer(query_id=uuid.uuid4(), items=[{"x": 1}]).model_dump(mode="json")
    reply = reply_of(response(200, body), QID)
    assert (reply.status, reply.items) == (PeerAnswerStatus.ERROR, [])


def test_a_malformed_answer_is_an_error() -> None:
    reply = reply_of(response(200, {"items": "nope"}), QID)
    assert reply.status is PeerAnswerStatus.ERROR


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_refusals_with_the_peers_reason(status: int) -> None:
    reply = reply_of(response(status, {"status": status, "detail": "no agreement"}), QID)
    assert reply.status is PeerAnswerStatus.REFUSED
    assert reply.detail == "no agreement"


def test_other_statuses_are_errors() -> None:
    reply = reply_of(response(503, {"detail": "deadline"}), QID)
    assert reply.status is PeerAnswerStatus.ERROR
    assert reply.detail == "HTTP 503 deadline"


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("unreachable", PeerAnswerStatus.UNREACHABLE),
        ("timeout", PeerAnswerStatus.TIMEOUT),
        ("rejected", PeerAnswerStatus.REFUSED),
        ("bad_signature", PeerAnswerStatus.ERROR),
        ("bad_response", PeerAnswerStatus.ERROR),
    ],
)
def test_call_errors_map_to_statuses(kind: str, status: PeerAnswerStatus) -> None:
    reply = reply_of_error(PeerCallError(kind, "why"))  # type: ignore[arg-type]
    assert reply.status is status
    assert reply.detail == f"{kind}: why"


# --- merging -----------------------------------------------------------------------------------


def test_merge_tags_items_with_their_node_and_orders_sightings_by_time() -> None:
    mine = Reply(PeerAnswerStatus.OK, [{"read_id": "2", "read_at": "2025-03-01T12:00:00Z"}])
    theirs = Reply(
        PeerAnswerStatus.OK, [{"read_id": "1", "read_at": "2025-03-01T08:00:00Z"}], None, 12.5
    )
    refused = Reply(PeerAnswerStatus.REFUSED, [], "no agreement", 3.0)
    result = merge(
        QID, QueryKind.PLATE_SIGHTINGS, (A, "here", mine), [(B, "b", theirs), (C, "c", refused)]
    )
    assert [(i["read_id"], i["node_id"], i["node_name"]) for i in result.items] == [
        ("1", str(B), "b"),
        ("2", str(A), "here"),
    ]
    assert [(p.node_id, p.status, p.count, p.elapsed_ms) for p in result.peers] == [
        (B, PeerAnswerStatus.OK, 1, 12.5),
        (C, PeerAnswerStatus.REFUSED, 0, 3.0),
    ]
    assert result.peers[1].detail == "no agreement"


def test_merge_orders_sightings_by_instant_whatever_the_offset_written() -> None:
    mine = Reply(PeerAnswerStatus.OK, [{"read_id": "b", "read_at": "2025-03-01T08:30:00Z"}])
    theirs = Reply(
        PeerAnswerStatus.OK,
        [
            {"read_id": "c", "read_at": "2025-03-01T07:00:00-02:00"},  # 09:00 UTC
            {"read_id": "a", "read_at": "2025-03-01T08:00:00+00:00"},
            {"read_id": "?", "read_at": "yesterday"},  # not a time: first, not an error
        ],
    )
    result = merge(QID, QueryKind.PLATE_SIGHTINGS, (A, "here", mine), [(B, "b", theirs)])
    assert [i["read_id"] for i in result.items] == ["?", "a", "b", "c"]


def test_merge_puts_cameras_nearest_first() -> None:
    mine = Reply(PeerAnswerStatus.OK, [{"camera_id": "far", "distance_m": 900.0}])
    theirs = Reply(PeerAnswerStatus.OK, [{"camera_id": "close", "distance_m": 10.0}])
    result = merge(QID, QueryKind.CAMERAS_NEAR, (A, "here", mine), [(B, "b", theirs)])
    assert [i["camera_id"] for i in result.items] == ["close", "far"]


def test_a_peer_cannot_rename_itself_in_the_merge() -> None:
    theirs = Reply(PeerAnswerStatus.OK, [{"camera_id": "x", "node_id": str(C), "node_name": "z"}])
    empty = Reply(PeerAnswerStatus.OK, [])
    result = merge(QID, QueryKind.CAMERAS_NEAR, (A, "here", empty), [(B, "b", theirs)])
    assert (result.items[0]["node_id"], result.items[0]["node_name"]) == (str(B), "b")


# --- fan-out ------------------------------------------------------------------------------------


def ok(items: int) -> Reply:
    return Reply(PeerAnswerStatus.OK, [{"n": n} for n in range(items)])


def test_fan_out_runs_calls_concurrently_and_local_meanwhile() -> None:
    started = threading.Barrier(3, timeout=2)  # both peers and the local answer at once

    def peer(budget_s: float) -> Reply:
        started.wait()
        return ok(2)

    def local() -> str:
        started.wait()
        return "local"

    mine, replies = fan_out({"b": peer, "c": peer}, 2.0, local)
    assert mine == "local"
    assert {k: (r.status, len(r.items)) for k, r in replies.items()} == {
        "b": (PeerAnswerStatus.OK, 2),
        "c": (PeerAnswerStatus.OK, 2),
    }
    assert all(r.elapsed_ms >= 0 for r in replies.values())


def test_each_call_gets_the_deadline_as_its_budget() -> None:
    budgets: list[float] = []

    def peer(budget_s: float) -> Reply:
        budgets.append(budget_s)
        return ok(0)

    fan_out({"b": peer}, 1.5, lambda: None)
    assert budgets == [1.5]


def test_a_call_past_the_deadline_is_a_timeout_and_not_waited_for() -> None:
    release = threading.Event()

    def slow(budget_s: float) -> Reply:
        release.wait(5)
        return ok(1)

    began = time.perf_counter()
    _, replies = fan_out({"slow": slow, "fast": lambda b: ok(1)}, 0.2, lambda: None)
    waited = time.perf_counter() - began
    release.set()
    assert replies["slow"].status is PeerAnswerStatus.TIMEOUT
    assert replies["slow"].detail == "no answer within 0.2 s"
    assert replies["fast"].status is PeerAnswerStatus.OK
    assert waited < 2.0  # not the 5 s the slow call would have taken


def test_a_call_that_raises_is_an_error_not_a_failed_query() -> None:
    def broken(budget_s: float) -> Reply:
        raise RuntimeError("boom")

    _, replies = fan_out({"b": broken}, 1.0, lambda: None)
    assert replies["b"].status is PeerAnswerStatus.ERROR
    assert replies["b"].detail == "RuntimeError: boom"


def test_no_peers_still_answers_locally() -> None:
    calls: dict[str, Callable[[float], Reply]] = {}
    mine, replies = fan_out(calls, 1.0, lambda: 42)
    assert (mine, replies) == (42, {})
