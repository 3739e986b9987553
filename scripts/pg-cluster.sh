#!/usr/bin/env bash
# A local PostgreSQL cluster of the project's own, with password (SCRAM) authentication only.
#
#   scripts/pg-cluster.sh [start|stop|status|env] [--port PORT] [--dir DIR] [--fast]
#
# start (the default) creates the cluster if it is missing (initdb) and starts it; stop stops
# it; status says whether it runs (exit 0) or not (exit 3); env prints the lines to paste into a
# shell. Safe to run again: an existing cluster is only started, a running one left alone.
#
# --fast (when the cluster is made): fsync and synchronous commit off, for a test cluster whose
# data may be lost in a crash; never for a control room's data.
# PORT defaults to $CITYOPS_PG_PORT, else 55432; DIR to $CITYOPS_PG_DIR, else var/pg-<port>.
# DIR holds:  data/   the cluster (PGDATA), owned by whoever runs the server
#             pgpass  libpq's password file for the cluster's superuser (mode 600, this user's)
#             log     the server's log
# The cluster listens on 127.0.0.1 only (and a Unix socket in DIR/data), every connection needs
# a password (`scram-sha-256`, never `trust`), and passwords are stored as SCRAM verifiers.
# The superuser is `cityops_admin`; its password is random, made once, and written only to the
# pgpass file: point libpq at it with `export PGPASSFILE=DIR/pgpass`, never put it in a URL.
#
# As root (containers, CI) the server runs as the `postgres` system user (initdb refuses root);
# DIR/data then belongs to it while DIR and the pgpass file stay root's. As any other user the
# server runs as that user. Another cluster (a standby, a second test server) is the same
# script with another port and directory; pg_hba admits replication connections from 127.0.0.1
# (with a password, for a role WITH REPLICATION) so that a standby can stream from it.
set -euo pipefail
cd "$(dirname "$0")/.."

ACTION=start
PORT=${CITYOPS_PG_PORT:-55432}
DIR=${CITYOPS_PG_DIR:-}
FAST=0
while [ $# -gt 0 ]; do
  case "$1" in
    start|stop|status|env) ACTION=$1 ;;
    --port) PORT=$2; shift ;;
    --port=*) PORT=${1#--port=} ;;
    --dir) DIR=$2; shift ;;
    --dir=*) DIR=${1#--dir=} ;;
    --fast) FAST=1 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "pg-cluster: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$PORT" in ''|*[!0-9]*) echo "pg-cluster: --port needs a number, not '$PORT'" >&2; exit 2 ;; esac
DIR=${DIR:-var/pg-$PORT}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
DATA=$DIR/data
PGPASS=$DIR/pgpass
LOG=$DIR/log
SUPERUSER=cityops_admin
HOST=127.0.0.1

bindir() {
  local found
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; return; fi
  found=$(command -v initdb || true)
  if [ -n "$found" ]; then dirname "$found"; return; fi
  echo "pg-cluster: no initdb found (Debian: apt-get install postgresql)" >&2
  exit 1
}
BIN=$(bindir)

# Who runs the server: root cannot, so root hands it to the postgres system user.
RUN=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "pg-cluster: running as root needs a 'postgres' system" \
    "user to run the server (Debian's postgresql package makes it)" >&2; exit 1; }
  RUN=(runuser -u postgres --)
fi
as_server() { "${RUN[@]}" "$@"; }

