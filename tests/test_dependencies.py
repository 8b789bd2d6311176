"""The production lock file pins every dependency, with hashes, inside pyproject's ranges;
the ranges' floors exclude releases with known advisories."""

import re
import tomllib
from pathlib import Path

from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(settings.BASE_DIR)
PINNED = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", re.MULTILINE)
# Releases with published security advisories the floors must stay above.
ADVISORY_FLOORS = {
    "django": "5.2.19",
    "cryptography": "46.0.5",
    "gunicorn": "23.0",
    "dnspython": "2.6.1",
    "tqdm": "4.66.3",
}


def project_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [Requirement(r) for r in pyproject["project"]["dependencies"]]


def locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(name): version for name, version in PINNED.findall(text)}


def test_every_dependency_is_pinned_inside_its_range():
    pins = locked()
    for requirement in project_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: run `make lock`"
        assert Version(pins[name]) in requirement.specifier, (name, pins[name])


def test_every_pin_has_a_hash():
    blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", (ROOT / "requirements.lock").read_text())
    pins = [b for b in blocks if PINNED.match(b)]
    assert pins and all("--hash=sha256:" in block for block in pins)


def test_floors_exclude_releases_with_known_advisories():
    floors = {
        canonicalize_name(r.name): min(
            (Version(s.version) for s in r.specifier if s.operator == ">="), default=None
        )
        for r in project_requirements()
    }
    for name, safe in ADVISORY_FLOORS.items():
        assert floors[name] is not None and floors[name] >= Version(safe), name
