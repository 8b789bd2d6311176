"""Reading deploy/'s files as the programs that use them do."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent.parent.parent / "deploy"
INSTALLED_AT = "/opt/mail-portal"  # where deploy/README.md installs the portal


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


def exec_start(unit: str, **specifiers: str) -> list[str]:
    """A unit's ExecStart as the arguments to run here: the install directory is this
    checkout, its virtualenv this interpreter's; systemd's %-specifiers filled in."""
    text = (DEPLOY / "systemd" / unit).read_text()
    line = re.search(r"^ExecStart=(.+)$", text, re.MULTILINE).group(1)
    for name, value in specifiers.items():
        line = line.replace(f"%{name}", value)
    args = shlex.split(line)
    venv_bin = f"{INSTALLED_AT}/.venv/bin/"
    assert args[0].startswith(venv_bin), args[0]
    return [str(Path(sys.executable).parent / args[0].removeprefix(venv_bin)), *args[1:]]


def unit_setting(unit: str, name: str, default: str | None = None) -> str:
    """The value of a unit's `name=` line (the default when it has none)."""
    text = (DEPLOY / "systemd" / unit).read_text()
    found = re.search(rf"^{name}=(.+)$", text, re.MULTILINE)
    if found is None and default is None:
        raise LookupError(f"{unit} has no {name}=")
    return found.group(1) if found else default


def unit_directory(unit: str) -> str:
    return unit_setting(unit, "WorkingDirectory")
