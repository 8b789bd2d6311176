"""Password reset by e-mail and password change, as a customer does them."""

import re

from django.core import mail
from django.urls import reverse


def test_password_reset_by_email_sets_a_new_password(client, alpha_person):
    response = client.post(
        reverse("password_reset"), {"email": "alice@people.example"}, follow=True
    )
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@people.example"]
    assert "alice" in message.body

    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "Neue-Passw0rt-2026", "new_password2": "Neue-Passw0rt-2026"}
    )
    assert done.status_code == 302
    assert client.login(username="alice", password="Neue-Passw0rt-2026")


def test_password_reset_for_unknown_address_sends_nothing_and_reveals_nothing(client, alpha_person):
    response = client.post(reverse("password_reset"), {"email": "who@nowhere.example"}, follow=True)
    assert response.status_code == 200
    assert mail.outbox == []


def test_password_change(client, alpha_person):
    client.force_login(alpha_person)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "pw-123456!",
            "new_password1": "Another-Passw0rt-9",
            "new_password2": "Another-Passw0rt-9",
        },
    )
    assert response.status_code == 302
    client.logout()
    assert client.login(username="alice", password="Another-Passw0rt-9")


def test_logout_is_a_post_and_ends_the_session(client, alpha_person):
    client.force_login(alpha_person)
    client.post(reverse("logout"))
    assert client.get("/c/alpha/").status_code == 302
