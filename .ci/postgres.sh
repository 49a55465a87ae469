#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the PostgreSQL state backend's tests.
#
#   source .ci/postgres.sh && campaignctl_pg_up [--install] && trap campaignctl_pg_down EXIT
#       starts a cluster and exports CAMPAIGNCTL_TEST_PG_DSN (and CAMPAIGNCTL_PG_DIR);
#       --install: apt-get install postgresql first if no PostgreSQL binaries are found
#   bash .ci/postgres.sh start [--install]   prints CAMPAIGNCTL_PG_DIR=... and CAMPAIGNCTL_TEST_PG_DSN=...
#   bash .ci/postgres.sh stop DIR            stops that cluster and removes DIR
#
# The cluster lives in a fresh directory under $TMPDIR (/tmp), owned by a non-root user when run
# as root (postgres refuses to run as root): the `postgres` user if there is one, else `nobody`.
# It listens on 127.0.0.1 on a free port and on a unix socket in that directory only; its
# superuser `campaignctl` has a random password (scram-sha-256 over TCP). fsync is off: a test
# cluster needs no crash safety of its own.
# Functions return non-zero (never exit) on failure, so a sourcing script decides what to do.

_campaignctl_pg_log() { echo "postgres.sh: $*" >&2; }

# The directory holding initdb, pg_ctl and postgres (the newest installed version).
campaignctl_pg_bindir() {
    local dir
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then
        dir=$(dirname "$(readlink -f "$(command -v initdb)")")
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

# Install PostgreSQL from the distribution's packages (Debian/Ubuntu, as root), without the
# default cluster the package would otherwise create and start.
campaignctl_pg_install() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        _campaignctl_pg_log "no PostgreSQL binaries found, and cannot install them (needs root and apt-get)"
        return 1
    fi
    _campaignctl_pg_log "no PostgreSQL binaries found: installing the postgresql package"
    mkdir -p /etc/postgresql-common/createcluster.d || return 1
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/campaignctl-ci.conf || return 1
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >&2 || return 1
}

# Run a command as the cluster's owner ($1), dropping root if need be.
_campaignctl_pg_as() {
    local user=$1
    shift
    if [ "$(id -u)" != 0 ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$user" -- "$@"
    else
        su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
    fi
}

_campaignctl_pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Start a cluster; on success sets CAMPAIGNCTL_PG_DIR and CAMPAIGNCTL_TEST_PG_DSN (exported).
campaignctl_pg_up() {
    local bindir dir user password port
    bindir=$(campaignctl_pg_bindir) || bindir=""
    if [ -z "$bindir" ]; then
        if [ "${1:-}" = "--install" ]; then
            campaignctl_pg_install || return 1
            bindir=$(campaignctl_pg_bindir) || bindir=""
        fi
        if [ -z "$bindir" ]; then
            _campaignctl_pg_log "no PostgreSQL binaries (initdb, pg_ctl, postgres) on PATH or in /usr/lib/postgresql/*/bin"
            return 1
        fi
    fi
    user=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        if id postgres >/dev/null 2>&1; then user=postgres; else user=nobody; fi
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/campaignctl-pg.XXXXXX") || return 1
    mkdir -p "$dir/sock" || return 1
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))') || return 1
    printf '%s\n' "$password" > "$dir/pwfile" || return 1
    chmod 700 "$dir" && chmod 600 "$dir/pwfile" || return 1
    if [ "$(id -u)" = 0 ]; then chown -R "$user" "$dir" || return 1; fi
    if ! _campaignctl_pg_as "$user" "$bindir/initdb" -D "$dir/data" -U campaignctl --pwfile="$dir/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        _campaignctl_pg_log "initdb failed:"
        tail -n 20 "$dir/initdb.log" >&2
        rm -rf "$dir"
        return 1
    fi
    rm -f "$dir/pwfile"
    port=$(_campaignctl_pg_free_port) || return 1
    if ! _campaignctl_pg_as "$user" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c full_page_writes=off" start >/dev/null; then
        _campaignctl_pg_log "the server did not start:"
        tail -n 20 "$dir/server.log" >&2
        rm -rf "$dir"
        return 1
    fi
    echo "$bindir" > "$dir/bindir"
    echo "$user" > "$dir/owner"
    export CAMPAIGNCTL_PG_DIR="$dir"
    export CAMPAIGNCTL_TEST_PG_DSN="postgresql://campaignctl:$password@127.0.0.1:$port/postgres"
    _campaignctl_pg_log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)"
}

# Stop the cluster in $1 (default $CAMPAIGNCTL_PG_DIR) and remove its directory.
campaignctl_pg_down() {
    local dir=${1:-${CAMPAIGNCTL_PG_DIR:-}}
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
        return 0
    fi
    if [ -f "$dir/bindir" ] && [ -d "$dir/data" ]; then
        _campaignctl_pg_as "$(cat "$dir/owner")" "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    if [ "$dir" = "${CAMPAIGNCTL_PG_DIR:-}" ]; then
        unset CAMPAIGNCTL_PG_DIR CAMPAIGNCTL_TEST_PG_DSN
    fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then  # executed, not sourced
    set -uo pipefail
    case "${1:-}" in
        start)
            campaignctl_pg_up "${2:-}" || exit 1
            echo "CAMPAIGNCTL_PG_DIR=$CAMPAIGNCTL_PG_DIR"
            echo "CAMPAIGNCTL_TEST_PG_DSN=$CAMPAIGNCTL_TEST_PG_DSN"
            ;;
        stop)
            campaignctl_pg_down "${2:?usage: postgres.sh stop DIR}"
            ;;
        *)
            echo "usage: bash .ci/postgres.sh start [--install] | stop DIR   (or source it: campaignctl_pg_up, campaignctl_pg_down)" >&2
            exit 2
            ;;
    esac
fi
