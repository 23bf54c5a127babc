"""Federation: node identity and keys, peers, agreements, outbox/deliveries, inbox, replay
cache, rejections, the query audit log; alerts and hotlist entries learn where they came from.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_STATUS = ("current", "next", "previous")
SIDES = ("local", "peer")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _geom(kind: str) -> Geometry:
    return Geometry(kind, srid=4326, spatial_index=False)


def _ts(name: str, nullable: bool = True, now: bool = False) -> sa.Column:  # type: ignore[type-arg]
    default = sa.func.now() if now else None
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def upgrade() -> None:
    op.create_table(
        "node_identity",
        sa.Column("singleton", sa.SmallInteger(), primary_key=True),
        sa.Column("node_id", UUID(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("api_base", sa.String(500), nullable=False),
        sa.Column("jurisdiction", _geom("MULTIPOLYGON"), nullable=True),
        _ts("created_at", False, True),
        _ts("updated_at", False, True),
        sa.CheckConstraint("singleton = 1", name="ck_node_identity_singleton"),
    )
    op.create_table(
        "node_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("status", _enum("key_status", *KEY_STATUS), nullable=False),
        _ts("valid_from", False),
        _ts("valid_until"),
        _ts("created_at", False, True),
    )
    op.create_table(
        "peers",
        sa.Column("id", UUID(), primary_key=True),
        sa.Column("node_id", UUID(), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("api_base", sa.String(500), nullable=False),
        sa.Column("jurisdiction", _geom("MULTIPOLYGON"), nullable=True),
        sa.Column("state", _enum("peer_state", "active", "suspended", "revoked"), nullable=False),
        sa.Column("state_reason", sa.String(500), nullable=True),
        sa.Column("fingerprint", sa.String(100), nullable=False),
        _ts("created_at", False, True),
        _ts("refreshed_at"),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        _ts("circuit_open_until"),
    )
    op.create_index("ix_peers_jurisdiction", "peers", ["jurisdiction"], postgresql_using="gist")
    op.create_table(
        "peer_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("peer_id", UUID(), sa.ForeignKey("peers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("status", _enum("key_status", *KEY_STATUS), nullable=False),
        _ts("valid_from", False),
        _ts("valid_until"),
    )
    op.create_index("ix_peer_keys_peer_id", "peer_keys", ["peer_id"])
    op.create_table(
        "agreements",
        sa.Column("id", UUID(), primary_key=True),
        sa.Column("peer_id", UUID(), sa.ForeignKey("peers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("proposed_by", _enum("agreement_proposed_by", *SIDES), nullable=False),
        sa.Column("scopes_out", ARRAY(sa.Text()), nullable=False),
        sa.Column("scopes_in", ARRAY(sa.Text()), nullable=False),
        sa.Column("area", _geom("MULTIPOLYGON"), nullable=True),
        sa.Column("purpose", sa.String(500), nullable=False),
        sa.Column("legal_basis", sa.String(500), nullable=False),
        _ts("expires_at", False),
        _ts("local_accepted_at"),
        _ts("peer_accepted_at"),
        sa.Column("suspended_by", _enum("agreement_suspended_by", *SIDES), nullable=True),
        _ts("revoked_at"),
        sa.Column("revoked_by", _enum("agreement_revoked_by", *SIDES), nullable=True),
        _ts("created_at", False, True),
        _ts("updated_at", False, True),
    )
    op.create_index("ix_agreements_peer_id", "agreements", ["peer_id"])
    op.create_table(
        "federation_nonces",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(200), primary_key=True),
        _ts("expires_at", False),
    )
    op.create_index("ix_federation_nonces_expires_at", "federation_nonces", ["expires_at"])
    op.create_table(
        "federation_outbox",
        sa.Column("id", UUID(), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        _ts("time", False),
        sa.Column("data", JSONB(), nullable=False),
        sa.Column("position", _geom("POINT"), nullable=True),
        _ts("created_at", False, True),
    )
    op.create_index("ix_federation_outbox_subject", "federation_outbox", ["subject"])
    op.create_table(
        "federation_deliveries",
        sa.Column(
            "outbox_id",
            UUID(),
            sa.ForeignKey("federation_outbox.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "peer_id", UUID(), sa.ForeignKey("peers.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "state",
            _enum("delivery_state", "pending", "delivered", "dead", "withheld"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _ts("next_attempt_at", False, True),
        sa.Column("last_error", sa.String(500), nullable=True),
        _ts("delivered_at"),
        _ts("created_at", False, True),
    )
    op.create_index(
        "ix_federation_deliveries_due",
        "federation_deliveries",
        ["peer_id", "next_attempt_at"],
        postgresql_where=sa.text("state = 'pending'"),
    )
    # A batch is the oldest pending deliveries of one peer: read in this index's order, a
    # backlog of any size costs the same per batch (no sort of everything pending).
    op.create_index(
        "ix_federation_deliveries_order",
        "federation_deliveries",
        ["peer_id", "created_at", "outbox_id"],
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "ix_federation_deliveries_dead",
        "federation_deliveries",
        ["peer_id"],
        postgresql_where=sa.text("state = 'dead'"),
    )
    op.create_table(
        "federation_inbox",
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("peer_id", UUID(), sa.ForeignKey("peers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        _ts("time", False),
        sa.Column("data", JSONB(), nullable=False),
        sa.Column("position", _geom("POINT"), nullable=True),
        _ts("received_at", False, True),
        # The event id first: one peer sends everything under one source, so an index led by
        # the source would not narrow a batch's duplicate check at all.
        sa.PrimaryKeyConstraint("event_id", "source", name="federation_inbox_pkey"),
    )
    op.create_index("ix_federation_inbox_type_time", "federation_inbox", ["type", "time"])
    op.create_table(
        "federation_rejections",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        _ts("at", False, True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("key_id", sa.String(200), nullable=True),
        sa.Column("peer_id", UUID(), nullable=True),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("remote", sa.String(100), nullable=True),
        sa.Column("detail", sa.String(500), nullable=False),
    )
    op.create_index("ix_federation_rejections_at", "federation_rejections", [sa.text("at DESC")])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        _ts("at", False, True),
        sa.Column("role", sa.String(20), nullable=False, comment="asked | answered"),
        sa.Column("query_id", UUID(), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("params", JSONB(), nullable=False),
        sa.Column("purpose", sa.String(500), nullable=False),
        sa.Column("case_number", sa.String(100), nullable=False),
        sa.Column(
            "actor", sa.String(200), nullable=False, comment="token id or the asking node's id"
        ),
        sa.Column("peer_node_id", UUID(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("result_count", sa.Integer(), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", [sa.text("at DESC")])
    op.create_index("ix_audit_log_case", "audit_log", ["case_number"])
    _alerts_and_hotlists()


def _alerts_and_hotlists() -> None:
    op.alter_column("alerts", "camera_id", nullable=True)
    op.add_column("alerts", sa.Column("camera_name", sa.String(200), nullable=True))
    op.add_column("alerts", sa.Column("position", _geom("POINT"), nullable=True))
    op.add_column("alerts", sa.Column("origin_node_id", UUID(), nullable=True))
    op.add_column("alerts", sa.Column("origin_alert_id", UUID(), nullable=True))
    op.add_column("alerts", sa.Column("entry_origin_node", UUID(), nullable=True))
    op.add_column("alerts", sa.Column("entry_origin_id", UUID(), nullable=True))
    op.add_column("alerts", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint("alert_state", "alerts", type_="check")
    op.create_check_constraint(
        "alert_state", "alerts", "state IN ('open', 'acknowledged', 'closed')"
    )
    op.create_index(
        "uq_alerts_origin",
        "alerts",
        ["origin_node_id", "origin_alert_id"],
        unique=True,
        postgresql_where=sa.text("origin_node_id IS NOT NULL"),
    )
    op.add_column("hotlist_entries", sa.Column("issuing_agency", sa.String(200), nullable=True))
    op.add_column("hotlist_entries", sa.Column("origin_node_id", UUID(), nullable=True))
    op.add_column("hotlist_entries", sa.Column("origin_entry_id", UUID(), nullable=True))
    op.create_index(
        "uq_hotlist_entries_origin",
        "hotlist_entries",
        ["origin_node_id", "origin_entry_id"],
        unique=True,
        postgresql_where=sa.text("origin_node_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_hotlist_entries_origin", table_name="hotlist_entries")
    for column in ("origin_entry_id", "origin_node_id", "issuing_agency"):
        op.drop_column("hotlist_entries", column)
    op.drop_index("uq_alerts_origin", table_name="alerts")
    op.execute("DELETE FROM alerts WHERE camera_id IS NULL")
    op.execute("UPDATE alerts SET state = 'acknowledged' WHERE state = 'closed'")
    op.drop_constraint("alert_state", "alerts", type_="check")
    op.create_check_constraint("alert_state", "alerts", "state IN ('open', 'acknowledged')")
    for column in (
        "closed_at",
        "entry_origin_id",
        "entry_origin_node",
        "origin_alert_id",
        "origin_node_id",
        "position",
        "camera_name",
    ):
        op.drop_column("alerts", column)
    op.alter_column("alerts", "camera_id", nullable=False)
    for table in (
        "audit_log",
        "federation_rejections",
        "federation_inbox",
        "federation_deliveries",
        "federation_outbox",
        "federation_nonces",
        "agreements",
        "peer_keys",
        "peers",
        "node_keys",
        "node_identity",
    ):
        op.drop_table(table)
