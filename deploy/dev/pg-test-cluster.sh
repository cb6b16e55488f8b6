#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite (CI and developers), on 127.0.0.1 only.
#
#   deploy/dev/pg-test-cluster.sh start DIR [PORT]   initdb + start in DIR, print `export ...` lines
#   deploy/dev/pg-test-cluster.sh stop DIR           stop it (DIR can then be removed)
#
# `start` installs Debian's postgresql package first when no PostgreSQL server is on the machine
# (root only; non-interactive). The cluster runs as the `postgres` user when started by root (initdb
# refuses root), as the calling user otherwise. It creates the login role `prestatiemonitor`
# (CREATEDB, CREATEROLE: the tests make a database per test and the dashboard_reader role) with a
# random password, and the database `prestatiemonitor`; the tests derive every scratch database (the
# warehouse's and the Dagster instance's of deploy/dagster.yaml) from the one URL printed.
# Durability is switched off: this cluster holds nothing worth keeping.
set -euo pipefail

command=${1:-}
dir=${2:-}
if [[ -z "$command" || -z "$dir" ]]; then
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
fi

find_bindir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z "$found" ]] && command -v pg_config >/dev/null 2>&1; then
        found=$(pg_config --bindir)
    fi
    echo "$found"
}

as_owner() {
    # Run a command as the cluster owner: `postgres` when we are root, ourselves otherwise.
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$command" in
start)
    port=${3:-55432}
    bindir=$(find_bindir)
    if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
        if [[ $(id -u) -ne 0 ]]; then
            echo "PostgreSQL is not installed and we are not root: apt-get install postgresql first" >&2
            exit 1
        fi
        echo "installing PostgreSQL (apt-get)..." >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
        bindir=$(find_bindir)
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
        chmod 700 "$dir"
    fi
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    psql_admin=("$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres)
    as_owner "${psql_admin[@]}" -c "CREATE ROLE prestatiemonitor LOGIN CREATEDB CREATEROLE PASSWORD '$password'" >/dev/null
    # DROP DATABASE ... WITH (FORCE) of a scratch database ends the sessions in it, also those of the
    # roles the tests create (loader, dashboard reader): that takes pg_signal_backend.
    as_owner "${psql_admin[@]}" -c "GRANT pg_signal_backend TO prestatiemonitor" >/dev/null
    as_owner "${psql_admin[@]}" -c "CREATE DATABASE prestatiemonitor OWNER prestatiemonitor" >/dev/null
    echo "export PRESTATIEMONITOR_TEST_POSTGRES_URL=postgresql+psycopg://prestatiemonitor:$password@127.0.0.1:$port/prestatiemonitor"
    ;;
stop)
    bindir=$(find_bindir)
    if [[ -n "$bindir" && -f "$dir/data/postmaster.pid" ]]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    ;;
*)
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
    ;;
esac
