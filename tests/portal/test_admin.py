"""The Django admin, as staff admins use it."""

from tests.conftest import login_staff


def test_contact_addresses_are_checked_line_by_line(staff_admin, client, alpha):
    login_staff(client, staff_admin)
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
