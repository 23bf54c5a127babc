"""A camera that names its subscriptions only in WS-Addressing ReferenceParameters.

`onvif_events_server` with `reference_parameters` set answers CreatePullPointSubscription with a
bare address and a SubscriptionId reference parameter, and faults (ResourceUnknown) any call on
the subscription that does not echo it, as Axis firmware does.
"""

import asyncio
import time
from collections.abc import Iterator

import pytest

from adapters.base import Target
from adapters.onvif.pullpoint import PullPointSettings, PullPointSubscription
from schemas.events import EventKind, NormalizedEvent
from tests.fixtures.onvif_events_server import EventsServer, onvif_events_server

FAST = PullPointSettings(
    termination_s=60, pull_timeout_s=1, backoff_initial_s=0.1, backoff_max_s=0.3
)
ECHO = b'IsReferenceParameter="true">1</'


@pytest.fixture
def server() -> Iterator[EventsServer]:
    with onvif_events_server(lifetime_cap_s=2) as running:
        running.reference_parameters = True
        yield running


def run(server: EventsServer, renewals: int) -> list[NormalizedEvent]:
    """Subscribe until a pull and `renewals` Renew calls were made, then stop; the events."""
    target = Target.from_uri(server.device_url, username="op", password="pw", timeout_s=1)
    events: list[NormalizedEvent] = []

    async def sink(event: NormalizedEvent) -> None:
        events.append(event)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(PullPointSubscription(target, settings=FAST).run(sink, stop))
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and (
            server.operations().count("Renew") < renewals
            or server.operations().count("PullMessages") < 1
        ):
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 3)

    asyncio.run(main())
    return events


def test_reference_parameters_are_echoed_in_pull_renew_and_unsubscribe(
    server: EventsServer,
) -> None:
    events = run(server, renewals=1)

    assert [event.kind for event in events] == [EventKind.MOTION, EventKind.MOTION]
    on_subscription = [
        (operation, number, body)
        for operation, number, body in server.requests
        if operation in ("PullMessages", "Renew", "Unsubscribe")
    ]
    assert {operation for operation, _, _ in on_subscription} == {
        "PullMessages",
        "Renew",
        "Unsubscribe",
    }
    # Every call named subscription 1 through the echoed header, so it was never recreated.
    assert all(number == 1 and ECHO in body for _, number, body in on_subscription)
    assert server.operations().count("CreatePullPointSubscription") == 1
    assert server.operations()[-1] == "Unsubscribe"


def test_device_service_calls_carry_no_reference_parameters(server: EventsServer) -> None:
    run(server, renewals=0)

    device_calls = [
        body
        for operation, _, body in server.requests
        if operation in ("GetSystemDateAndTime", "GetCapabilities", "CreatePullPointSubscription")
    ]
    assert device_calls and all(b"SubscriptionId" not in body for body in device_calls)
