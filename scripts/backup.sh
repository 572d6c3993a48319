#!/usr/bin/env bash
# Backs up the portal: the database (pg_dump, custom format) then the uploaded files (a tar of MEDIA_ROOT),
# timestamped, with their SHA-256 sums. README, « Sauvegarde et restauration ».
#
#   DATABASE_URL=postgres://user@host:5432/ami MEDIA_ROOT=/srv/ami/media scripts/backup.sh [FOLDER]
#
# FOLDER defaults to var/backups. Writes FOLDER/ami-<UTC time>.dump, FOLDER/ami-<UTC time>-media.tar.gz and
# FOLDER/ami-<UTC time>.sha256, readable by their owner only, and prints the path of the dump. The database
# is dumped first: every file a dumped row names was written before that row, so it is in the tar.
# PG_BINDIR names the folder of pg_dump when it must match a server version (else pg_dump from PATH).
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up (postgres://user@host:5432/name)}"
: "${MEDIA_ROOT:?MEDIA_ROOT must name the folder of uploaded files (attachments, receipts, exports)}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "backup.sh: DATABASE_URL must be a postgres:// URL (the embedded SQLite is a file: copy it)." >&2; exit 2 ;;
esac
[ -d "$MEDIA_ROOT" ] || { echo "backup.sh: MEDIA_ROOT=$MEDIA_ROOT is not a folder." >&2; exit 2; }

folder="${1:-var/backups}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="ami-$stamp"
umask 077
mkdir -p "$folder"

# Written under a temporary name, renamed once complete: a backup that is there is whole.
"${PG_BINDIR:+$PG_BINDIR/}pg_dump" --format=custom --no-owner --no-privileges \
  --file "$folder/$name.dump.partial" "$DATABASE_URL"
tar -C "$MEDIA_ROOT" -czf "$folder/$name-media.tar.gz.partial" .
mv "$folder/$name.dump.partial" "$folder/$name.dump"
mv "$folder/$name-media.tar.gz.partial" "$folder/$name-media.tar.gz"
(cd "$folder" && sha256sum "$name.dump" "$name-media.tar.gz" > "$name.sha256")
echo "$folder/$name.dump"
