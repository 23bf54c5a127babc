"""A private PostgreSQL cluster in the node's data dir, for `c4hub serve` without a database URL.

The cluster is created on first use, listens on a Unix socket only (no TCP port to collide with)
and lives exactly as long as the `with` block: it is stopped on a normal exit, an exception,
Ctrl-C and SIGTERM. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
"""

import hashlib
import os
import pwd
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import URL

SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
DEBIAN_VERSIONS_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "c4hub"
DATABASE = "c4hub"
# Only names the socket file (.s.PGSQL.5432): the cluster has no TCP listener, and its socket
# lives in a directory of its own, so it never meets another server on this port.
PORT = 5432
SOCKET_NAME = f".s.PGSQL.{PORT}"
# The kernel takes socket paths of at most 107 bytes; stay well clear of that limit.
SOCKET_PATH_LIMIT = 100
ROOT_SERVER_USER = "postgres"
TIMEOUT_S = 60
INSTALL_HINT = "install postgresql-15 and postgresql-15-postgis-3 or set C4HUB_DATABASE_URL"

Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class EmbeddedPostgresError(RuntimeError):
    """The embedded cluster cannot be created or run; the message says how to fix it."""


def version_key(name: str) -> tuple[int, ...] | None:
    """Directory name to sortable version: 15 -> (15,), 9.6 -> (9, 6); None if not one."""
    parts = name.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)


def has_server_tools(bindir: Path) -> bool:
    return all(
        (bindir / tool).is_file() and os.access(bindir / tool, os.X_OK) for tool in SERVER_TOOLS
    )


def versioned_bindirs(root: Path) -> list[Path]:
    """root/<version>/bin for each version directory in root, newest first."""
    if not root.is_dir():
        return []
    found = [(key, child / "bin") for child in root.iterdir() if (key := version_key(child.name))]
    return [bindir for _, bindir in sorted(found, reverse=True)]


def find_bindir(pg_config_bindir: Path | None, versions_root: Path) -> Path | None:
    """pg_config's bindir when it holds the server tools, else the newest versioned one."""
    candidates = [pg_config_bindir] if pg_config_bindir else []
    candidates += versioned_bindirs(versions_root)
    return next((bindir for bindir in candidates if has_server_tools(bindir)), None)


def socket_path_fits(directory: Path) -> bool:
    return len(os.fsencode(directory / SOCKET_NAME)) < SOCKET_PATH_LIMIT


def socket_dir_for(data_dir: Path, tmp_root: Path = Path("/tmp")) -> Path:
    """The data dir itself when the socket path fits, else a short directory per cluster."""
    if socket_path_fits(data_dir):
        return data_dir
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:12]
    return tmp_root / f"c4hub-pg-{digest}"


def can_traverse(st: os.stat_result, uid: int, gids: set[int]) -> bool:
    # Unix checks only the first class that matches: an owner without x is refused even when
    # "other" has x.
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in gids:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def blocked_ancestor(path: Path, uid: int, gids: set[int]) -> Path | None:
    """The outermost existing ancestor of path that the user cannot enter, if any."""
    for ancestor in reversed(path.parents):
        if ancestor.is_dir() and not can_traverse(ancestor.stat(), uid, gids):
            return ancestor
    return None


def database_url(socket_dir: Path) -> str:
    url = URL.create(
        "postgresql+psycopg", username=SUPERUSER, database=DATABASE, query={"host": str(socket_dir)}
    )
    return url.render_as_string(hide_password=False)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = result.stdout.strip()
    return Path(out) if out else None


def _raise_system_exit(signum: int, frame: FrameType | None) -> None:
    # uvicorn shuts down gracefully on SIGTERM, puts back this handler and raises SIGTERM again.
    # Python's default handler would then kill the process on the spot, leaving the cluster
    # running; SystemExit unwinds the `with` block instead, which stops it.
    raise SystemExit(0)


