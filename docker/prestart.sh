#!/bin/sh
# Container entrypoint: wait for the database, apply migrations, then run the given command.
# C4HUB_SKIP_MIGRATE=1 only waits (the worker: the api service migrates, once).
set -eu

: "${C4HUB_DATABASE_URL:?set C4HUB_DATABASE_URL (postgresql+psycopg://user:pass@host/db)}"

python - <<'PY'
import os
import sys
import time

from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

wait_s = float(os.environ.get("C4HUB_DB_WAIT_SECONDS", "60"))
deadline = time.monotonic() + wait_s
engine = create_engine(os.environ["C4HUB_DATABASE_URL"])
while True:
    try:
        with engine.connect():
            break
    except OperationalError as exc:
        if time.monotonic() > deadline:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            sys.exit(f"error: database not reachable after {wait_s:.0f} s ({reason})")
        time.sleep(1)
engine.dispose()
PY

if [ "${C4HUB_SKIP_MIGRATE:-0}" != "1" ]; then
    c4hub db upgrade
fi

exec "$@"
