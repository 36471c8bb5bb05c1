#!/usr/bin/env bash
# A backup of ESS Marché: the database (pg_dump, custom format, checked by reading its table of
# contents back) and, when UPLOAD_DIR is set, the uploaded photos (tar). Old backups are removed
# after BACKUP_KEEP_DAYS (14). docs/deploy.md, "Backups", runs it from a systemd timer.
#
#   deploy/backup.sh [DATABASE_URL] [FOLDER]
#   (defaults: $DATABASE_URL, and $BACKUP_DIR or /var/backups/ess)
#
# pg_dump takes a consistent snapshot while the site runs; nothing needs to stop.
set -euo pipefail

url="${1:-${DATABASE_URL:?give a DATABASE_URL (postgresql://user@host/db)}}"
folder="${2:-${BACKUP_DIR:-/var/backups/ess}}"
keep_days="${BACKUP_KEEP_DAYS:-14}"
url="${url/postgresql+psycopg:/postgresql:}"   # the app's SQLAlchemy URL, for libpq
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

mkdir -p "$folder"
umask 077   # the dump holds personal data and gift card codes
dump="$folder/ess-$stamp.dump"
pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$dump.part" "$url"
pg_restore --list "$dump.part" >/dev/null   # a dump that cannot be read is no backup
mv "$dump.part" "$dump"
echo "database: $dump ($(du -h "$dump" | cut -f1))"

if [[ -n "${UPLOAD_DIR:-}" && -d "$UPLOAD_DIR" ]]; then
  files="$folder/ess-uploads-$stamp.tar.gz"
  tar -C "$UPLOAD_DIR" -czf "$files.part" . && mv "$files.part" "$files"
  echo "uploads:  $files ($(du -h "$files" | cut -f1))"
fi

find "$folder" -maxdepth 1 -name 'ess-*' -type f -mtime "+$keep_days" -print -delete
