"""Every page carries a Content-Security-Policy without 'unsafe-inline', and no page
or template holds an inline script, an inline event handler or an inline style."""

import re
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from checks.findings import findings_recompute
from tests.conftest import login_staff

# A JSON data block (json_script) is not code; any other script must come from a file.
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE
)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)
HREF = re.compile(r"""href="([^"#]*)""")
# Following these would end the session or only download a file.
SKIP = ("/accounts/logout/", "/i18n/", "/static/")
MAX_PAGES = 250


def inline_code(html: str) -> list[str]:
    return [
        match.group(0)[:120]
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE)
        for match in pattern.finditer(html)
    ]


def crawl(client, *starts: str) -> dict[str, object]:
    """Every same-site page reachable from `starts` by links (in the admin, one page of
    each kind: filter and sort variants and other objects' pages are the same template)."""
    seen, pages, queue = set(), {}, deque(starts)
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        parts = urlsplit(url)
        admin = parts.path.startswith("/admin/")
        key = re.sub(r"/\d+/", "/N/", parts.path) if admin else url
        if key in seen or parts.path.startswith(SKIP) or parts.netloc:
            continue
        seen.add(key)
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="ja")
        pages[url] = response
        if response.status_code in (301, 302) and response["Location"].startswith("/"):
            queue.append(response["Location"])
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            for link in HREF.findall(response.content.decode()):
                link = link.replace("&amp;", "&")
                if link.startswith("?"):
                    link = parts.path + link
                if link.startswith("/"):
                    queue.append(link)
    return pages


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    findings_recompute(force=True)


@pytest.mark.parametrize(
    ("username", "starts"),
    [
        (None, ["/", "/accounts/login/", "/accounts/password_reset/"]),
        ("aaabb", ["/"]),
        ("multi", ["/"]),
        ("support", ["/staff/", "/staff/findings/?code=legacy-hostname"]),
        ("admin", ["/staff/", "/admin/"]),
    ],
)
def test_every_page_has_a_policy_and_no_inline_code(client, demo, username, starts):
    if username:
        user = get_user_model().objects.get(username=username)
        if username in ("support", "admin"):
            login_staff(client, user)
        else:
            client.force_login(user)
    pages = crawl(client, *starts)
    assert len(pages) > (1 if username is None else 5)
    problems = {}
    for url, response in pages.items():
        assert response.status_code < 500, url
        policy = response.get("Content-Security-Policy", "")
        if "script-src 'self'" not in policy or "unsafe-inline" in policy:
            problems[url] = f"policy: {policy!r}"
        elif "html" in response.get("Content-Type", ""):
            found = inline_code(response.content.decode())
            if found:
                problems[url] = found
    assert problems == {}


def test_no_template_holds_inline_code():
    templates = Path(settings.BASE_DIR) / "templates"
    problems = {
        str(path.relative_to(templates)): found
        for path in templates.rglob("*.html")
        if (found := inline_code(path.read_text()))
    }
    assert problems == {}


def test_the_policy_forbids_inline_code_and_framing(client, db):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy
