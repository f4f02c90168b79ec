#!/bin/sh
# Starts PostgreSQL as the official image does: a first start makes the cluster with POSTGRES_USER (password
# POSTGRES_PASSWORD) and the database POSTGRES_DB, in UTF-8 (as the official image: a cluster made without a locale
# would be SQL_ASCII, whose text psycopg returns as bytes); the server then listens on every address.
set -eu
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}
mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
as_postgres() { runuser -u postgres -- "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password=$(mktemp)
  printf '%s' "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" > "$password"
  chown postgres "$password"
  as_postgres initdb -D "$PGDATA" -U "$user" --pwfile="$password" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$password"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  [ "$database" = postgres ] || as_postgres createdb -U "$user" "$database"
  as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
# exec'd as the server itself (PID 1): docker stop's SIGTERM reaches PostgreSQL, which shuts down cleanly.
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*'
