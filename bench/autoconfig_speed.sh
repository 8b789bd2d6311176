#!/usr/bin/env bash
# Autoconfig speed: the portal's Thunderbird autoconfig endpoint side by side
# with automx2 (a standalone autoconfig server from PyPI) serving the same
# domain, in one run on this machine, both under gunicorn with 2 sync workers,
# loaded one after the other by wrk with the same URL and query.
#
#   bash bench/autoconfig_speed.sh
#
# Needs, besides the project's .venv:
#   - automx2 in a virtualenv of its own, for this benchmark only:
#       python3 -m venv var/automx2-venv && var/automx2-venv/bin/pip install automx2 gunicorn
#   - wrk (Debian: apt-get install -y wrk)
#   - PostgreSQL on 127.0.0.1:5432, user postgres, trust auth. The database
#     `bench_autoconfig` is created when missing and kept (migrated, seeded).
#
# automx2's config and seed data are written to var/automx2/ on every run
# (automx2.conf, seed.json) and its SQLite database is made anew from the
# seed through automx2's own /initdb/ view.
#
# Environment: PORT1 (portal, default 18401), PORT2 (automx2, default 18402),
# DURATION (wrk, default 20s), THREADS (2), CONNECTIONS (32).
# Everything listens on and is sent to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

port1=${PORT1:-18401}
port2=${PORT2:-18402}
duration=${DURATION:-20s}
threads=${THREADS:-2}
connections=${CONNECTIONS:-32}
path='/mail/config-v1.1.xml?emailaddress=test01@aaabb.co.jp'
url1="http://127.0.0.1:$port1$path"
url2="http://127.0.0.1:$port2$path"

py=.venv/bin/python
ax=var/automx2-venv
axdir=$root/var/automx2
out=var/bench-autoconfig
mkdir -p "$out" "$axdir"

[[ -x $ax/bin/gunicorn && -x $ax/bin/python ]] || {
  echo "missing $ax: python3 -m venv $ax && $ax/bin/pip install automx2 gunicorn" >&2
  exit 1
}
command -v wrk >/dev/null || { echo "missing wrk: apt-get install -y wrk" >&2; exit 1; }
[[ -x .venv/bin/gunicorn ]] || .venv/bin/pip install -q gunicorn

for port in "$port1" "$port2"; do
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
    echo "port $port on 127.0.0.1 is already in use; set PORT1/PORT2" >&2
    exit 1
  fi
done

scratch=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_autoconfig
export DEBUG=false ALLOWED_HOSTS=127.0.0.1,localhost PORTAL_URL=https://portal.bench.example
# What production refuses to start without (portal/deployment.py); no mail is sent.
export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
export EMAIL_URL=smtp://127.0.0.1:25
# Saving a ServerName queues a findings recompute: keep that message in a
# scratch broker folder that is thrown away, not in var/broker.
export CELERY_BROKER_URL=filesystem:// CELERY_BROKER_DIR=$scratch/broker

# --- the portal's database: bench_autoconfig, migrated and seeded ---
if ! psql -qtA -h 127.0.0.1 -U postgres -d postgres \
  -c "SELECT 1 FROM pg_database WHERE datname = 'bench_autoconfig'" | grep -q 1; then
  psql -q -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE bench_autoconfig'
fi
$py manage.py migrate -v0
$py manage.py shell -c '
from accounts.models import Customer, MailDomain, ServerName
server, _ = ServerName.objects.update_or_create(hostname="mail.hosting.example", defaults={"status": "current"})
customer, _ = Customer.objects.update_or_create(slug="aaabb", defaults={"name": "A"})
MailDomain.objects.update_or_create(domain="aaabb.co.jp", defaults={"customer": customer, "server": server, "protocol": "imap"})
' >/dev/null

# --- automx2: config, seed data, a fresh SQLite database seeded by /initdb/ ---
cat >"$axdir/automx2.conf" <<EOF
[automx2]
# Benchmark-only instance, written by bench/autoconfig_speed.sh.
loglevel = WARNING
db_echo = no
db_uri = sqlite:///$axdir/automx2.db
proxy_count = 0
EOF
cat >"$axdir/seed.json" <<'EOF'
{
  "version": 2,
  "provider": "Hosting Example",
  "domains": [{"name": "aaabb.co.jp"}],
  "servers": [
    {"type": "imap", "name": "mail.hosting.example", "port": 993},
    {"type": "pop", "name": "mail.hosting.example", "port": 995},
    {"type": "smtp", "name": "mail.hosting.example", "port": 465},
    {"type": "smtp", "name": "mail.hosting.example", "port": 587, "prio": 20}
  ]
}
EOF
export AUTOMX2_CONF=$axdir/automx2.conf
rm -f "$axdir/automx2.db"
$ax/bin/python - "$axdir/seed.json" <<'EOF' 2>"$out/automx2-seed.log"
import json, sys
from automx2.server import app
with open(sys.argv[1]) as f:
    response = app.test_client().post("/initdb/", json=json.load(f))
