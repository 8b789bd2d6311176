"""Reading deploy/'s files as the programs that use them do."""

from __future__ import annotations

from pathlib import Path

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy"


def env_template() -> dict[str, str]:
    """deploy/portal.env.example, read as systemd reads an EnvironmentFile."""
    values = {}
    for line in (DEPLOY / "portal.env.example").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values
