"""The Django admin, as staff admins use it."""

from accounts.models import ServerName


def test_contact_addresses_are_checked_line_by_line(staff_admin, client, alpha):
    client.force_login(staff_admin)
    url = f"/admin/accounts/customer/{alpha.pk}/change/"
    response = client.post(
        url,
        {
            "slug": "alpha",
            "name": "アルファ商事",
            "contact_emails": "it@alpha.example\nnot-an-address",
            "language": "ja",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "line 2: “not-an-address” is not a valid e-mail address" in response.content.decode()


def test_a_registry_name_must_be_a_dns_name_and_its_addresses_ip_addresses(staff_admin, client):
    client.force_login(staff_admin)
    response = client.post(
        "/admin/accounts/servername/add/",
        {"hostname": "127.1", "status": "current", "addresses": "10.0.0.5 mail"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert "“127.1” looks like an IP address" in page
    assert "“mail” is not an IP address" in page
    assert not ServerName.objects.exists()

    client.post(
        "/admin/accounts/servername/add/",
        {
            "hostname": "Mail.Internal.Example",
            "status": "current",
            "addresses": "10.0.0.5,10.0.0.6",
        },
    )
    server = ServerName.objects.get()
    assert (server.hostname, server.addresses) == ("mail.internal.example", "10.0.0.5 10.0.0.6")
