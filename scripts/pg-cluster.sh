#!/usr/bin/env bash
# A local PostgreSQL cluster of the project's own, with password (SCRAM) authentication only.
#
#   scripts/pg-cluster.sh [start|stop|status|env] [--port PORT] [--dir DIR] [--fast]
#   scripts/pg-cluster.sh standby --primary-port P [--primary-dir PDIR] --port Q --dir DIR [--sync]
#   scripts/pg-cluster.sh promote --port Q --dir DIR
#   scripts/pg-cluster.sh sync on|off --port P --dir DIR [--standby-name NAME]
#   scripts/pg-cluster.sh stop --port P --dir DIR --immediate
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
#
# standby makes DIR a streaming standby of the cluster on PORT P (made by this script, its
# folder PDIR, default var/pg-P) and starts it on port Q: a replication role
# `cityops_replica` on the primary (its password random, kept only in the password files:
# PDIR/pgpass, DIR/pgpass and DIR/replication.pgpass, the last the server user's, which the
# standby's primary_conninfo names as its passfile), then `pg_basebackup -R`. The standby's
# application_name is `cityops_standby_Q`. --sync also makes the primary wait for it at each
# commit (below). The standby answers read-only queries; a client whose URL says
# target_session_attrs=read-write skips it until it is promoted.
# promote turns the standby on DIR into a primary (`pg_ctl promote`, waiting until it accepts
# writes): the manual failover, after the old primary is stopped for good.
# sync on|off sets synchronous_standby_names on the primary on DIR (ALTER SYSTEM + reload):
# on, a COMMIT returns only once the standby NAME (default: any, '*') has the transaction on
# disk, so a promotion loses no acknowledged write (it also sets synchronous_commit on, which
# --fast turns off); off (asynchronous), a failover may lose the
# last moments' acknowledged writes. With no standby connected, `sync on` makes writes wait.
# stop --immediate stops at once without a checkpoint (a crashed primary, for failover drills).
set -euo pipefail
cd "$(dirname "$0")/.."

ACTION=start
PORT=${CITYOPS_PG_PORT:-55432}
DIR=${CITYOPS_PG_DIR:-}
FAST=0
PRIMARY_PORT=
PRIMARY_DIR=
SYNC=0
SYNC_MODE=
STANDBY_NAME=
STOP_MODE=fast
while [ $# -gt 0 ]; do
  case "$1" in
    start|stop|status|env|standby|promote) ACTION=$1 ;;
    sync) ACTION=sync; SYNC_MODE=${2:-}; shift ;;
    --primary-port) PRIMARY_PORT=$2; shift ;;
    --primary-dir) PRIMARY_DIR=$2; shift ;;
    --sync) SYNC=1 ;;
    --standby-name) STANDBY_NAME=$2; shift ;;
    --immediate) STOP_MODE=immediate ;;
    --port) PORT=$2; shift ;;
    --port=*) PORT=${1#--port=} ;;
    --dir) DIR=$2; shift ;;
    --dir=*) DIR=${1#--dir=} ;;
    --fast) FAST=1 ;;
    -h|--help) sed -n '2,46p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
REPLICA=cityops_replica

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

sql() {  # the superuser's psql on this cluster; statements on standard input, never in arguments
  PGPASSFILE=$PGPASS "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" \
    -U "$SUPERUSER" -d postgres "$@"
}

pgpass_password() {  # file user: the password of user's first line in a password file, if any
  awk -F: -v u="$2" '$4 == u { print $5; exit }' "$1" 2>/dev/null || true
}

set_sync() {  # on|off [name]: synchronous replication on the primary on PORT
  local mode=$1 name=${2:-*}
  case "$mode" in
    on)
      sql >/dev/null <<EOF
ALTER SYSTEM SET synchronous_standby_names = '$name';
ALTER SYSTEM SET synchronous_commit = 'on';
SELECT pg_reload_conf();
EOF
      echo "pg-cluster: synchronous replication on at $HOST:$PORT (standby '$name'): a COMMIT" \
        "returns once the standby has it on disk" ;;
    off)
      sql >/dev/null <<EOF
ALTER SYSTEM RESET synchronous_standby_names;
SELECT pg_reload_conf();
EOF
      echo "pg-cluster: asynchronous replication at $HOST:$PORT: a failover may lose the last" \
        "acknowledged writes" ;;
    *) echo "pg-cluster: sync takes on or off, not '$mode'" >&2; exit 2 ;;
  esac
}

