"""The campaign's funnel over time is drawn on the server as SVG, in the page's
language, with the same numbers as the table under it."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Customer
from portal.campaigns import lifecycle
from portal.campaigns.chart import (
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    funnel_chart,
    funnel_rows,
)
from portal.models import Campaign, CampaignMailbox
from tests.conftest import PLAIN_SHEET, login_staff, make_mailbox

DAY = date(2026, 11, 1)


def test_each_step_is_a_line_from_the_first_day_to_the_last_scaled_to_the_targeted_mailboxes():
    timeline = [(DAY, [2, 0, 0, 0]), (DAY + timedelta(days=1), [4, 2, 1, 0])]
    rows = funnel_rows(timeline, targeted=4)
    with translation.override("ja"):
        chart = funnel_chart(rows, targeted=4)

    assert rows == [(DAY, [2, 2, 0, 0, 0]), (DAY + timedelta(days=1), [0, 4, 2, 1, 0])]
    lines = {s.step: (s.name, s.points, s.last) for s in chart.series}
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    middle = f"{TOP + (HEIGHT - TOP - BOTTOM) / 2:g}"
    assert lines["pending"] == ("未送信", f"{LEFT},{middle} {right},{bottom}", 0)
    assert lines["notified"] == ("通知済み", f"{LEFT},{middle} {right},{TOP}", 4)
    assert lines["verified"] == ("確認済み（修正を確認）", f"{LEFT},{bottom} {right},{bottom}", 0)
    assert [t.text for t in chart.x_ticks] == ["11/1", "11/2"]
    assert [t.text for t in chart.y_ticks] == ["0", "2", "4"]


def test_a_campaign_without_a_day_yet_has_no_chart():
    assert funnel_chart([], targeted=3) is None


@pytest.fixture
def running(db, django_capture_on_commit_callbacks):
    from checks.findings import findings_recompute

    customers = [
        Customer.objects.create(slug=f"c{n}", name=f"顧客{n}", contact_emails=f"a@c{n}.example")
        for n in range(3)
    ]
    for customer in customers:
        make_mailbox(customer, f"info@{customer.slug}.example", PLAIN_SHEET)
    findings_recompute(force=True)
    campaign = Campaign.objects.create(
        name="SSL 移行", cutover=timezone.localdate() + timedelta(days=30), target_codes=[]
    )
    campaign.target_customers.set(customers)
    with django_capture_on_commit_callbacks(execute=False):
        lifecycle.campaign_launch(campaign)
        lifecycle.campaign_start(campaign.pk)  # what the launch queues for a worker
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(started_at=now - timedelta(days=2))
    entries = list(CampaignMailbox.objects.filter(campaign=campaign).order_by("pk"))
    CampaignMailbox.objects.filter(pk__in=[e.pk for e in entries]).update(
        notified_at=now - timedelta(days=2)
    )
    CampaignMailbox.objects.filter(pk__in=[e.pk for e in entries[:2]]).update(
        viewed_at=now - timedelta(days=1)
    )
    CampaignMailbox.objects.filter(pk=entries[0].pk).update(confirmed_at=now, verified_at=now)
    return campaign


def test_the_campaign_page_draws_the_funnel_in_japanese_with_the_tables_numbers(
    running, client, support
):
    login_staff(client, support)
    page = client.get(
        reverse("campaign_detail", kwargs={"code": running.code}), HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()

    svg = re.search(r"<svg class=\"funnel-chart\".*?</svg>", page, re.DOTALL).group(0)
    assert "style=" not in svg and "<script" not in svg
    titles = re.findall(r"<title[^>]*>(.*?)</title>", svg)
    assert titles == [
        "日ごとの各段階のメールアカウント数",
        "未送信: 0",
        "通知済み: 3",
        "閲覧済み: 2",
        "変更報告あり: 1",
        "確認済み（修正を確認）: 1",
    ]
    assert len(re.findall(r"<polyline ", svg)) == 5
    notified = re.search(r'class="line notified" fill="none" points="([^"]*)"', svg).group(1)
    assert len(notified.split()) == 3 and notified.startswith(f"{LEFT},")  # three days
    table = re.search(r"<table class=\"funnel-table\">.*?</table>", page, re.DOTALL).group(0)
    rows = [
        re.findall(r"<td class=\"num\">(\d+)</td>", row)
        for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table)
    ]
    assert rows == [
        ["0", "3", "0", "0", "0"],
        ["0", "3", "2", "0", "0"],
        ["0", "3", "2", "1", "1"],
    ]
