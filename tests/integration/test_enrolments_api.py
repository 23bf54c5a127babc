"""Enrolment of private cameras: submit (with a probe through the real RabbitMQ), review,
change the tier, withdraw; who may do what; and the access decision on real rows."""

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, inspect, select
from sqlalchemy.orm import Session

from hub.enrolment import service
from hub.enrolment.models import Enrolment
from hub.enrolment.rules import Use
from hub.migrate import alembic_config, upgrade
from hub.registry import tasks
from hub.registry.cameras import create_camera
from hub.registry.models import Camera, Organization
from hub.registry.probe import ProbeJob
from hub.registry.secrets import CredentialBox
from schemas.camera import CameraCreate
from schemas.enrolment import Approve, ConsentTier, EnrolmentCreate, EnrolmentState, Reject
from schemas.enums import CameraPurpose, CameraStatus, OrganizationKind, Role
from tests.support import fresh_database, migration_differences

Headers = dict[str, str]
PASSWORD = "sh0p-secret-never-shown"
MASK = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.25]]
URL = "/api/v1/enrolments"


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "location": {"type": "Point", "coordinates": [127.03, 37.51]},
        "name": "Shop front",
        "heading_deg": 90,
        "fov_deg": 70,
        "range_m": 25,
        "adapter": "rtsp",
        "stream_uri": "rtsp://127.0.0.1:1/shop",
        "credentials": {"username": "viewer", "password": PASSWORD},
        "consent_tier": "on_request",
        "retention_days": 14,
        "privacy_masks": [MASK],
        **extra,
    }


@pytest.fixture
def shop(make_org: Callable[..., Organization]) -> Organization:
    return make_org("corner-shop", kind=OrganizationKind.PRIVATE_BUSINESS)


@pytest.fixture
def biz(auth: Callable[..., Headers], shop: Organization) -> Headers:
    return auth(Role.BUSINESS, shop)


