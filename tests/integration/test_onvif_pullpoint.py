"""PullPoint subscriptions against an events endpoint serving the agsh/onvif captured answers.

ipycam, the other ONVIF peer of these tests, offers no events service, so the subscription is
exercised only against `onvif_events_server`.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterator

import pytest

from adapters.base import Target
from adapters.onvif.pullpoint import PullPointSettings, PullPointSubscription
from schemas.events import EventKind, NormalizedEvent
from tests.fixtures.onvif_events_server import EventsServer, onvif_events_server

USERNAME = "operator"
PASSWORD = "Pa55:w@rd/Secret!"
FAST = PullPointSettings(
    termination_s=60,
    pull_timeout_s=1,
    message_limit=10,
    backoff_initial_s=0.1,
    backoff_max_s=0.3,
)
Condition = Callable[[list[NormalizedEvent], EventsServer], bool]


@pytest.fixture
def server() -> Iterator[EventsServer]:
    with onvif_events_server() as running:
        yield running


def run_until(
    server: EventsServer,
    condition: Condition,
    settings: PullPointSettings = FAST,
    timeout_s: float = 8.0,
    call_timeout_s: float = 1.0,
) -> list[NormalizedEvent]:
    """Run a subscription until `condition` holds (or `timeout_s`), stop it; its events."""
    target = Target.from_uri(
        server.device_url, username=USERNAME, password=PASSWORD, timeout_s=call_timeout_s
    )
    events: list[NormalizedEvent] = []

    async def sink(event: NormalizedEvent) -> None:
        events.append(event)

    async def main() -> None:
        stop = asyncio.Event()
        subscription = PullPointSubscription(target, settings=settings)
        task = asyncio.create_task(subscription.run(sink, stop))
        deadline = time.monotonic() + timeout_s
        while not condition(events, server) and time.monotonic() < deadline:
            assert not task.done(), "run() returned before it was stopped"
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 3)

    asyncio.run(main())
    return events


def count(server: EventsServer, operation: str) -> int:
    return server.operations().count(operation)


def test_motion_events_arrive_in_the_sink(server: EventsServer) -> None:
    events = run_until(server, lambda events, _: len(events) >= 2)

    assert len(events) == 2
    assert {event.kind for event in events} == {EventKind.MOTION}
    assert all(event.active is True for event in events)
    assert events[0].topic == "tns1:RuleEngine/CellMotionDetector/Motion"
    assert events[0].subject["VideoSourceConfigurationToken"] == "000"
    operations = server.operations()
    assert operations[:3] == [
        "GetSystemDateAndTime",
        "GetCapabilities",
        "CreatePullPointSubscription",
    ]
    assert "PullMessages" in operations


def test_requests_carry_a_camera_time_digest_token_never_the_password(server: EventsServer) -> None:
    run_until(server, lambda _, s: count(s, "PullMessages") >= 1)

    pulls = [body for operation, _, body in server.requests if operation == "PullMessages"]
    assert b"#PasswordDigest" in pulls[0]
    assert USERNAME.encode() in pulls[0]
    assert all(PASSWORD.encode() not in body for _, _, body in server.requests)
    # The captured GetSystemDateAndTime says 2014-12-24: the token is stamped in camera time.
    assert b"<wsu:Created>2014-12-24T" in pulls[0]
    assert b"<tev:Timeout>PT1S</tev:Timeout>" in pulls[0]
    assert b"<tev:MessageLimit>10</tev:MessageLimit>" in pulls[0]


def test_renews_before_the_termination_time() -> None:
    # The camera grants 2 s whatever is asked: renewal is due after 1 s.
    with onvif_events_server(lifetime_cap_s=2) as server:
        run_until(server, lambda _, s: count(s, "Renew") >= 2, timeout_s=6)
        renewals = [sub for operation, sub, _ in server.requests if operation == "Renew"]

        assert len(renewals) >= 2
        assert renewals[:2] == [1, 1]  # the first subscription renewed, never recreated
        assert count(server, "CreatePullPointSubscription") == 1
        assert server.expired_requests == 0  # no request found its subscription lapsed


def test_resubscribes_after_a_resource_unknown_fault(
    server: EventsServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.resource_unknown_once = True
    caplog.set_level(logging.INFO, logger="adapters.onvif.pullpoint")

    events = run_until(server, lambda events, _: len(events) >= 2)

    assert count(server, "CreatePullPointSubscription") == 2
    assert len(events) == 2  # delivered by the second subscription
    assert {event.kind for event in events} == {EventKind.MOTION}
    assert "ResourceUnknownFault" in caplog.text


def test_a_stalled_pull_times_out_and_recovers(
    server: EventsServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.stall_once = True
    caplog.set_level(logging.INFO, logger="adapters.onvif.pullpoint")
    started = time.monotonic()

    events = run_until(server, lambda events, _: len(events) >= 2, call_timeout_s=0.5)

    assert len(events) == 2
    assert time.monotonic() - started < 6
    assert "no answer within" in caplog.text
    assert count(server, "CreatePullPointSubscription") == 2


def test_recovers_from_an_http_500(server: EventsServer) -> None:
    server.error_500_once = True

    events = run_until(server, lambda events, _: len(events) >= 2)

    assert len(events) == 2
    assert count(server, "CreatePullPointSubscription") == 2
    unsubscribed = [sub for operation, sub, _ in server.requests if operation == "Unsubscribe"]
    assert 1 in unsubscribed  # the broken subscription was dropped before the new one


def test_stop_unsubscribes(server: EventsServer) -> None:
    run_until(server, lambda _, s: count(s, "PullMessages") >= 2)

    assert server.operations()[-1] == "Unsubscribe"
    assert server.requests[-1][1] == 1


def test_an_unreachable_camera_backs_off_without_dying_or_spinning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with onvif_events_server() as server:
        port = server.port
    caplog.set_level(logging.WARNING, logger="adapters.onvif.pullpoint")
    closed = EventsServer(port=port)  # nothing listens there any more

    run_until(closed, lambda _, __: False, timeout_s=1.5)

    attempts = caplog.text.count("subscribing again")
    assert 3 <= attempts <= 20  # backoff between 0.05 and 0.3 s: retries, but no busy loop
    assert "connection refused" in caplog.text


def test_no_credentials_in_logs(server: EventsServer, caplog: pytest.LogCaptureFixture) -> None:
    server.resource_unknown_once = True
    caplog.set_level(logging.DEBUG)

    run_until(server, lambda events, _: len(events) >= 2)

    assert "subscribing again" in caplog.text
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)