standby() {
  case "$PRIMARY_PORT" in ''|*[!0-9]*)
    echo "pg-cluster: standby needs --primary-port PORT of a running primary" >&2; exit 2 ;; esac
  [ "$PRIMARY_PORT" != "$PORT" ] || { echo "pg-cluster: a standby needs a --port of its own" >&2; exit 2; }
  if [ -f "$DATA/PG_VERSION" ]; then  # made before: just start it
    start
    return
  fi
  local pdir=${PRIMARY_DIR:-var/pg-$PRIMARY_PORT} ppass admin replica name repfile
  pdir=$(cd "$pdir" && pwd)
  ppass=$pdir/pgpass
  admin=$(pgpass_password "$ppass" "$SUPERUSER")
  [ -n "$admin" ] || { echo "pg-cluster: no password of $SUPERUSER in $ppass: is $pdir a" \
    "cluster this script made?" >&2; exit 1; }
  "$BIN/pg_isready" -q -h "$HOST" -p "$PRIMARY_PORT" || { echo "pg-cluster: no primary answers" \
    "on $HOST:$PRIMARY_PORT" >&2; exit 1; }
  if answers; then
    echo "pg-cluster: another server already answers on $HOST:$PORT; choose another --port" >&2
    exit 1
  fi
  # The standby is a copy: the same superuser and password, on its own port.
  (umask 077; pgpass_line "$HOST" "$PORT" "$SUPERUSER" "$admin" > "$PGPASS")
  # The replication role: made once on the first primary, its password kept in the password
  # files only; the statement reaches the server on standard input, and is not logged.
  replica=$(pgpass_password "$ppass" "$REPLICA")
  if [ -z "$replica" ]; then
    replica=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)
    PORT=$PRIMARY_PORT PGPASS=$ppass sql >/dev/null <<EOF
SET log_statement = 'none';
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$REPLICA') THEN
    CREATE ROLE $REPLICA WITH LOGIN REPLICATION;
  END IF;
END \$\$;
ALTER ROLE $REPLICA WITH LOGIN REPLICATION PASSWORD '$replica';
EOF
    (umask 077; pgpass_line "$HOST" "$PRIMARY_PORT" "$REPLICA" "$replica" >> "$ppass")
  fi
  (umask 077; pgpass_line "$HOST" "$PORT" "$REPLICA" "$replica" >> "$PGPASS")
  # The standby's server reads this file (its own user's, mode 600) whenever it connects to
  # its primary: primary_conninfo names it and holds no password.
  repfile=$DIR/replication.pgpass
  (umask 077; printf '%s:*:*:%s:%s\n' "$HOST" "$REPLICA" "$replica" > "$repfile")
  rm -rf "$DATA"
  mkdir -m 700 "$DATA"
  if [ ${#RUN[@]} -gt 0 ]; then chown postgres: "$DATA" "$repfile"; fi
  name=cityops_standby_$PORT
  echo "pg-cluster: pg_basebackup from $HOST:$PRIMARY_PORT into $DATA (standby $name)"
  as_server "$BIN/pg_basebackup" -D "$DATA" -R -X stream -c fast \
    -d "host=$HOST port=$PRIMARY_PORT user=$REPLICA passfile=$repfile application_name=$name" \
    >"$DIR/basebackup.log" 2>&1 || { cat "$DIR/basebackup.log" >&2; exit 1; }
  # Its own port and socket; and no synchronous standby of its own: promoted, it would wait
  # for one that does not exist.
  as_server sed -i '/^synchronous_standby_names/d' "$DATA/postgresql.auto.conf"
  as_server tee -a "$DATA/postgresql.conf" >/dev/null <<EOF
# -- scripts/pg-cluster.sh: standby of $HOST:$PRIMARY_PORT --
port = $PORT
unix_socket_directories = '$DATA'
EOF
  start
  # Streaming before anyone relies on it (a synchronous primary would otherwise wait).
  local state=
  for _ in $(seq 1 60); do
    state=$(PORT=$PRIMARY_PORT PGPASS=$ppass sql -c \
      "SELECT state FROM pg_stat_replication WHERE application_name = '$name'" || true)
    [ "$state" = streaming ] && break
    sleep 0.5
  done
  [ "$state" = streaming ] || { echo "pg-cluster: the standby does not stream (see $LOG)" >&2; exit 1; }
  echo "pg-cluster: standby $name streams from $HOST:$PRIMARY_PORT"
  if [ "$SYNC" = 1 ]; then PORT=$PRIMARY_PORT PGPASS=$ppass set_sync on "$name"; fi
}

promote() {
  running || { echo "pg-cluster: not running ($DATA)" >&2; exit 1; }
  [ -f "$DATA/standby.signal" ] || { echo "pg-cluster: $HOST:$PORT is a primary already" >&2; exit 1; }
  as_server "$BIN/pg_ctl" -D "$DATA" -w -t 60 promote >/dev/null
  echo "pg-cluster: promoted $HOST:$PORT ($DATA): it accepts writes now"
}

case "$ACTION" in
  start) start ;;
  standby) standby ;;
  promote) promote ;;
  sync) set_sync "$SYNC_MODE" "${STANDBY_NAME:-*}" ;;
  stop)
    if running; then as_server "$BIN/pg_ctl" -D "$DATA" -m "$STOP_MODE" -w stop >/dev/null; echo "pg-cluster: stopped ($DATA)"
    else echo "pg-cluster: not running ($DATA)"; fi ;;
  status)
    if running; then echo "pg-cluster: running on $HOST:$PORT ($DATA)"; exit 0
    else echo "pg-cluster: not running ($DATA)"; exit 3; fi ;;
  env) print_env ;;
esac
