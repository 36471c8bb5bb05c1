#!/usr/bin/env bash
# The restore drill (docs/deploy.md, "Backups"): back up a database with deploy/backup.sh,
# restore the dump into a scratch database with deploy/restore.sh, and compare every table's
# row count and the schema version; the scratch database is dropped afterwards.
#
#   deploy/restore_check.sh DATABASE_URL
#
# The role needs CREATEDB on that server. Run it after each change of PostgreSQL version or
# backup set-up, and from time to time: a backup never restored is a hope, not a backup.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

source_url="${1:-${DATABASE_URL:?give the DATABASE_URL to back up}}"
source_url="${source_url/postgresql+psycopg:/postgresql:}"
scratch="ess_restore_check_$(date -u +%Y%m%d%H%M%S)_$$"
scratch_url="${source_url%/*}/$scratch"
work="$(mktemp -d)"
cleanup() {
  psql "${source_url%/*}/postgres" -Xqc "DROP DATABASE IF EXISTS \"$scratch\"" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

counts() {
  psql "$1" -XAt <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) FROM %I.%I;', tablename, schemaname, tablename)
FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename
\gexec
SQL
}

start=$(date +%s)
UPLOAD_DIR= BACKUP_KEEP_DAYS=100000 "$here/backup.sh" "$source_url" "$work"
dump="$(ls "$work"/ess-*.dump)"
counts "$source_url" > "$work/before.txt"
psql "${source_url%/*}/postgres" -Xqc "CREATE DATABASE \"$scratch\""
"$here/restore.sh" "$dump" "$scratch_url"
counts "$scratch_url" > "$work/after.txt"
if ! diff -u "$work/before.txt" "$work/after.txt"; then
  echo "The restored database differs from the one backed up (rows written meanwhile show here too)." >&2
  exit 1
fi
echo "restore check: $(wc -l < "$work/after.txt") tables, $(awk '{s += $2} END {print s}' "$work/after.txt") rows, identical; $(( $(date +%s) - start )) s"
