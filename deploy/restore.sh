#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into a database that has no tables yet (a new one:
# createdb, or your provider's console), then say what it holds.
#
#   deploy/restore.sh DUMP TARGET_DATABASE_URL
#
# It refuses a database that has tables: restore next to the damaged one, check it, then point
# DATABASE_URL at it (docs/deploy.md, "Backups"). The uploads: tar -C "$UPLOAD_DIR" -xzf FILE.
set -euo pipefail

dump="${1:?give the .dump file}"
url="${2:?give the target DATABASE_URL}"
url="${url/postgresql+psycopg:/postgresql:}"

tables="$(psql "$url" -XAtc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
if [[ "$tables" != "0" ]]; then
  echo "The target database already has $tables tables: restore into a new, empty one." >&2
  exit 1
fi
pg_restore --exit-on-error --no-owner --no-privileges --single-transaction --dbname="$url" "$dump"
psql "$url" -XAtc "SELECT 'schema version: ' || version_num FROM alembic_version"
psql "$url" -XAtc "SELECT 'orders: ' || count(*) FROM \"order\""
