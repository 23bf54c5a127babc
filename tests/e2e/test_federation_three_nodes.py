"""Three nodes as separate processes — a regional centre and two municipalities — each with its
own database and RabbitMQ vhost, peered over signed APIs (issue: federation, "Tests on real
processes")."""

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from federation.identity import SigningKey, load_private_key
from federation.signing import sign_request
from tests.e2e.federation_nodes import Node, agree, federation_nodes, peer, square, wait_for

pytestmark = pytest.mark.slow

# Coahuila (region), Saltillo (A) and Torreón (B), as squares: A and B do not overlap.
REGION_AREA = square(-104.0, 24.5, 4.5)
A_AREA = square(-101.1, 25.3, 0.3)
B_AREA = square(-103.5, 25.4, 0.3)
INSIDE_A = [-101.0, 25.42]
OUTSIDE_A = [-100.5, 25.42]  # in the region, but outside every agreement's area at A
WANTED = "KSV1234"
OUTAGE_S = 60
OUTAGE_READS = 30


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Node]]:
    root = tmp_path_factory.mktemp("federation")
    specs = [("Region", REGION_AREA), ("Saltillo", A_AREA), ("Torreon", B_AREA)]
    with federation_nodes(root, specs) as started:
        region, a, b = started["Region"], started["Saltillo"], started["Torreon"]
        for x, y in ((region, a), (a, region), (region, b), (b, region), (a, b), (b, a)):
            peer(x, y)
        # The region shares hotlists with each municipality and receives its alerts from
        # inside that municipality; A sends its plate reads inside A to its neighbour B.
        agree(region, a, ["hotlists"], ["alerts"], A_AREA)
        agree(region, b, ["hotlists"], ["alerts"], B_AREA)
        agree(a, b, ["plate_reads"], [], A_AREA)
        yield started


def _camera(node: Node, position: list[float], name: str) -> str:
    org = node.api(
        "POST",
        "/api/v1/organizations",
        {
            "slug": f"org-{uuid.uuid4().hex[:8]}",
            "name": f"{node.name} police",
            "kind": "municipality",
        },
        expect=201,
    )
    camera = node.api(
        "POST",
        "/api/v1/cameras",
        {
            "owner_id": org["id"],
            "name": name,
            "location": {"type": "Point", "coordinates": position},
            "purpose": "traffic",
        },
        expect=201,
    )
    return str(camera["id"])


def _read(node: Node, camera_id: str, plate: str) -> dict[str, Any]:
    body = {
        "id": str(uuid.uuid4()),
        "camera_id": camera_id,
        "read_at": dt.datetime.now(dt.UTC).isoformat(),
        "plate": plate,
        "confidence": 0.97,
    }
    result: dict[str, Any] = node.api("POST", "/api/v1/plates/reads", body, expect=201)
    return body | {"result": result}


def _alerts(node: Node, plate: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = node.api("GET", f"/api/v1/alerts?plate={plate}")["items"]
    return items


def _inbox(node: Node, type_: str) -> list[tuple[str, str]]:
    url = node.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT source, event_id FROM federation_inbox WHERE type = %s", (type_,)
        ).fetchall()
    return [(str(s), str(e)) for s, e in rows]


def test_hotlist_published_at_region_is_held_by_both_municipalities(
    nodes: dict[str, Node],
) -> None:
    region, a, b = nodes["Region"], nodes["Saltillo"], nodes["Torreon"]
    entry = region.api(
        "POST",
        "/api/v1/hotlists/entries",
        {
            "plate": WANTED,
            "category": "stolen",
            "reason": "stolen 2026-11-20, national list",
            "legal_basis": "national wanted-vehicle list",
            "priority": 1,
            "source": "national-police-2026-11",
            "tolerance": "confusable",
        },
        expect=201,
    )
    for municipality in (a, b):
        held = wait_for(
            lambda m=municipality: [  # type: ignore[misc]
                e
                for e in m.api("GET", f"/api/v1/hotlists/entries?plate={WANTED}")["items"]
                if e["plate"] == WANTED
            ],
            30,
            f"{municipality.name} never received the region's entry",
        )
        assert len(held) == 1
        assert held[0]["reason"] == entry["reason"]


def test_matching_read_at_a_raises_alerts_at_a_and_region(nodes: dict[str, Node]) -> None:
    region, a = nodes["Region"], nodes["Saltillo"]
    wait_for(
        lambda: a.api("GET", f"/api/v1/hotlists/entries?plate={WANTED}")["items"],
        30,
        "A has no hotlist entry (run the hotlist test first)",
    )
    camera = _camera(a, INSIDE_A, "Blvd. V. Carranza")
    read = _read(a, camera, "KSV1Z34")  # 2 read as Z: the entry tolerates OCR confusion
    local = _alerts(a, "KSV1Z34")
    assert len(local) == 1
    remote = wait_for(lambda: _alerts(region, "KSV1Z34"), 30, "the region got no alert")
    assert len(remote) == 1
    assert remote[0]["read_id"] == read["id"]
    assert remote[0]["entry_plate"] == WANTED


