"""Federation wiring of the hub's domains: the inbox handlers for hotlist entries and alerts,
and the hotlist backfill run when an agreement becomes active. Called by create_app and
by each worker process at start; calling it again changes nothing."""

from federation import agreements
from federation.agreements import ACTIVATION_HOOKS
from federation.inbox import register
from hub.alerts import federation as alerts
from hub.hotlists import federation as hotlists
from schemas.federation import EventType


def install_federation() -> None:
    agreements.install()
    register(EventType.HOTLIST_ENTRY, hotlists.on_entry)
    register(EventType.HOTLIST_ENTRY_REVOKED, hotlists.on_revoked)
    register(EventType.ALERT, alerts.on_alert)
    register(EventType.ALERT_STATE, alerts.on_alert_state)
    if hotlists.backfill not in ACTIVATION_HOOKS:
        ACTIVATION_HOOKS.append(hotlists.backfill)
