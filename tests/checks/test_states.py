"""State changes become events only when confirmed, and "could not test" never changes a state."""

import pytest

from checks.states import changes, observed_state, transition

GOOD = {
    "error": None,
    "certificate": {"sans": ["mail.new.example"], "days_left": 200},
    "tls_versions_accepted": ["TLSv1.2", "TLSv1.3"],
    "plaintext_auth_before_tls": False,
}
DOWN = {"error": "refused", "certificate": None, "tls_versions_accepted": None,
        "plaintext_auth_before_tls": None}  # fmt: skip


def observe(result):
    return observed_state(result, expiry_days=30)


def run(results, confirm_after=2):
    state, pending, count, events = {}, {}, 0, []
    for result in results:
        step = transition(state, pending, count, observe(result), confirm_after=confirm_after)
        state, pending, count = step.state, step.pending_state, step.pending_count
        events.append([kind for kind, _ in step.events])
    return state, events


def test_a_healthy_endpoint_raises_no_event():
    state, events = run([GOOD, GOOD, GOOD])
    assert events == [[], [], []]
    assert state["working"] is True


def test_going_down_alerts_once_after_two_sweeps_and_once_when_back():
    _state, events = run([GOOD, GOOD, DOWN, DOWN, DOWN, DOWN, GOOD, GOOD, GOOD])
    assert events == [[], [], [], ["unreachable"], [], [], [], ["reachable"], []]


def test_a_flapping_server_does_not_alert():
    _state, events = run([GOOD, GOOD, DOWN, GOOD, DOWN, GOOD, DOWN, GOOD])
    assert all(e == [] for e in events)


def test_could_not_test_keeps_the_known_facts():
    dropped = {**GOOD, "tls_versions_accepted": None, "plaintext_auth_before_tls": None}
    state, events = run([GOOD, GOOD, dropped, dropped, dropped])
    assert state["tls_versions"] == ["TLSv1.2", "TLSv1.3"]
    assert state["plaintext_auth"] is False
    assert all(e == [] for e in events)


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"certificate": {"sans": ["other.example"], "days_left": 200}}, "cert-names"),
        ({"certificate": {"sans": ["mail.new.example"], "days_left": 12}}, "cert-expiring"),
        ({"tls_versions_accepted": ["TLSv1", "TLSv1.2", "TLSv1.3"]}, "tls-versions"),
        ({"plaintext_auth_before_tls": True}, "plaintext-auth"),
    ],
)
def test_each_kind_of_change_is_one_event(change, kind):
    changed = {**GOOD, **change}
    _state, events = run([GOOD, GOOD, changed, changed, changed])
    assert events == [[], [], [], [kind], []]


def test_a_bad_first_sight_is_an_event():
    _state, events = run([DOWN, DOWN])
    assert events == [[], ["unreachable"]]


def test_names_change_detail_says_before_and_after():
    before = observe(GOOD)
    after = observe({**GOOD, "certificate": {"sans": ["b.example", "a.example"], "days_left": 90}})
    assert changes(before, after) == [("cert-names", "mail.new.example → a.example, b.example")]


def test_confirm_after_one_alerts_at_once():
    _state, events = run([GOOD, DOWN], confirm_after=1)
    assert events == [[], ["unreachable"]]
