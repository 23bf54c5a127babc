"""Announce confirmed health changes on the topic exchange "events" as camera.<id>.health, so
alerting and peers hear of a camera going dark within one sweep.

Best effort by design: the change is already committed to `health_events` (the history the API
serves) before it is announced, so a broker outage loses the announcement, never the record.
"""

import logging
from typing import Any

# kombu ships py.typed but leaves these untyped and not re-exported.
from kombu import Connection  # type: ignore[attr-defined]

from hub.events.publisher import events_exchange, routing_key
from schemas.health import HealthChange

log = logging.getLogger(__name__)


class HealthAnnouncer:
    def __init__(self, broker_url: str, timeout_s: float = 5.0) -> None:
        self.broker_url = broker_url
        self.timeout_s = timeout_s

    def __call__(self, changes: list[HealthChange]) -> None:
        try:
            self._publish(changes)
        except Exception as exc:  # the broker is down: the history keeps the changes
            log.warning(
                "could not announce %d health change(s) (%s); they are in the health history",
                len(changes),
                type(exc).__name__,
            )

    def _publish(self, changes: list[HealthChange]) -> None:
        connection: Any = Connection(  # type: ignore[no-untyped-call]
            self.broker_url,
            connect_timeout=self.timeout_s,
            transport_options={"confirm_publish": True},
        )
        with connection:
            connection.ensure_connection(max_retries=0, timeout=self.timeout_s)
            producer = connection.Producer()
            exchange: Any = events_exchange()
            exchange(producer.channel).declare()
            for change in changes:
                producer.publish(
                    change.model_dump_json(),
                    exchange=exchange,
                    routing_key=routing_key(change.camera_id, "health"),
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=str(change.id),
                    timeout=self.timeout_s,
                )
