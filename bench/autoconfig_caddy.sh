#!/usr/bin/env bash
# Autoconfig through Caddy: Thunderbird's request to https://autoconfig.aaabb.co.jp/ the
# way production serves it — Caddy with deploy/Caddyfile (on-demand TLS, here from Caddy's
# internal CA), gunicorn behind it — beside the same request straight to gunicorn.
#
#   bash bench/autoconfig_caddy.sh
#
# Needs, besides the project's .venv: caddy and wrk (Debian: apt-get install -y caddy wrk),
# PostgreSQL on 127.0.0.1:5432 (user postgres, trust; database bench_autoconfig, made and
# seeded when missing), and root for `unshare --mount`: wrk resolves autoconfig.aaabb.co.jp
# to 127.0.0.1 through an /etc/hosts bound over the real one in its own mount namespace
# only (wrk has no --resolve; the name must be in the URL for SNI and Host).
#
# Environment: PORT1 (gunicorn, 18411), PORT2 (Caddy https, 18443), PORT3 (Caddy http,
# 18480), PORT4 (Caddy admin, 18419), DURATION (20s), THREADS (2), CONNECTIONS (32).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

web=${PORT1:-18411}
https_port=${PORT2:-18443}
http_port=${PORT3:-18480}
admin=${PORT4:-18419}
duration=${DURATION:-20s}
threads=${THREADS:-2}
connections=${CONNECTIONS:-32}
name=autoconfig.aaabb.co.jp
path='/mail/config-v1.1.xml?emailaddress=test01@aaabb.co.jp'
out=var/bench-autoconfig-caddy
mkdir -p "$out"

for tool in caddy wrk unshare; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y caddy wrk)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "needs root for unshare --mount (see the top of $0)" >&2; exit 1; }

scratch=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The production settings (deploy/portal.env.example's refusals pass), on loopback.
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_autoconfig
export DEBUG=false PORTAL_DEPLOYMENT=production BEHIND_TLS_PROXY=true TRUSTED_PROXY_COUNT=1
export PORTAL_URL=https://portal.bench.example ALLOWED_HOSTS=portal.bench.example
export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
export EMAIL_URL=smtp://127.0.0.1:25
export CELERY_BROKER_URL=filesystem:// CELERY_BROKER_DIR=$scratch/broker
export PORTAL_DOTENV=$scratch/no-dotenv

if ! psql -qtA -h 127.0.0.1 -U postgres -d postgres \
  -c "SELECT 1 FROM pg_database WHERE datname = 'bench_autoconfig'" | grep -q 1; then
  psql -q -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE bench_autoconfig'
fi
.venv/bin/python manage.py migrate -v0
.venv/bin/python manage.py shell -c '
from accounts.models import Customer, MailDomain, ServerName
server, _ = ServerName.objects.update_or_create(hostname="mail.hosting.example", defaults={"status": "current"})
customer, _ = Customer.objects.update_or_create(slug="aaabb", defaults={"name": "A"})
MailDomain.objects.update_or_create(domain="aaabb.co.jp", defaults={"customer": customer, "server": server, "protocol": "imap"})
' >/dev/null

.venv/bin/gunicorn portal.wsgi -w 2 -b "127.0.0.1:$web" >"$out/gunicorn.log" 2>&1 &
pids+=($!)
CADDY_HTTP_PORT=$http_port CADDY_HTTPS_PORT=$https_port CADDY_ADMIN=127.0.0.1:$admin \
  CADDY_CERT_ISSUER=internal CADDY_STORAGE=$scratch/caddy PORTAL_UPSTREAM=127.0.0.1:$web \
  XDG_CONFIG_HOME=$scratch/config HOME=$scratch \
  caddy run --config deploy/Caddyfile --adapter caddyfile >"$out/caddy.log" 2>&1 &
pids+=($!)

printf '127.0.0.1 localhost\n127.0.0.1 %s\n' "$name" >"$scratch/hosts"
resolved() { unshare --mount sh -c "mount --bind '$scratch/hosts' /etc/hosts && exec \"\$@\"" sh "$@"; }

direct="http://127.0.0.1:$web$path"
proxied="https://$name:$https_port$path"
for i in $(seq 1 60); do
  if curl -sf -o /dev/null -H "Host: $name" "$direct" &&
    curl -sf -o /dev/null --cacert "$scratch/caddy/pki/authorities/local/root.crt" \
      --resolve "$name:$https_port:127.0.0.1" "$proxied"; then
    break
  fi
  [[ $i == 60 ]] && { echo "no answer after 30 s; see $out/*.log" >&2; exit 1; }
  sleep 0.5
done
body=$(curl -sf --cacert "$scratch/caddy/pki/authorities/local/root.crt" \
  --resolve "$name:$https_port:127.0.0.1" "$proxied")
[[ $body == *'<hostname>mail.hosting.example</hostname>'* ]] || { echo "wrong answer: $body" >&2; exit 1; }

wrk -t"$threads" -c"$connections" -d3s -H "Host: $name" "$direct" >/dev/null
resolved wrk -t"$threads" -c"$connections" -d3s "$proxied" >/dev/null
wrk -t"$threads" -c"$connections" -d"$duration" --latency -H "Host: $name" "$direct" >"$out/wrk-direct.txt"
resolved wrk -t"$threads" -c"$connections" -d"$duration" --latency "$proxied" >"$out/wrk-caddy.txt"

to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000;
    else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
rps() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
pct() { to_ms "$(awk -v p="$2%" '$1 == p { print $2 }' "$1")"; }
errors() {
  awk '/Non-2xx or 3xx responses:/ { n += $NF }
       /Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$1"
}

printf '%s, wrk -t%s -c%s -d%s --latency, GET %s (Host %s)\n\n' \
  "$(date -u +%Y-%m-%d)" "$threads" "$connections" "$duration" "$path" "$name"
printf '| path | requests/s | p50 | p99 | errors |\n|---|---|---|---|---|\n'
for run in direct caddy; do
  file=$out/wrk-$run.txt
  label=$([[ $run == direct ]] && echo 'gunicorn -w 2, plain http' || echo "Caddy $(caddy version | cut -d' ' -f1), HTTPS (keep-alive) → gunicorn -w 2")
  printf '| %s | %.0f | %s ms | %s ms | %s |\n' "$label" "$(rps "$file")" "$(pct "$file" 50)" \
    "$(pct "$file" 99)" "$(errors "$file")"
done