def test_read_outside_every_agreement_area_does_not_leave_a(nodes: dict[str, Node]) -> None:
    region, a, b = nodes["Region"], nodes["Saltillo"], nodes["Torreon"]
    wait_for(
        lambda: a.api("GET", f"/api/v1/hotlists/entries?plate={WANTED}")["items"],
        30,
        "A has no hotlist entry",
    )
    inside = _read(a, _camera(a, INSIDE_A, "inside"), "ABC1111")
    outside = _read(a, _camera(a, OUTSIDE_A, "outside"), WANTED)
    assert _alerts(a, WANTED), "the read outside still raises the alert locally"
    # The read inside A reaches B: once it is there, everything sent before it has arrived.
    wait_for(
        lambda: any(e == inside["id"] for _, e in _inbox(b, "org.c4hub.plate.read.v1")),
        30,
        "B never received the read inside A",
    )
    time.sleep(2)
    assert all(e != outside["id"] for _, e in _inbox(b, "org.c4hub.plate.read.v1"))
    assert not [x for x in _alerts(region, WANTED) if x["read_id"] == outside["id"]]


def _signed_ping(
    node: Node, key: SigningKey, body: bytes = b"{}", now: dt.datetime | None = None
) -> tuple[str, bytes, dict[str, str]]:
    url = node.base + "/federation/v1/ping"
    headers = {"Content-Type": "application/json"}
    headers |= sign_request("POST", url, headers, body, key, now=now)
    return url, body, headers


def _rejections(node: Node) -> list[str]:
    return [r["code"] for r in node.api("GET", "/api/v1/federation/rejections")]


def test_bad_signatures_are_rejected_and_logged(nodes: dict[str, Node]) -> None:
    region, a, b = nodes["Region"], nodes["Saltillo"], nodes["Torreon"]
    key = _current_key(a)
    url, body, headers = _signed_ping(region, key)
    assert httpx.post(url, content=body, headers=headers).status_code == 200
    cases: dict[str, tuple[int, httpx.Response]] = {}
    cases["replayed"] = (401, httpx.post(url, content=body, headers=headers))
    url, body, headers = _signed_ping(region, key, b'{"a": 1}')
    cases["digest_mismatch"] = (401, httpx.post(url, content=b'{"a": 2}', headers=headers))
    url, body, headers = _signed_ping(region, key)
    cases["bad_signature"] = (401, httpx.post(url + "?x=1", content=body, headers=headers))
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    url, body, headers = _signed_ping(region, key, now=old)
    cases["expired"] = (401, httpx.post(url, content=body, headers=headers))
    url, body, headers = _signed_ping(region, SigningKey.generate())
    cases["unknown_key"] = (401, httpx.post(url, content=body, headers=headers))
    b_peer = [p for p in region.api("GET", "/api/v1/federation/peers") if p["name"] == b.name]
    region.api(
        "POST",
        f"/api/v1/federation/peers/{b_peer[0]['id']}/state",
        {"state": "revoked", "reason": "compromised key, e2e test"},
    )
    url, body, headers = _signed_ping(region, _current_key(b))
    cases["peer_revoked"] = (403, httpx.post(url, content=body, headers=headers))
    for name, (status, response) in cases.items():
        assert response.status_code == status, (name, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), name
    logged = _rejections(region)
    for code in ("replayed", "digest_mismatch", "bad_signature", "expired", "unknown_key"):
        assert code in logged, (code, logged)
    assert any("revoked" in code for code in logged), logged
    region.api(
        "POST",
        f"/api/v1/federation/peers/{b_peer[0]['id']}/state",
        {"state": "active", "reason": "key confirmed, e2e test"},
    )


def _current_key(node: Node) -> SigningKey:
    keys = node.api("GET", "/api/v1/federation/node")["keys"]
    key_id = next(k["key_id"] for k in keys if k["status"] == "current")
    return load_private_key(Path(node.data_dir) / "keys" / f"{key_id}.key")


def test_b_down_for_a_minute_receives_everything_once_back(nodes: dict[str, Node]) -> None:
    a, b = nodes["Saltillo"], nodes["Torreon"]
    camera = _camera(a, INSIDE_A, "Periférico LEA")
    before = len(_inbox(b, "org.c4hub.plate.read.v1"))
    b.stop()
    sent = []
    started = time.monotonic()
    for i in range(OUTAGE_READS):
        sent.append(_read(a, camera, f"OUT{i:04d}")["id"])
        time.sleep(max(0.0, started + (i + 1) * OUTAGE_S / OUTAGE_READS - time.monotonic()))
    b.start()
    wait_for(
        lambda: {e for _, e in _inbox(b, "org.c4hub.plate.read.v1")} >= set(sent),
        120,
        f"B is missing reads after its outage:\n{a.log_tail()}",
        every_s=1,
    )
    received = [e for _, e in _inbox(b, "org.c4hub.plate.read.v1")]
    assert len(received) == before + OUTAGE_READS  # the inbox key is unique: exactly once
    assert sorted(set(received) & set(sent)) == sorted(sent)
