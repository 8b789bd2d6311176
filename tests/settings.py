"""The test suite's settings: production's (DEBUG off, as the tests run), with the one
value production must have and a test run cannot guess, the portal's public address.
Real worker processes that tests start inherit both through the environment."""

import os

os.environ.setdefault("PORTAL_URL", "https://portal.hosting.example")
# The test client and live servers speak plain http; production redirects it to https
# (tests/portal/test_deploy_settings.py checks that).
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from portal.settings import *  # noqa: F403