running() { [ -f "$DATA/postmaster.pid" ] && as_server "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }
answers() { "$BIN/pg_isready" -q -h "$HOST" -p "$PORT" >/dev/null 2>&1; }

print_env() {
  cat <<EOF
# PostgreSQL on $HOST:$PORT (data: $DATA), password authentication only.
export PGPASSFILE=$PGPASS
# the superuser, password from \$PGPASSFILE (never in the URL):
#   psql "postgresql://$SUPERUSER@$HOST:$PORT/postgres"
# a control room's roles and schema:
#   cityops db setup-roles --superuser-url postgresql://$SUPERUSER@$HOST:$PORT/cityops
#   cityops db migrate --owner-url postgresql://cityops_owner@$HOST:$PORT/cityops
EOF
}

pgpass_line() {  # host port user password: one line per host name libpq may be given
  local h
  for h in 127.0.0.1 localhost; do printf '%s:%s:*:%s:%s\n' "$h" "$2" "$3" "$4"; done
}

create() {
  if [ "$(id -u)" -eq 0 ]; then
    # The server's user must reach DIR: every folder above it must be searchable.
    if ! runuser -u postgres -- test -x "$DIR"; then
      echo "pg-cluster: the postgres user cannot enter $DIR (a parent folder is closed to" \
        "others); choose another --dir" >&2
      exit 1
    fi
  fi
  local password pwfile
  password=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
  # The password reaches initdb in a file (mode 600, the server user's), never in arguments.
  pwfile=$(mktemp "$DIR/.pw.XXXXXX")
  trap 'rm -f "$pwfile"' EXIT
  printf '%s\n' "$password" > "$pwfile"
  rm -rf "$DATA"
  mkdir -m 700 "$DATA"
  if [ ${#RUN[@]} -gt 0 ]; then chown postgres: "$DATA" "$pwfile"; fi
  echo "pg-cluster: initdb $DATA (superuser $SUPERUSER, scram-sha-256)"
  as_server "$BIN/initdb" -D "$DATA" -U "$SUPERUSER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth=scram-sha-256 >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
  rm -f "$pwfile"
  trap - EXIT
  # Written after initdb so that a failed initdb leaves no password for a cluster that isn't.
  (umask 077; pgpass_line "$HOST" "$PORT" "$SUPERUSER" "$password" > "$PGPASS")
  chmod 600 "$PGPASS"
  as_server tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# -- scripts/pg-cluster.sh --
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$DATA'
password_encryption = 'scram-sha-256'
max_connections = 200
EOF
  if [ "$FAST" = 1 ]; then
    as_server tee -a "$DATA/postgresql.conf" >/dev/null <<EOF
# --fast: a cluster for tests, whose data may be lost in a crash
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  fi
  as_server tee "$DATA/pg_hba.conf" >/dev/null <<EOF
# scripts/pg-cluster.sh: a password for every connection, no trust, 127.0.0.1 only.
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  scram-sha-256
host    all          all   127.0.0.1/32   scram-sha-256
# a standby on this machine (pg_basebackup, streaming) needs a role WITH REPLICATION too
host    replication  all   127.0.0.1/32   scram-sha-256
EOF
}

start() {
  if [ ! -f "$DATA/PG_VERSION" ]; then
    create
  elif [ ! -s "$PGPASS" ]; then
    echo "pg-cluster: $DATA exists but its password file $PGPASS is gone: the superuser's" \
      "password is lost. Stop the cluster and remove $DIR to make it afresh." >&2
    exit 1
  fi
  if running; then
    echo "pg-cluster: already running on $HOST:$PORT ($DATA)"
  else
    if answers; then
      echo "pg-cluster: another server already answers on $HOST:$PORT; choose another --port" >&2
      exit 1
    fi
    if [ ${#RUN[@]} -gt 0 ]; then touch "$LOG" && chown postgres: "$LOG"; fi
    as_server "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null \
      || { tail -20 "$LOG" >&2; exit 1; }
    echo "pg-cluster: started on $HOST:$PORT ($DATA)"
  fi
  for _ in $(seq 1 30); do answers && break; sleep 1; done
  answers || { echo "pg-cluster: the server does not answer on $HOST:$PORT" >&2; exit 1; }
  print_env
}

case "$ACTION" in
  start) start ;;
  stop)
    if running; then as_server "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; echo "pg-cluster: stopped ($DATA)"
    else echo "pg-cluster: not running ($DATA)"; fi ;;
  status)
    if running; then echo "pg-cluster: running on $HOST:$PORT ($DATA)"; exit 0
    else echo "pg-cluster: not running ($DATA)"; exit 3; fi ;;
  env) print_env ;;
esac