@pytest.fixture
def operator(auth: Callable[..., Headers]) -> Headers:
    return auth(Role.OPERATOR)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Ids of the probe jobs published to the real RabbitMQ (the real apply_async runs)."""
    published: list[str] = []
    real = tasks.probe_camera.apply_async

    def spy(args: list[str], **kwargs: Any) -> Any:
        result = real(args, **kwargs)
        published.append(args[0])
        return result

    monkeypatch.setattr(tasks.probe_camera, "apply_async", spy)
    return published


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.probe_camera, "apply_async", refuse)


def _enrol(client: TestClient, headers: Headers, **extra: Any) -> dict[str, Any]:
    r = client.post(URL, json=_body(**extra), headers=headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _is_problem(r: Any, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- submit ----------------------------------------------------------------------------------


def test_business_enrols_a_camera_and_its_probe_goes_to_rabbitmq(
    client: TestClient,
    biz: Headers,
    shop: Organization,
    session: Session,
    box: CredentialBox,
    sent: list[str],
) -> None:
    r = client.post(URL, json=_body(), headers=biz)
    assert r.status_code == 201, r.text
    got = r.json()
    assert r.headers["location"] == f"{URL}/{got['id']}"
    assert got["state"] == "submitted" and got["consent_tier"] == "on_request"
    assert got["org_id"] == str(shop.id) and got["pending_review"] is True
    assert got["privacy_masks"] == [MASK] and got["retention_days"] == 14
    assert got["probe"]["state"] == "queued" and sent == [got["probe"]["job_id"]]
    assert PASSWORD not in r.text and "credentials" not in got
    camera = session.get(Camera, uuid.UUID(got["camera_id"]))
    assert camera is not None and camera.owner_id == shop.id
    assert camera.purpose is CameraPurpose.PRIVATE_PREMISES
    assert camera.status is CameraStatus.UNKNOWN and camera.retention_days == 14
    assert (
        camera.credentials_sealed is not None and PASSWORD.encode() not in camera.credentials_sealed
    )
    assert box.open(camera.credentials_sealed).password == PASSWORD
    job = session.scalars(select(ProbeJob).where(ProbeJob.camera_id == camera.id)).one()
    assert str(job.id) == got["probe"]["job_id"]


def test_broker_down_keeps_the_submission_and_shows_the_failed_probe(
    client: TestClient, biz: Headers, session: Session, broker_down: None
) -> None:
    got = _enrol(client, biz)
    assert got["probe"]["state"] == "failed"
    assert got["probe"]["error_code"] == "queue_unavailable"
    again = client.get(f"{URL}/{got['id']}", headers=biz).json()
    assert again["state"] == "submitted" and again["probe"] == got["probe"]
    assert session.get(Enrolment, uuid.UUID(got["id"])) is not None


def test_a_camera_without_an_address_is_enrolled_unprobed(
    client: TestClient, biz: Headers, session: Session, sent: list[str]
) -> None:
    got = _enrol(client, biz, adapter="none", stream_uri=None, consent_tier="registry_only")
    assert got["probe"] is None and sent == []
    assert _count(session, ProbeJob) == 0


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR, Role.PLANNER])
def test_only_a_business_enrols(
    client: TestClient,
    auth: Callable[..., Headers],
    role: Role,
    session: Session,
    sent: list[str],
) -> None:
    r = client.post(URL, json=_body(), headers=auth(role))
    _is_problem(r, 403)
    assert "Businesses enrol" in r.json()["detail"]
    assert _count(session, Camera) == 0 and sent == []


def _without_tier() -> dict[str, Any]:
    body = _body()
    del body["consent_tier"]
    return body


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (_without_tier(), "consent_tier"),
        (_body(privacy_masks=[[[0.1, 0.1], [1.5, 0.2], [0.3, 0.9]]]), "privacy_masks.0.1.0"),
        (_body(privacy_masks=[[[0.1, 0.1], [0.2, 0.2]]]), "privacy_masks.0"),
        (_body(consent_tier="everything"), "consent_tier"),
        (_body(retention_days="14"), "retention_days"),
        (_body(owner_id=str(uuid.uuid4())), "owner_id"),
        (_body(credentials={"username": "viewer"}), "credentials.password"),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(
    client: TestClient,
    biz: Headers,
    session: Session,
    sent: list[str],
    body: dict[str, Any],
    param: str,
) -> None:
    r = client.post(URL, json=body, headers=biz)
    _is_problem(r, 422)
    assert param in [p["name"] for p in r.json()["invalid_params"]]
    assert PASSWORD not in r.text
    assert _count(session, Camera) == 0 and _count(session, Enrolment) == 0 and sent == []


def test_wrong_content_type_is_a_problem(
    client: TestClient, biz: Headers, session: Session
) -> None:
    r = client.post(
        URL, content="consent_tier=live_always", headers={**biz, "Content-Type": "text/plain"}
    )
    _is_problem(r, 422)
    assert _count(session, Enrolment) == 0


def test_duplicate_external_id_is_409_and_writes_nothing(
    client: TestClient, biz: Headers, session: Session, broker_down: None
) -> None:
    _enrol(client, biz, external_id="cam-1")
    r = client.post(URL, json=_body(external_id="cam-1"), headers=biz)
    _is_problem(r, 409)
    assert _count(session, Camera) == 1 and _count(session, Enrolment) == 1


# --- read --------------------------------------------------------------------------------------


def test_a_business_sees_only_its_own_enrolments(
    client: TestClient,
    biz: Headers,
    operator: Headers,
    auth: Callable[..., Headers],
    make_org: Callable[..., Organization],
    broker_down: None,
) -> None:
    mine = _enrol(client, biz)
    other = auth(Role.BUSINESS, make_org("bakery", kind=OrganizationKind.PRIVATE_BUSINESS))
    theirs = _enrol(client, other)
    assert [e["id"] for e in client.get(URL, headers=biz).json()] == [mine["id"]]
    for path in (f"{URL}/{theirs['id']}", f"{URL}/{theirs['id']}/withdraw"):
        method = client.get if path.endswith(theirs["id"]) else client.post
        _is_problem(method(path, headers=biz), 404)
    _is_problem(
        client.patch(f"{URL}/{theirs['id']}", json={"consent_tier": "registry_only"}, headers=biz),
        404,
    )
    every = {e["id"] for e in client.get(URL, headers=operator).json()}
    assert every == {mine["id"], theirs["id"]}
    planner = {e["id"] for e in client.get(URL, headers=auth(Role.PLANNER)).json()}
    assert planner == every


def test_operators_filter_by_state(
    client: TestClient, biz: Headers, operator: Headers, broker_down: None
) -> None:
    first = _enrol(client, biz)
    second = _enrol(client, biz)
    client.post(f"{URL}/{first['id']}/review", json={"decision": "approve"}, headers=operator)
    approved = client.get(URL, params={"state": "approved"}, headers=operator).json()
    assert [e["id"] for e in approved] == [first["id"]]
    waiting = client.get(URL, params={"pending_review": "true"}, headers=operator).json()
    assert [e["id"] for e in waiting] == [second["id"]]
    _is_problem(client.get(URL, params={"state": "maybe"}, headers=operator), 422)


def test_unknown_enrolment_is_404(client: TestClient, operator: Headers, biz: Headers) -> None:
    unknown = f"{URL}/{uuid.uuid4()}"
    _is_problem(client.get(unknown, headers=operator), 404)
    _is_problem(
        client.post(f"{unknown}/review", json={"decision": "approve"}, headers=operator), 404
    )
    _is_problem(client.post(f"{unknown}/withdraw", headers=biz), 404)


# --- review ------------------------------------------------------------------------------------


def test_operator_approves_and_the_decision_is_recorded(
    client: TestClient,
    biz: Headers,
    auth: Callable[..., Headers],
    session: Session,
    broker_down: None,
) -> None:
    got = _enrol(client, biz)
    token = auth(Role.OPERATOR)
    r = client.post(
        f"{URL}/{got['id']}/review", json={"decision": "approve", "reason": "ok"}, headers=token
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["state"] == "approved" and done["decision_reason"] == "ok"
    assert done["reviewed_at"] is not None and done["pending_review"] is False
    row = session.get(Enrolment, uuid.UUID(got["id"]))
    assert row is not None and row.reviewed_by is not None
    assert client.get(f"{URL}/{got['id']}", headers=biz).json()["state"] == "approved"
    again = client.post(f"{URL}/{got['id']}/review", json={"decision": "approve"}, headers=token)
    _is_problem(again, 409)


def test_reject_needs_a_reason_and_shuts_the_camera_off(
    client: TestClient, biz: Headers, operator: Headers, session: Session, broker_down: None
) -> None:
    got = _enrol(client, biz)
    review = f"{URL}/{got['id']}/review"
    r = client.post(review, json={"decision": "reject"}, headers=operator)
    _is_problem(r, 422)
    assert "reject.reason" in [p["name"] for p in r.json()["invalid_params"]]
    row = session.get(Enrolment, uuid.UUID(got["id"]))
    assert row is not None and row.state is EnrolmentState.SUBMITTED
    reason = "The view covers the neighbour's garden"
    r = client.post(review, json={"decision": "reject", "reason": reason}, headers=operator)
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    seen = client.get(f"{URL}/{got['id']}", headers=biz).json()
    assert seen["decision_reason"] == reason
    camera = session.get(Camera, uuid.UUID(got["camera_id"]))
    assert camera is not None and camera.credentials_sealed is None
    assert camera.status is CameraStatus.DECOMMISSIONED


@pytest.mark.parametrize("role", [Role.BUSINESS, Role.PLANNER])
def test_only_operators_and_admins_review(
    client: TestClient,
    biz: Headers,
    auth: Callable[..., Headers],
    shop: Organization,
    role: Role,
    broker_down: None,
) -> None:
    got = _enrol(client, biz)
    headers = auth(role, shop if role is Role.BUSINESS else None)
    r = client.post(f"{URL}/{got['id']}/review", json={"decision": "approve"}, headers=headers)
    _is_problem(r, 403)
    assert client.get(f"{URL}/{got['id']}", headers=biz).json()["state"] == "submitted"


# --- withdraw ----------------------------------------------------------------------------------


def test_withdraw_is_effective_at_once(
    client: TestClient,
    biz: Headers,
    operator: Headers,
    session: Session,
    sent: list[str],
) -> None:
    got = _enrol(client, biz, consent_tier="live_always")
    client.post(f"{URL}/{got['id']}/review", json={"decision": "approve"}, headers=operator)
    r = client.post(f"{URL}/{got['id']}/withdraw", headers=biz)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "withdrawn" and r.json()["withdrawn_at"] is not None
    camera_id = uuid.UUID(got["camera_id"])
    camera = session.scalars(
        select(Camera).where(Camera.id == camera_id).execution_options(populate_existing=True)
    ).one()
    assert camera.credentials_sealed is None and camera.status is CameraStatus.DECOMMISSIONED
    # The probe queued at submission was never run: a worker skips a finished job.
    job = session.get(ProbeJob, uuid.UUID(got["probe"]["job_id"]))
    assert job is not None and job.state == "failed" and job.error_code == "enrolment_withdrawn"
    assert not service.access_for(session, camera_id).permits(Use.MAP)
    _is_problem(client.post(f"{URL}/{got['id']}/withdraw", headers=biz), 409)
    review = client.post(
        f"{URL}/{got['id']}/review", json={"decision": "approve"}, headers=operator
    )
    _is_problem(review, 409)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OPERATOR, Role.PLANNER])
def test_only_the_business_withdraws(
    client: TestClient,
    biz: Headers,
    auth: Callable[..., Headers],
    role: Role,
    broker_down: None,
) -> None:
    got = _enrol(client, biz)
    _is_problem(client.post(f"{URL}/{got['id']}/withdraw", headers=auth(role)), 403)
    _is_problem(
        client.patch(
            f"{URL}/{got['id']}", json={"consent_tier": "live_always"}, headers=auth(role)
        ),
        403,
    )
    assert client.get(f"{URL}/{got['id']}", headers=biz).json()["state"] == "submitted"


# --- change the tier ---------------------------------------------------------------------------


def test_raising_waits_for_review_lowering_is_at_once(
    client: TestClient, biz: Headers, operator: Headers, session: Session, broker_down: None
) -> None:
    got = _enrol(client, biz)
    one = f"{URL}/{got['id']}"
    camera_id = uuid.UUID(got["camera_id"])
    client.post(f"{one}/review", json={"decision": "approve"}, headers=operator)
    raised = client.patch(one, json={"consent_tier": "live_always"}, headers=biz).json()
    assert raised["consent_tier"] == "on_request" and raised["requested_tier"] == "live_always"
    assert raised["state"] == "approved" and raised["pending_review"] is True
    assert not service.access_for(session, camera_id).permits(Use.LIVE_VIEW)
    approved = client.post(f"{one}/review", json={"decision": "approve"}, headers=operator).json()
    assert approved["consent_tier"] == "live_always" and approved["requested_tier"] is None
    assert service.access_for(session, camera_id).permits(Use.LIVE_VIEW)
    lowered = client.patch(one, json={"consent_tier": "registry_only"}, headers=biz).json()
    assert lowered["consent_tier"] == "registry_only" and lowered["pending_review"] is False
    assert not service.access_for(session, camera_id).permits(Use.FOOTAGE_REQUEST)


def test_a_refused_raise_keeps_the_granted_tier(
    client: TestClient, biz: Headers, operator: Headers, broker_down: None
) -> None:
    got = _enrol(client, biz)
    one = f"{URL}/{got['id']}"
    client.post(f"{one}/review", json={"decision": "approve"}, headers=operator)
    client.patch(one, json={"consent_tier": "live_on_alarm"}, headers=biz)
    refused = client.post(
        f"{one}/review",
        json={"decision": "reject", "reason": "no alarm link yet"},
        headers=operator,
    ).json()
    assert refused["state"] == "approved" and refused["consent_tier"] == "on_request"
    assert refused["requested_tier"] is None and refused["decision_reason"] == "no alarm link yet"


def test_no_tier_change_after_withdrawal(
    client: TestClient, biz: Headers, broker_down: None
) -> None:
    got = _enrol(client, biz)
    client.post(f"{URL}/{got['id']}/withdraw", headers=biz)
    r = client.patch(f"{URL}/{got['id']}", json={"consent_tier": "live_always"}, headers=biz)
    _is_problem(r, 409)


# --- the access decision on real rows ---------------------------------------------------------


def _private(
    session: Session, box: CredentialBox, org: Organization, tier: ConsentTier
) -> uuid.UUID:
    data = EnrolmentCreate.model_validate(
        {"location": {"type": "Point", "coordinates": [127.0, 37.5]}, "consent_tier": tier}
    )
    enrolment, _ = service.enrol(session, box, org.id, data)
    return enrolment.camera_id


def test_access_for_and_permits_clause_agree_on_real_rows(
    session: Session, box: CredentialBox, shop: Organization, org: Organization
) -> None:
    municipal = create_camera(
        session,
        box,
        CameraCreate.model_validate({"location": {"type": "Point", "coordinates": [127.0, 37.5]}}),
        org.id,
    ).id
    reviewer = uuid.uuid4()
    cameras: dict[tuple[str, ConsentTier | None], uuid.UUID] = {("municipal", None): municipal}
    for tier in ConsentTier:
        cameras[("approved", tier)] = cid = _private(session, box, shop, tier)
        service.review(session, _by_camera(session, cid), Approve(decision="approve"), reviewer)
    cameras[("submitted", ConsentTier.LIVE_ALWAYS)] = _private(
        session, box, shop, ConsentTier.LIVE_ALWAYS
    )
    rejected = cameras[("rejected", ConsentTier.LIVE_ALWAYS)] = _private(
        session, box, shop, ConsentTier.LIVE_ALWAYS
    )
    service.review(
        session, _by_camera(session, rejected), Reject(decision="reject", reason="no"), reviewer
    )
    withdrawn = cameras[("withdrawn", ConsentTier.LIVE_ALWAYS)] = _private(
        session, box, shop, ConsentTier.LIVE_ALWAYS
    )
    service.withdraw(session, _by_camera(session, withdrawn))

    for use, alert in itertools.product(Use, [False, True]):
        in_sql = set(session.scalars(select(Camera.id).where(service.permits_clause(use, alert))))
        in_python = {
            cid for cid in cameras.values() if service.access_for(session, cid).permits(use, alert)
        }
        assert in_sql == in_python, (use, alert)

    def allowed(use: Use, alert: bool = False) -> set[Any]:
        ids = set(session.scalars(select(Camera.id).where(service.permits_clause(use, alert))))
        return {key for key, cid in cameras.items() if cid in ids}

    approved = {("approved", t) for t in ConsentTier}
    assert (
        allowed(Use.MAP) == {("municipal", None), ("submitted", ConsentTier.LIVE_ALWAYS)} | approved
    )
    assert allowed(Use.LIVE_VIEW) == {("municipal", None), ("approved", ConsentTier.LIVE_ALWAYS)}
    assert allowed(Use.LIVE_VIEW, alert=True) == {
        ("municipal", None),
        ("approved", ConsentTier.LIVE_ON_ALARM),
        ("approved", ConsentTier.LIVE_ALWAYS),
    }
    assert service.access_for(session, municipal).tier is None


def _by_camera(session: Session, camera_id: uuid.UUID) -> Enrolment:
    return session.scalars(select(Enrolment).where(Enrolment.camera_id == camera_id)).one()


# --- the migration -----------------------------------------------------------------------------


def test_the_migration_matches_the_model(engine: Engine) -> None:
    assert migration_differences(engine, "enrolments") == []


def test_the_migration_downgrades_and_upgrades_again() -> None:
    with fresh_database(migrate=False) as url:
        upgrade(url, "0003")
        command.downgrade(alembic_config(url), "0002")
        engine = create_engine(url)
        try:
            assert "enrolments" not in inspect(engine).get_table_names()
            upgrade(url, "0003")
            assert "enrolments" in inspect(engine).get_table_names()
        finally:
            engine.dispose()
