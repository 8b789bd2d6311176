"""The test suite's settings: production's (DEBUG off, as the tests run), with the one
value production must have and a test run cannot guess, the portal's public address.
Real worker processes that tests start inherit both through the environment."""

import os
from pathlib import Path

from django.core.checks.security.base import (
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)

os.environ.setdefault("PORTAL_URL", "https://portal.hosting.example")
# Web servers and workers the tests start refuse what production refuses
# (portal/deployment.py): a short key from the command line (SECRET_KEY=t) becomes a
# long one, and mail goes to files unless a test points it at its SMTP server.
_key = os.environ.get("SECRET_KEY", "")
if len(_key) < SECRET_KEY_MIN_LENGTH or len(set(_key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
    os.environ["SECRET_KEY"] = "test-only-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2
os.environ.setdefault(
    "EMAIL_URL", f"filemail://{Path(__file__).resolve().parent.parent / 'var' / 'test-mail'}"
)
# The test client and live servers speak plain http; production redirects it to https
# (tests/portal/test_deploy_settings.py checks that).
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from portal.settings import *  # noqa: E402, F403