class EmbeddedPostgres:
    """`with EmbeddedPostgres(path) as url:` runs a cluster in path for the block's duration.

    Inside the block SIGTERM raises SystemExit(0), so a terminated process still stops the
    cluster on its way out; the previous handler is put back on exit.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.socket_dir = socket_dir_for(self.data_dir)
        self.url = database_url(self.socket_dir)
        self.log_file = self.data_dir / "server.log"
        self._bindir = Path()
        self._as_server_user: list[str] = []
        self._server_uid = os.geteuid()
        self._server_gid = os.getegid()
        self._running = False
        self._previous_sigterm: Handler = None

    def __enter__(self) -> str:
        self._catch_sigterm()
        try:
            self._prepare()
            self._start()
            self._ensure_database()
        except BaseException:
            self._stop()
            self._release_sigterm()
            raise
        return self.url

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release_sigterm()
        self._stop()

    def _catch_sigterm(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _raise_system_exit)

    def _release_sigterm(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous_sigterm or signal.SIG_DFL)

    def _prepare(self) -> None:
        bindir = find_bindir(_pg_config_bindir(), DEBIAN_VERSIONS_ROOT)
        if bindir is None:
            raise EmbeddedPostgresError(f"PostgreSQL binaries not found; {INSTALL_HINT}")
        self._bindir = bindir
        if os.geteuid() == 0:
            self._use_server_user()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._check_reachable()
        self._make_private_dir(self.data_dir)
        if self.socket_dir != self.data_dir:
            self._make_private_dir(self.socket_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()

    def _use_server_user(self) -> None:
        try:
            user = pwd.getpwnam(ROOT_SERVER_USER)
        except KeyError:
            raise EmbeddedPostgresError(
                f"PostgreSQL cannot run as root and there is no `{ROOT_SERVER_USER}` user; "
                f"{INSTALL_HINT}, or run c4hub as a normal user"
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise EmbeddedPostgresError(
                "PostgreSQL cannot run as root and `runuser` is missing; install util-linux "
                "or run c4hub as a normal user"
            )
        self._server_uid = user.pw_uid
        self._server_gid = user.pw_gid
        self._as_server_user = [runuser, "-u", ROOT_SERVER_USER, "--"]

    def _check_reachable(self) -> None:
        user = pwd.getpwuid(self._server_uid)
        gids = set(os.getgrouplist(user.pw_name, user.pw_gid))
        blocked = blocked_ancestor(self.data_dir, self._server_uid, gids)
        if blocked is not None:
            raise EmbeddedPostgresError(
                f"{blocked} is not searchable by the `{user.pw_name}` user that runs PostgreSQL; "
                f"run `chmod o+x {blocked}` or set C4HUB_DATA_DIR to a directory outside it"
            )

    def _make_private_dir(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, exist_ok=True)
        if directory.stat().st_uid != self._server_uid:
            if os.geteuid() != 0:
                raise EmbeddedPostgresError(
                    f"{directory} belongs to another user; remove it or set C4HUB_DATA_DIR"
                )
            os.chown(directory, self._server_uid, self._server_gid)

    def _initdb(self) -> None:
        if any(self.data_dir.iterdir()):
            raise EmbeddedPostgresError(
                f"{self.data_dir} is not empty and holds no PostgreSQL cluster; "
                "move its files away or set C4HUB_DATA_DIR to another directory"
            )
        print(f"c4hub: creating a PostgreSQL cluster in {self.data_dir}", file=sys.stderr)
        data = str(self.data_dir)
        locale = ["--encoding=UTF8", "--locale=C.UTF-8"]
        result = self._run("initdb", ["-D", data, "-U", SUPERUSER, "--auth=trust", *locale])
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"initdb failed in {self.data_dir}: {_last_line(result.stderr)}"
            )

    def _start(self) -> None:
        status = self._run("pg_ctl", ["status", "-D", str(self.data_dir)])
        if status.returncode == 0:
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL in {self.data_dir} is already running (another "
                f"`c4hub serve`?); stop that one or run: {self._stop_command()}"
            )
        options = f"-k {shlex.quote(str(self.socket_dir))} -p {PORT} -c listen_addresses=''"
        # Marked running before the attempt: a start cut short by a signal still gets stopped.
        self._running = True
        wait = ["-w", "-t", str(TIMEOUT_S)]
        data = str(self.data_dir)
        started = self._run(
            "pg_ctl", ["start", *wait, "-D", data, "-l", str(self.log_file), "-o", options]
        )
        if started.returncode != 0:
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL did not start ({self._log_tail()}); see {self.log_file}"
            )

    def _ensure_database(self) -> None:
        try:
            with psycopg.connect(
                host=str(self.socket_dir),
                port=PORT,
                user=SUPERUSER,
                dbname="postgres",
                autocommit=True,
                connect_timeout=TIMEOUT_S,
            ) as conn:
                exists = "SELECT 1 FROM pg_database WHERE datname = %s"
                if conn.execute(exists, (DATABASE,)).fetchone() is None:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
                postgis = "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
                if conn.execute(postgis).fetchone() is None:
                    major = conn.info.server_version // 10000
                    raise EmbeddedPostgresError(
                        f"PostGIS is not installed for PostgreSQL {major}; install "
                        f"postgresql-{major}-postgis-3 or set C4HUB_DATABASE_URL"
                    )
        except psycopg.Error as exc:
            raise EmbeddedPostgresError(
                f"cannot connect to the embedded PostgreSQL in {self.socket_dir}: "
                f"{_last_line(str(exc))}"
            ) from exc

    def _stop(self) -> None:
        if not self._running:
            return
        self._running = False
        stopped = self._run(
            "pg_ctl", ["stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(TIMEOUT_S)]
        )
        if stopped.returncode != 0:
            print(
                f"c4hub: could not stop the embedded PostgreSQL ({_last_line(stopped.stderr)}); "
                f"run: {self._stop_command()}",
                file=sys.stderr,
            )

    def _stop_command(self) -> str:
        argv = [*self._as_server_user, str(self._bindir / "pg_ctl"), "stop", "-D"]
        return shlex.join([*argv, str(self.data_dir), "-m", "fast"])

    def _log_tail(self) -> str:
        try:
            return _last_line(self.log_file.read_text(errors="replace"))
        except OSError:
            return "no log"

    def _run(self, tool: str, args: list[str]) -> subprocess.CompletedProcess[str]:
        argv = [*self._as_server_user, str(self._bindir / tool), *args]
        try:
            # cwd "/" because the server user may not be allowed into the caller's directory.
            return subprocess.run(argv, cwd="/", capture_output=True, text=True, check=False)
        except OSError as exc:
            raise EmbeddedPostgresError(f"cannot run {argv[0]}: {exc.strerror}") from exc
