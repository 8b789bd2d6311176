#!/usr/bin/env bash
# Import speed: 100,000 settings-sheet rows into PostgreSQL, side by side with
# what a person would do by hand: psql's \copy of the same file into a bare
# table (no checks, no history, no idempotence: the floor, not a rival).
#
#   bash bench/import_speed.sh [ROWS]
#
# Uses a scratch database `bench_import` on 127.0.0.1:5432 (dropped first).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
py=.venv/bin/python
csv=var/bench-sheets.csv
changed=var/bench-sheets-changed.csv
export SECRET_KEY=bench-only DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import

$py bench/make_sheets_csv.py "$rows" "$csv"
$py bench/make_sheets_csv.py "$rows" "$changed" --changed 0.1
psql -q -h 127.0.0.1 -U postgres -d postgres -c 'DROP DATABASE IF EXISTS bench_import' -c 'CREATE DATABASE bench_import'
$py manage.py migrate -v0

t() { local start=$(date +%s.%N); "$@" >/dev/null; echo "$(echo "$(date +%s.%N) - $start" | bc)"; }

copy=$(t psql -q -h 127.0.0.1 -U postgres -d bench_import \
  -c 'CREATE TABLE raw_sheets (customer text, customer_name text, email text, username text, protocol text, incoming_host text, incoming_port int, incoming_security text, outgoing_host text, outgoing_port int, outgoing_security text, smtp_auth text)' \
  -c "\\copy raw_sheets FROM '$csv' WITH (FORMAT csv, HEADER true)")
dry=$(t $py manage.py import_sheets "$csv" --dry-run)
first=$(t $py manage.py import_sheets "$csv")
again=$(t $py manage.py import_sheets "$csv")
tenth=$(t $py manage.py import_sheets "$changed")

printf '%s rows on %s\n' "$rows" "$(date -u +%Y-%m-%d)"
printf '| step | seconds |\n|---|---|\n'
printf '| psql \\copy into a bare table (floor) | %.1f |\n' "$copy"
printf '| import_sheets --dry-run (check all, write nothing) | %.1f |\n' "$dry"
printf '| import_sheets, first time (all created) | %.1f |\n' "$first"
printf '| import_sheets, same file again (all unchanged) | %.1f |\n' "$again"
printf '| import_sheets, 10%% of rows changed | %.1f |\n' "$tenth"
