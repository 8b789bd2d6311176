"""Each kind of work goes to a queue of its own: a long sweep never delays a campaign's
mail or an import. (tests/deploy/test_stack.py runs a worker per queue.)"""

import pytest

from portal.celery import app

ROUTED = [
    ("checks.tasks.sweep_start", "probing"),
    ("checks.tasks.probe_batch", "probing"),
    ("checks.tasks.endpoint_check", "probing"),
    ("portal.tasks.campaign_start", "campaigns"),
    ("portal.tasks.notices_send", "campaigns"),
    ("portal.tasks.campaigns_tick", "campaigns"),
    ("accounts.tasks.import_batch_preview", "imports"),
    ("accounts.tasks.import_batch_apply", "imports"),
    ("checks.evidence.tasks.evidence_ingest", "ingest"),
    ("checks.tasks.results_purge", "celery"),
    ("portal.tasks.domains_dns_check", "celery"),
]


@pytest.mark.parametrize(("task", "queue"), ROUTED)
def test_each_kind_of_work_has_its_own_queue(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_every_queue_is_named_in_the_worker_unit():
    from django.conf import settings

    unit = (settings.BASE_DIR / "deploy" / "systemd" / "portal-worker@.service").read_text()
    for queue in {q for _task, q in ROUTED}:
        assert f"@{queue}" in unit
