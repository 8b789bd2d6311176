#!/usr/bin/env bash
# Install the Debian packages that tests/checks/mailservers.py needs (Dovecot for POP3/IMAP,
# Postfix for SMTP) WITHOUT starting the system-wide services on the standard ports: the tests
# run their own instances on loopback addresses and high ports.
#
# Idempotent: exits 0 at once when everything is already installed.
# Usage (as root): bash tests/checks/install-mailservers.sh
set -euo pipefail

PACKAGES=(dovecot-core dovecot-pop3d dovecot-imapd postfix)
POLICY=/usr/sbin/policy-rc.d

log() { echo "install-mailservers: $*" >&2; }

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

system_daemon_pids() {
    # PIDs of a Dovecot or Postfix master running from the system configuration. Test instances
    # (tests/checks/mailservers.py) name their own configuration with -c, or MAIL_CONFIG for
    # Postfix, and are left alone.
    local pid cmd
    for pid in $(pgrep -x dovecot 2>/dev/null || true) $(pgrep -x master 2>/dev/null || true); do
        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
        case "$cmd" in
            *" -c "*) continue ;;
        esac
        if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -q '^MAIL_CONFIG='; then
            continue
        fi
        if [[ "$cmd" == */usr/sbin/dovecot* || "$cmd" == */usr/lib/postfix/sbin/master* ]]; then
            echo "$pid"
        fi
    done
}

stop_system_daemons() {
    # The packages must not leave a system Dovecot/Postfix on 25/110/143/993/995 (policy-rc.d
    # keeps them from starting at all; this is the safety net).
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
        for svc in dovecot postfix; do
            systemctl stop "$svc" >/dev/null 2>&1 || true
            systemctl disable "$svc" >/dev/null 2>&1 || true
        done
    fi
    local pids
    pids=$(system_daemon_pids)
    if [[ -n "$pids" ]]; then
        log "stopping system mail daemons: $(echo $pids)"
        for svc in dovecot postfix; do
            if [[ -x /etc/init.d/$svc ]]; then /etc/init.d/$svc stop >/dev/null 2>&1 || true; fi
        done
        sleep 1
        pids=$(system_daemon_pids)
        if [[ -n "$pids" ]]; then
            kill $pids 2>/dev/null || true
            sleep 1
        fi
    fi
    if command -v ss >/dev/null 2>&1; then
        local busy
        busy=$(ss -ltnH 2>/dev/null | awk '{print $4}' | grep -E ':(25|110|143|993|995)$' || true)
        if [[ -n "$busy" ]]; then
            log "warning: standard mail ports still in use: $(echo $busy)"
        fi
    fi
}

if [[ ${#missing[@]} -eq 0 ]]; then
    stop_system_daemons
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    log "error: packages missing (${missing[*]}) and not running as root; run as root:"
    log "  sudo bash $0"
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    log "error: packages missing (${missing[*]}) and apt-get is not available"
    exit 1
fi

log "installing ${missing[*]}"

# Keep maintainer scripts from starting services: policy-rc.d exiting 101 forbids invoke-rc.d.
backup=""
if [[ -e "$POLICY" ]]; then
    backup=$(mktemp /usr/sbin/policy-rc.d.saved.XXXXXX)
    cp -p "$POLICY" "$backup"
fi
restore_policy() {
    if [[ -n "$backup" ]]; then
        mv -f "$backup" "$POLICY"
    else
        rm -f "$POLICY"
    fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by tests/checks/install-mailservers.sh during the install\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string mail.new.example" | debconf-set-selections

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"
}

if ! apt_install; then
    log "install failed; running apt-get update and retrying"
    if ! apt-get update -q || ! apt_install; then
        log "error: apt-get could not install ${missing[*]}"
        exit 1
    fi
fi

restore_policy
trap - EXIT

stop_system_daemons
log "installed ${missing[*]}"
exit 0
