"""What every process loads when Django starts (a command from cron, a web worker): not the
probe's network and TLS machinery, not the campaigns' — those load when first used."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.processes import PROJECT


def test_django_starts_without_the_probe_and_the_campaigns():
    script = (
        "import sys, django; django.setup();"
        " print(sorted(m for m in ('checks.probes', 'cryptography.x509',"
        " 'portal.campaigns.lifecycle') if m in sys.modules))"
    )
    environment = os.environ | {"DJANGO_SETTINGS_MODULE": "portal.settings", "SECRET_KEY": "t"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=environment, capture_output=True,
        text=True, timeout=120, check=True,
    )  # fmt: skip
    assert result.stdout.strip().splitlines()[-1] == "[]"
