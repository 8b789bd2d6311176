"""Tenant isolation: every customer URL, opened with another customer's ids, is a 404;
staff pages refuse customers. A customer URL that is not listed here fails the suite."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from checks.models import Endpoint
from tests.conftest import login_staff

# Prefixes of the URLs that are not customer pages (each has its own guard, tested below).
# ingest/: log shippers, by a source token, never a person (tests/portal/test_maillog_ingest.py).
NOT_CUSTOMER = ("staff/", "admin/", "accounts/", "i18n/", "ingest/")

# Customer URL name -> the kwargs that point it at beta's data.
OTHER_CUSTOMER_KWARGS = {
    "customer_home": lambda beta, mailbox: {"slug": beta.slug},
    "customer_mailbox": lambda beta, mailbox: {"slug": beta.slug, "code": mailbox.code},
    "guide_choose": lambda beta, mailbox: {"slug": beta.slug, "code": mailbox.code},
    "customer_guide": lambda beta, mailbox: {
        "slug": beta.slug,
        "code": mailbox.code,
        "client": "thunderbird",
    },
    "customer_confirm": lambda beta, mailbox: {"slug": beta.slug, "code": mailbox.code},
    "customer_sheet": lambda beta, mailbox: {"slug": beta.slug, "code": mailbox.code},
    "customer_profile": lambda beta, mailbox: {"slug": beta.slug, "code": mailbox.code},
}
# Routes that take no id: they can only show the person's own customers.
NO_IDS = {"home"}
# Signed links name one mailbox each: tests/portal/test_campaigns.py and
# tests/portal/test_guide_mail.py check that a link shows only its mailbox and that
# tampered or expired links open nothing.
SIGNED_LINKS = {"campaign_link", "guide_link"}
# An invitation's link sets one invited login's password once (tests/portal/test_invitations.py:
# a tampered link is a 404, a used or expired one says so).
SIGNED_LINKS |= {"invitation_accept"}
# Asked by mail programs before anyone logs in; they answer per domain, never per
# mailbox (tests/portal/test_autoconfig.py).
PUBLIC_BY_DESIGN = {"autoconfig", "autoconfig_well_known", "autodiscover", "autodiscover_cap"}
# Machines' paths with no customer's data: health as ok/failing, aggregate metrics behind
# a token (tests/portal/test_metrics.py), and Caddy's yes/no for a certificate.
PUBLIC_BY_DESIGN |= {"healthz", "metrics", "tls_ask"}


def named_routes(resolver=None, prefix=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from named_routes(pattern, route)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield route, pattern.name


def customer_route_names():
    return {name for route, name in named_routes() if not route.startswith(NOT_CUSTOMER)}


def test_every_customer_url_is_covered_by_the_isolation_test():
    assert (
        customer_route_names()
        == set(OTHER_CUSTOMER_KWARGS) | NO_IDS | SIGNED_LINKS | PUBLIC_BY_DESIGN
    )


@pytest.mark.parametrize("name", sorted(OTHER_CUSTOMER_KWARGS))
def test_customer_cannot_open_other_customers_pages(client, alpha_person, beta, beta_mailbox, name):
    client.force_login(alpha_person)
    url = reverse(name, kwargs=OTHER_CUSTOMER_KWARGS[name](beta, beta_mailbox))
    for response in (client.get(url), client.post(url)):
        assert response.status_code in (404, 405)
        assert beta_mailbox.email not in response.content.decode()
    assert not beta_mailbox.confirmations.exists()


def test_mailbox_of_another_customer_under_own_slug_is_404(client, alpha_person, beta_mailbox):
    client.force_login(alpha_person)
    url = reverse("customer_mailbox", kwargs={"slug": "alpha", "code": beta_mailbox.code})
    assert client.get(url).status_code == 404


def test_home_lists_only_own_customers(client, alpha_person, beta):
    client.force_login(alpha_person)
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("customer_home", kwargs={"slug": "alpha"})
    assert "ベータ工業" not in response.content.decode()


@pytest.fixture
def endpoint(db):
    return Endpoint.objects.create(
        host="mail.hosting.example", port=993, protocol="imap", security="ssl"
    )


def staff_urls(mailbox, endpoint):
    return [
        reverse("staff_home") + "?q=info",
        reverse("staff_mailbox", kwargs={"code": mailbox.code}),
        reverse("staff_sheet_edit", kwargs={"code": mailbox.code}),
        reverse("staff_customer", kwargs={"slug": mailbox.customer.slug}),
        reverse("customer_new"),
        reverse("customer_edit", kwargs={"slug": mailbox.customer.slug}),
        reverse("mail_domain_new", kwargs={"slug": mailbox.customer.slug}),
        reverse("invitation_new", kwargs={"slug": mailbox.customer.slug}),
        reverse("staff_servers"),
        reverse("import_list"),
        reverse("import_template", kwargs={"kind": "sheets"}),
        reverse("endpoint_list"),
        reverse("findings_dashboard") + "?code=legacy-hostname",
        reverse("staff_guide", kwargs={"code": mailbox.code, "client": "shuriken"}),
        reverse("staff_sheet", kwargs={"code": mailbox.code}),
        reverse("campaign_list"),
        reverse("domain_list"),
        reverse("campaign_new"),
        reverse("findings_export"),
        reverse("endpoint_detail", kwargs={"code": endpoint.code}),
        reverse("forecast"),
    ]


def staff_post_urls(endpoint, mailbox):
    return [
        reverse("sweep_now"),
        reverse("domains_check_now"),
        reverse("staff_guide_send", kwargs={"code": mailbox.code, "client": "thunderbird"}),
        reverse("endpoint_check_now", kwargs={"code": endpoint.code}),
    ]


# Need an import batch or a campaign; tests/portal/test_staff_imports.py and
# test_campaign_pages_are_staff_only below cover them.
COVERED_ELSEWHERE = {
    "import_detail",
    "import_apply",
    "import_discard",
    "campaign_detail",
    "campaign_edit",
    "campaign_export",
    "campaign_action",
    # Staff admins only: tests/portal/test_audit.py shows support staff and customers a 403.
    "audit_list",
    "audit_export",
    "campaign_test_message",
    # Need a mail domain or an invitation: test_customer_admin_pages_are_staff_only below.
    "mail_domain_edit",
    "mail_domain_delete",
    "invitation_resend",
    "member_remove",
}


def test_every_staff_url_is_listed_here(alpha_mailbox, endpoint):
    listed = {resolve(u.split("?")[0]).url_name for u in staff_urls(alpha_mailbox, endpoint)}
    listed |= {resolve(u).url_name for u in staff_post_urls(endpoint, alpha_mailbox)}
    staff_names = {name for route, name in named_routes() if route.startswith("staff/")}
    assert staff_names - COVERED_ELSEWHERE == listed


def test_staff_pages_refuse_customers(client, alpha_person, alpha_mailbox, endpoint):
    client.force_login(alpha_person)
    for url in staff_urls(alpha_mailbox, endpoint):
        assert client.get(url).status_code == 403, url
    for url in staff_post_urls(endpoint, alpha_mailbox):
        assert client.post(url).status_code == 403, url


def test_staff_pages_send_strangers_to_login(client, alpha_mailbox, endpoint):
    for url in staff_urls(alpha_mailbox, endpoint) + staff_post_urls(endpoint, alpha_mailbox):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login"))


def test_staff_flag_alone_is_not_enough(client, django_user_model, alpha_mailbox, endpoint):
    user = django_user_model.objects.create_user("nogroup", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(staff_urls(alpha_mailbox, endpoint)[1]).status_code == 403


def test_support_staff_open_every_staff_page(client, support, alpha_mailbox, endpoint):
    login_staff(client, support)
    for url in staff_urls(alpha_mailbox, endpoint):
        assert client.get(url).status_code == 200, url


def test_admin_site_is_for_staff_admins_only(client, support, staff_admin, alpha_person):
    for user in (alpha_person, support):
        client.force_login(user)
        assert client.get("/admin/").status_code == 302
    login_staff(client, staff_admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/servername/").status_code == 200
    assert client.get("/admin/accounts/mailbox/").status_code == 200


def test_campaign_pages_are_staff_only(client, alpha_person, support):
    from datetime import date

    from portal.models import Campaign

    campaign = Campaign.objects.create(name="c", cutover=date(2027, 1, 1))
    urls = [
        reverse("campaign_detail", kwargs={"code": campaign.code}),
        reverse("campaign_edit", kwargs={"code": campaign.code}),
        reverse("campaign_export", kwargs={"code": campaign.code}),
        reverse("campaign_action", kwargs={"code": campaign.code, "action": "launch"}),
        reverse("campaign_test_message", kwargs={"code": campaign.code}),
    ]
    client.force_login(alpha_person)
    for url in urls:
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
    login_staff(client, support)
    for url in urls:
        assert client.get(url).status_code == 200


def test_customer_admin_pages_are_staff_only(client, alpha_person, support, alpha):
    from accounts.models import MailDomain, ServerName
    from portal.invitations.lifecycle import invitation_create

    server = ServerName.objects.create(hostname="mail.hosting.example", status="current")
    MailDomain.objects.create(customer=alpha, domain="alpha.example", server=server)
    invitation = invitation_create(alpha, email="new@alpha.example", username="newbie")
    domain = {"slug": "alpha", "domain": "alpha.example"}
    page = reverse("mail_domain_edit", kwargs=domain)
    posts = [
        reverse("mail_domain_delete", kwargs=domain),
        reverse("invitation_resend", kwargs={"slug": "alpha", "code": invitation.code}),
        reverse("member_remove", kwargs={"slug": "alpha", "username": alpha_person.username}),
    ]
    client.force_login(alpha_person)
    assert client.get(page).status_code == 403
    for url in [page, *posts]:
        assert client.post(url).status_code == 403
    assert MailDomain.objects.exists()
    assert alpha_person.memberships.exists()
    login_staff(client, support)
    assert client.get(page).status_code == 200
    for url in posts:
        assert client.get(url).status_code == 405
