"""The embedded cluster's path decisions: which binaries, which socket dir, who can enter where."""

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from hub.embedded import (
    SOCKET_NAME,
    SOCKET_PATH_LIMIT,
    blocked_ancestor,
    can_traverse,
    database_url,
    find_bindir,
    socket_dir_for,
    version_key,
)

OUTSIDER_UID = 54321  # a user that owns nothing here and is in no group of the test dirs
SERVER = ("initdb", "pg_ctl", "postgres")


def make_bindir(root: Path, version: str, tools: tuple[str, ...]) -> Path:
    bindir = root / version / "bin"
    bindir.mkdir(parents=True)
    for tool in tools:
        (bindir / tool).write_text("#!/bin/sh\n")
        (bindir / tool).chmod(0o755)
    return bindir


def test_version_key_sorts_numerically_and_rejects_other_names() -> None:
    assert version_key("15") == (15,)
    assert version_key("9.6") == (9, 6)
    assert version_key("common") is None
    assert version_key("") is None
    assert sorted(["9.6", "10", "15"], key=lambda v: version_key(v) or ()) == ["9.6", "10", "15"]


def test_newest_version_with_all_server_tools_wins(tmp_path: Path) -> None:
    make_bindir(tmp_path, "9.6", SERVER)
    make_bindir(tmp_path, "10", SERVER)
    expected = make_bindir(tmp_path, "15", SERVER)
    make_bindir(tmp_path, "16", ("pg_ctl", "psql"))  # client tools only: no server here
    make_bindir(tmp_path, "common", SERVER)  # not a version directory

    assert find_bindir(None, tmp_path) == expected


def test_pg_config_bindir_is_preferred_when_it_has_the_server(tmp_path: Path) -> None:
    make_bindir(tmp_path / "lib", "16", SERVER)
    pg_config_dir = make_bindir(tmp_path / "opt", "15", SERVER)

    assert find_bindir(pg_config_dir, tmp_path / "lib") == pg_config_dir


def test_pg_config_bindir_without_server_falls_back(tmp_path: Path) -> None:
    # libpq-dev's pg_config answers /usr/bin, which holds no initdb.
    client_only = make_bindir(tmp_path / "usr", "x", ("psql",))
    server = make_bindir(tmp_path / "lib", "15", SERVER)

    assert find_bindir(client_only, tmp_path / "lib") == server


def test_tools_that_are_not_executable_do_not_count(tmp_path: Path) -> None:
    bindir = make_bindir(tmp_path, "15", SERVER)
    (bindir / "postgres").chmod(0o644)

    assert find_bindir(None, tmp_path) is None


def test_no_binaries_anywhere(tmp_path: Path) -> None:
    assert find_bindir(None, tmp_path / "missing") is None


def test_short_data_dir_holds_its_own_socket(tmp_path: Path) -> None:
    data_dir = Path("/srv/c4hub/postgres")

    assert socket_dir_for(data_dir, tmp_path) == data_dir


def test_long_data_dir_gets_a_short_stable_socket_dir(tmp_path: Path) -> None:
    long_dir = Path("/srv") / ("x" * 90) / "postgres"
    other = Path("/srv") / ("y" * 90) / "postgres"

    chosen = socket_dir_for(long_dir, Path("/tmp"))

    assert chosen.parent == Path("/tmp")
    assert len(str(chosen / SOCKET_NAME)) < SOCKET_PATH_LIMIT
    assert socket_dir_for(long_dir, Path("/tmp")) == chosen
    assert socket_dir_for(other, Path("/tmp")) != chosen


def test_socket_limit_is_measured_on_the_full_socket_path() -> None:
    fits = Path("/" + "a" * (SOCKET_PATH_LIMIT - len(SOCKET_NAME) - 3))
    too_long = Path(str(fits) + "bb")

    assert socket_dir_for(fits) == fits
    assert socket_dir_for(too_long) != too_long


def test_url_points_at_the_socket_dir() -> None:
    url = make_url(database_url(Path("/tmp/c4 hub/pg")))

    assert url.drivername == "postgresql+psycopg"
    assert (url.username, url.database, url.host, url.port) == ("c4hub", "c4hub", None, None)
    assert url.query["host"] == "/tmp/c4 hub/pg"


def stat_of(mode: int, uid: int, gid: int) -> os.stat_result:
    return os.stat_result((stat.S_IFDIR | mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("mode", "uid", "gids", "expected"),
    [
        (0o755, 1000, {1000}, True),  # other x
        (0o750, 1000, {1000}, False),  # neither owner nor group
        (0o750, 1000, {50}, True),  # group x
        (0o700, 7, {7}, True),  # owner x
        (0o077, 7, {50}, False),  # owner class matches and lacks x: group/other bits are ignored
        (0o000, 0, {0}, True),  # root enters anything
    ],
)
def test_can_traverse_follows_unix_permission_classes(
    mode: int, uid: int, gids: set[int], expected: bool
) -> None:
    assert can_traverse(stat_of(mode, uid=7, gid=50), uid, gids) is expected


@pytest.fixture
def open_base() -> Iterator[Path]:
    # Not tmp_path: its parents are private to the test user, and these checks are about others.
    base = Path(tempfile.mkdtemp(prefix="c4hub-paths-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base)


def test_blocked_ancestor_names_the_closed_directory(open_base: Path) -> None:
    closed = open_base / "closed"
    (closed / "inner").mkdir(parents=True)
    closed.chmod(0o700)

    blocked = blocked_ancestor(closed / "inner" / "postgres", OUTSIDER_UID, {OUTSIDER_UID})

    assert blocked == closed


def test_open_ancestors_are_not_blocked(open_base: Path) -> None:
    (open_base / "open").mkdir(mode=0o755)

    assert blocked_ancestor(open_base / "open" / "postgres", OUTSIDER_UID, {OUTSIDER_UID}) is None