if response.status_code != 200 or b"now prepared" not in response.data:
    sys.exit(f"automx2 /initdb/ failed: {response.status_code} {response.data!r}")
EOF
automx2_version=$($ax/bin/python -c 'import automx2; print(automx2.__version__)' 2>/dev/null)

# --- start both servers, 2 sync workers each, loopback only ---
.venv/bin/gunicorn portal.wsgi -w 2 -b "127.0.0.1:$port1" >"$out/portal.log" 2>&1 &
pids+=($!)
ax_opts=()
# gunicorn ≥ 24 opens a control socket in ~/.gunicorn unless told not to.
if $ax/bin/gunicorn --help 2>/dev/null | grep -q -- --no-control-socket; then
  ax_opts+=(--no-control-socket)
fi
$ax/bin/gunicorn automx2.server:app -w 2 -b "127.0.0.1:$port2" "${ax_opts[@]}" \
  >"$out/automx2.log" 2>&1 &
pids+=($!)

wait_up() {
  local url=$1 i
  for i in $(seq 1 60); do
    if curl -sf -o /dev/null --max-time 2 "$url"; then return 0; fi
    sleep 0.5
  done
  echo "no answer from $url after 30 s; see $out/*.log" >&2
  exit 1
}
wait_up "$url1"
wait_up "$url2"

# Both must answer with a clientConfig listing the same four servers.
check() {
  local name=$1 url=$2 body
  body=$(curl -sf --max-time 5 "$url")
  printf '%s\n' "$body" >"$out/$name.xml"
  local want
  for want in '<clientConfig' '<incomingServer type="imap">' '<incomingServer type="pop3">' \
    '<port>993</port>' '<port>995</port>' '<port>465</port>' '<port>587</port>' \
    '<socketType>STARTTLS</socketType>' '%EMAILADDRESS%'; do
    if [[ $body != *"$want"* ]]; then
      echo "$name: answer lacks $want:" >&2
      printf '%s\n' "$body" >&2
      exit 1
    fi
  done
  if [[ $(grep -o '<hostname>mail.hosting.example</hostname>' <<<"$body" | wc -l) -ne 4 ]]; then
    echo "$name: expected 4 servers named mail.hosting.example" >&2
    exit 1
  fi
}
check portal "$url1"
check automx2 "$url2"

# --- warm up, then measure each in turn ---
wrk -t"$threads" -c"$connections" -d3s "$url1" >/dev/null
wrk -t"$threads" -c"$connections" -d3s "$url2" >/dev/null
wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url1" >"$out/wrk-portal.txt"
wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url2" >"$out/wrk-automx2.txt"

# wrk prints latencies as 812.00us, 4.53ms, 1.02s, 1.50m
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1;
    else if (v ~ /m$/) n *= 60000; else if (v ~ /h$/) n *= 3600000;
    else if (v ~ /s$/) n *= 1000;
    printf "%.2f", n }'
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
pct() { to_ms "$(awk -v p="$2%" '$1 == p { print $2 }' "$1")"; }
errors() {
  awk '/Non-2xx or 3xx responses:/ { n += $NF }
       /Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
       END { print n + 0 }' "$1"
}

p_rps=$(rps "$out/wrk-portal.txt"); a_rps=$(rps "$out/wrk-automx2.txt")
p50=$(pct "$out/wrk-portal.txt" 50); p99=$(pct "$out/wrk-portal.txt" 99)
a50=$(pct "$out/wrk-automx2.txt" 50); a99=$(pct "$out/wrk-automx2.txt" 99)
[[ -n $p_rps && -n $a_rps ]] || { echo "could not read wrk output in $out/" >&2; exit 1; }
ratio=$(awk -v a="$p_rps" -v b="$a_rps" 'BEGIN { printf "%.2f", a / b }')

printf '%s, wrk -t%s -c%s -d%s --latency, GET %s\n\n' \
  "$(date -u +%Y-%m-%d)" "$threads" "$connections" "$duration" "$path"
printf '| server | requests/s | p50 | p99 |\n|---|---|---|---|\n'
printf '| portal (Django, gunicorn -w 2, PostgreSQL) | %.0f | %s ms | %s ms |\n' "$p_rps" "$p50" "$p99"
printf '| automx2 %s (Flask, gunicorn -w 2, SQLite) | %.0f | %s ms | %s ms |\n' \
  "$automx2_version" "$a_rps" "$a50" "$a99"
printf '\nratio (portal / automx2 requests/s): %s×\n' "$ratio"
p_err=$(errors "$out/wrk-portal.txt"); a_err=$(errors "$out/wrk-automx2.txt")
if [[ $p_err != 0 || $a_err != 0 ]]; then
  printf 'errors (non-2xx or socket): portal %s, automx2 %s (see %s/wrk-*.txt)\n' "$p_err" "$a_err" "$out"
fi
