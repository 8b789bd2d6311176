#!/usr/bin/env bash
# Install Debian's caddy for the stack test (tests/deploy/test_stack.py) WITHOUT starting
# the system-wide service on ports 80/443: the test runs its own Caddy on high ports.
# Idempotent; needs root to install.
set -euo pipefail
POLICY=/usr/sbin/policy-rc.d

if command -v caddy >/dev/null 2>&1; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
    echo "install-caddy: not root: the stack test skips unless caddy is installed" >&2
    exit 0
fi

# policy-rc.d exiting 101 keeps the package's scripts from starting caddy.service.
backup=""
if [[ -e "$POLICY" ]]; then
    backup=$(mktemp /usr/sbin/policy-rc.d.saved.XXXXXX)
    cp -p "$POLICY" "$backup"
fi
restore_policy() { if [[ -n "$backup" ]]; then mv -f "$backup" "$POLICY"; else rm -f "$POLICY"; fi; }
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends caddy >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends caddy; }
# Where systemd runs, make sure the package left no system Caddy on 80/443.
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    systemctl disable --now caddy >/dev/null 2>&1 || true
fi
