"""Alerts announce themselves: NOTIFY c4hub_alerts on every new alert and every state change
(the operators' live stream listens); federated hotlist entries remember the issuer's time of
their last change, so a late, older update never overwrites a newer one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The payload stays tiny (NOTIFY caps it at 8000 bytes): listeners read the alert itself.
NOTIFY_FUNCTION = """
CREATE FUNCTION c4hub_alerts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(
    'c4hub_alerts', json_build_object('id', NEW.id, 'state', NEW.state)::text
  );
  RETURN NULL;
END
$$
"""

STATEMENTS = (
    NOTIFY_FUNCTION,
    """
    CREATE TRIGGER alerts_notify_insert AFTER INSERT ON alerts
    FOR EACH ROW EXECUTE FUNCTION c4hub_alerts_notify()
    """,
    # Only a state change is news: an entry's deletion also updates its alerts (entry_id).
    """
    CREATE TRIGGER alerts_notify_state AFTER UPDATE OF state ON alerts
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION c4hub_alerts_notify()
    """,
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
    op.add_column(
        "hotlist_entries",
        sa.Column("origin_updated_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("hotlist_entries", "origin_updated_at")
    op.execute("DROP TRIGGER alerts_notify_state ON alerts")
    op.execute("DROP TRIGGER alerts_notify_insert ON alerts")
    op.execute("DROP FUNCTION c4hub_alerts_notify()")
