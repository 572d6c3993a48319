#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh into an EMPTY database and an empty media folder.
# README, « Sauvegarde et restauration ».
#
#   DATABASE_URL=postgres://user@host:5432/ami_restored MEDIA_ROOT=/srv/ami/media scripts/restore.sh BACKUP.dump
#
# The media archive is BACKUP-media.tar.gz beside the dump (or the second argument). The sums written by
# backup.sh are checked first when they are there. It refuses (exit 1, nothing changed) a database that holds
# any table, sequence or view, and a MEDIA_ROOT that holds any file: create the database first (createdb), then
# run the migrations only if the restored schema is older than the code (`manage.py migrate` applies the rest).
# The restore runs in one transaction: it all happens or nothing does.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must name the EMPTY PostgreSQL database to restore into}"
: "${MEDIA_ROOT:?MEDIA_ROOT must name the (empty or absent) folder to restore the uploaded files into}"
dump="${1:?usage: restore.sh BACKUP.dump [BACKUP-media.tar.gz]}"
media="${2:-${dump%.dump}-media.tar.gz}"
pg="${PG_BINDIR:+$PG_BINDIR/}"
[ -f "$dump" ] || { echo "restore.sh: no dump at $dump." >&2; exit 1; }
[ -f "$media" ] || { echo "restore.sh: no media archive at $media." >&2; exit 1; }

sums="${dump%.dump}.sha256"
if [ -f "$sums" ]; then
  (cd "$(dirname "$sums")" && sha256sum --quiet --check "$(basename "$sums")") \
    || { echo "restore.sh: the backup does not match its SHA-256 sums ($sums): refused." >&2; exit 1; }
fi

relations="$("${pg}psql" "$DATABASE_URL" -XtAq -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")"
if [ "$relations" != "0" ]; then
  echo "restore.sh: the database is not empty ($relations tables, views or sequences): refused." >&2
  echo "restore.sh: restore into a new empty database (createdb), never over a live one." >&2
  exit 1
fi
if [ -d "$MEDIA_ROOT" ] && [ -n "$(ls -A "$MEDIA_ROOT")" ]; then
  echo "restore.sh: MEDIA_ROOT=$MEDIA_ROOT is not empty: refused." >&2
  exit 1
fi

"${pg}pg_restore" --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$DATABASE_URL" "$dump"
mkdir -p "$MEDIA_ROOT"
tar -C "$MEDIA_ROOT" -xzf "$media"
echo "restored $dump into the database and $media into $MEDIA_ROOT"
