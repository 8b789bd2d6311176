"""No Japanese page shows a code slug (a finding code, a security or SMTP-AUTH value,
a probe error, a program id, a campaign or notice state) as visible text: every code a
person sees goes through portal.labels.label."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Confirmation, Customer, Mailbox
from checks.findings import CODES as FINDING_CODES
from checks.models import Endpoint, ProbeResult, Sweep
from checks.probes import NOT_ALLOWED
from checks.sweep import endpoints_sync
from portal.campaigns import lifecycle
from portal.guides.catalog import CATALOG
from portal.models import Campaign, CampaignMailbox, Notice
from tests.conftest import login_staff
from tests.portal.test_csp import crawl, demo  # noqa: F401  (fixture)

SLUGS = sorted(
    {
        *FINDING_CODES,
        "ssl",
        "starttls",
        "none",
        "(none)",
        "smtp-auth",
        "pop-before-smtp",
        "pop3",
        "imap",
        "smtp",
        # what a probe reports when it does not complete (checks.probes, checks.dialogs)
        "refused",
        "timeout",
        "unreachable",
        "dns-failure",
        "protocol-error",
        "starttls-not-offered",
        "starttls-refused",
        "tls-handshake-failed",
        NOT_ALLOWED,
        *CATALOG,
        *Campaign.State.values,
        *CampaignMailbox.Status.values,
        *Notice.Status.values,
    },
    key=len,
    reverse=True,
)
# A slug counts when it stands alone: not inside a host name, an address or a path.
SLUG = re.compile(r"(?<![\w.@/:-])(" + "|".join(re.escape(s) for s in SLUGS) + r")(?![\w.@/-])")
# Admin pages of installed packages speak their own (English) words.
THIRD_PARTY = ("/admin/django_celery_beat/",)
HIDDEN = re.compile(r"<(script|style|title)\b.*?</\1>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
TAG = re.compile(r"<[^>]*>")


def visible_text(page: str) -> str:
    return html.unescape(TAG.sub(" ", HIDDEN.sub(" ", page)))


def slugs_in(page: str) -> list[str]:
    text = visible_text(page)
    return [
        f"{m.group(1)!r} in …{text[max(0, m.start() - 40) : m.end() + 20]}…"
        for m in SLUG.finditer(text)
    ]


@pytest.fixture
def activity(demo, django_capture_on_commit_callbacks):  # noqa: F811
    """The demo after some work: every endpoint probed (one could not be resolved), a
    sweep running, a campaign running with its messages, a customer's confirmation."""
    endpoints_sync()
    sweep = Sweep.objects.create(batch_count=4, batches_done=1)
    for number, endpoint in enumerate(Endpoint.objects.all()):
        failed = number == 0
        result = ProbeResult.objects.create(
            endpoint=endpoint,
            sweep=sweep,
            checked_at=timezone.now(),
            reachable=not failed,
            error="dns-failure" if failed else "",
            error_message="cannot resolve it: [Errno -2] Name or service not known"
            if failed
            else "",
        )
        Endpoint.objects.filter(pk=endpoint.pk).update(last_result=result)
    campaign = Campaign.objects.create(
        name="SSL 移行", cutover=timezone.localdate() + timedelta(days=30), target_codes=[]
    )
    campaign.target_customers.set(Customer.objects.all())
    with django_capture_on_commit_callbacks(execute=False):
        lifecycle.campaign_launch(campaign)
        lifecycle.campaign_start(campaign.pk)
    mailbox = Mailbox.objects.filter(current_sheet__isnull=False).first()
    Mailbox.objects.filter(pk=mailbox.pk).update(mail_client="iphone")
    Confirmation.objects.create(mailbox=mailbox, mail_client="iphone")


def test_the_scan_finds_a_code_in_text_but_not_in_attributes_or_names():
    page = '<td class="none" title="ssl">mail.ssl.example / none</td><p>a@none.example</p>'
    assert [found.split(" ")[0] for found in slugs_in(page)] == ["'none'"]


@pytest.mark.parametrize(
    ("username", "starts"),
    [
        ("aaabb", ["/"]),
        ("multi", ["/"]),
        ("support", ["/staff/", "/staff/findings/?code=legacy-hostname"]),
        ("admin", ["/staff/", "/admin/"]),
    ],
)
def test_no_japanese_page_shows_a_code(client, activity, username, starts):
    user = get_user_model().objects.get(username=username)
    if username in ("support", "admin"):
        login_staff(client, user)
    else:
        client.force_login(user)
    pages = crawl(client, *starts)
    import sys

    sys.path.insert(0, "/tmp")

    import sys

    sys.path.insert(0, "/tmp")

    found = {
        url: slugs
        for url, response in pages.items()
        if response.status_code == 200
        and not url.startswith(THIRD_PARTY)
        and "html" in response.get("Content-Type", "")
        and (slugs := slugs_in(response.content.decode()))
    }
    assert found == {}
