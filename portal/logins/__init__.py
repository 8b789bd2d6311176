"""Logins: lockout after failed passwords, throttled password-reset mail, the staff's
second factor (TOTP with recovery codes) and session lifetimes."""
