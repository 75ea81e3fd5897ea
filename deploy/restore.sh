#!/usr/bin/env bash
# Restore a dump made by deploy/backup.sh into an empty database.
#
#   createdb -O careapp careapp_restored
#   deploy/restore.sh /var/backups/careapp/careapp-20261130T023000Z.dump \
#       postgresql+psycopg://careapp:…@db/careapp_restored
#
# The target must exist and hold no tables: this never writes over a database in use. The
# restore is one transaction (all or nothing); tables belong to the user restoring them.
# Afterwards point DATABASE_URL at it, or rename the databases (deploy/README.md).
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/pg-common.sh"

[ $# -eq 2 ] || die "usage: restore.sh DUMP DATABASE_URL"
dump=$1
url=$(libpq_url "$2")
[ -r "$dump" ] || die "cannot read $dump"

psql_at() {
  psql --no-psqlrc --quiet --tuples-only --no-align --dbname="$url" --command="$1"
}

tables=$(psql_at "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%'") || die "cannot reach the target database"
[ "$tables" = 0 ] ||
  die "the target database already holds $tables tables; restore into an empty one"

major=$(server_major "$url")
pg_restore=$(pg_tool pg_restore "$major")
"$pg_restore" --dbname="$url" --no-owner --no-privileges --exit-on-error --single-transaction \
  "$dump"
psql_at "ANALYZE" >/dev/null
echo "Restored $dump (schema revision $(psql_at "SELECT version_num FROM alembic_version"))."
