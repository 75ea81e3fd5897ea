# Shared by backup.sh and restore.sh (sourced, not run).

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# libpq_url URL: the app's SQLAlchemy URL (postgresql+psycopg://…) as libpq takes it.
libpq_url() {
  printf '%s' "$1" | sed -E 's#^postgres(ql)?(\+[A-Za-z0-9_]+)?://#postgresql://#'
}

# server_major URL: the major version of the PostgreSQL server at URL (15 for 15.x).
server_major() {
  local number
  number=$(psql --no-psqlrc --quiet --tuples-only --no-align --dbname="$1" \
    --command="SHOW server_version_num") || die "cannot reach the database"
  echo $((number / 10000))
}

# pg_tool TOOL MAJOR: the path of pg_dump or pg_restore of PostgreSQL MAJOR. A dump made by a
# newer pg_dump cannot be read by an older pg_restore, and an older pg_dump refuses a newer
# server: the tools must match the server. PG_BINDIR names their folder when it is elsewhere.
pg_tool() {
  local tool=$1 major=$2 found version
  for found in "${PG_BINDIR:+$PG_BINDIR/$tool}" "/usr/lib/postgresql/$major/bin/$tool" \
      "$(command -v "$tool" || true)"; do
    [ -n "$found" ] && [ -x "$found" ] || continue
    version=$("$found" --version | awk '{print $NF}')
    if [ "${version%%.*}" = "$major" ]; then
      echo "$found"
      return
    fi
  done
  die "no $tool of PostgreSQL $major found (install postgresql-client-$major or set PG_BINDIR)"
}
