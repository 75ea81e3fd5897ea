#!/usr/bin/env bash
# Back up careapp's PostgreSQL database: one pg_dump in custom format, checked, then older
# dumps removed. Prints the new dump's path.
#
#   DATABASE_URL=postgresql+psycopg://careapp:…@db/careapp deploy/backup.sh
#
# DATABASE_URL   the app's database (as in /etc/careapp/careapp.env)
# BACKUP_DIR     where dumps go (default /var/backups/careapp)
# BACKUP_KEEP_DAYS  dumps older than this many days are removed (default 14)
# Restore one with deploy/restore.sh.
set -euo pipefail
umask 077
. "$(dirname "$(readlink -f "$0")")/pg-common.sh"

[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
url=$(libpq_url "$DATABASE_URL")
backup_dir=${BACKUP_DIR:-/var/backups/careapp}
keep_days=${BACKUP_KEEP_DAYS:-14}
[[ $keep_days =~ ^[0-9]+$ ]] || die "BACKUP_KEEP_DAYS must be a number of days"
mkdir -p "$backup_dir"

major=$(server_major "$url")
pg_dump=$(pg_tool pg_dump "$major")
pg_restore=$(dirname "$pg_dump")/pg_restore
database=$(psql --no-psqlrc --quiet --tuples-only --no-align --dbname="$url" \
  --command="SELECT current_database()")
target="$backup_dir/$database-$(date -u +%Y%m%dT%H%M%SZ).dump"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT

# Custom format: compressed, and pg_restore can restore all of it or single tables.
"$pg_dump" --dbname="$url" --format=custom --file="$partial"
# A dump that pg_restore cannot list is not a backup.
"$pg_restore" --list "$partial" >/dev/null
mv "$partial" "$target"

find "$backup_dir" -maxdepth 1 -type f -name "$database-*.dump" -mtime +"$keep_days" -delete
find "$backup_dir" -maxdepth 1 -type f -name "$database-*.dump.partial" -mtime +1 -delete
echo "$target"
