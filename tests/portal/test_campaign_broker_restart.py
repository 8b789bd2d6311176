"""Redis — the broker, and the cache that holds each campaign's sender — killed in the
middle of sending (SIGKILL, no persistence) and started again 15 seconds later, empty:
the batch in hand is sent all the same, the worker and beat reconnect by themselves,
beat's resume starts a new sender for the chain of tasks Redis lost, and every notice
reaches the SMTP server, none lost, none twice (counted by Message-ID at the server);
the campaign page says when sending stopped and went on."""

import time
from collections import Counter

import pytest
from django.test import Client

from accounts.interruptions import Reason
from portal.campaigns.tasks import notices_send
from portal.celery import app as celery_app
from portal.models import Notice
from tests.conftest import login_staff
from tests.portal.test_campaign_worker import running_campaign
from tests.processes import celery, logs, wait_for
from tests.smtp_sink import SmtpSink

CUSTOMERS = 60
BATCH = 20  # a message every 0.25 s: about five seconds' worth (sending.batch_size)
DOWN_SECONDS = 15


@pytest.mark.worker
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_sending_finishes_after_redis_restarts_empty(support, tmp_path, redis_server):
    campaign = running_campaign(CUSTOMERS)
    celery_app.conf.task_always_eager = False

    with SmtpSink() as smtp:
        env = {
            "CELERY_BROKER_URL": redis_server.url(),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            # A message every 0.25 s, batches of 20: Redis goes mid-batch, the first.
            "CAMPAIGN_RATE_PER_MINUTE": "240",
            "CAMPAIGN_LEASE_SECONDS": "6",
        }
        with celery("worker", "beat", log_dir=tmp_path, env=env) as running:
            with celery_app.connection_for_write(redis_server.url()) as broker:
                notices_send.apply_async(args=[campaign.pk], queue=running.queue, connection=broker)
            assert wait_for(lambda: len(smtp.messages) >= 5, 60), logs(tmp_path)
            redis_server.kill()
            sent_before = len(smtp.messages)
            time.sleep(DOWN_SECONDS)
            sent_while_down = len(smtp.messages)
            redis_server.start()
            assert wait_for(
                lambda: Notice.objects.filter(status="sent").count() == CUSTOMERS, 120
            ), logs(tmp_path)
            worker, beat = running.processes
            alive = worker.poll() is None and beat.poll() is None

    assert alive, logs(tmp_path)  # neither gave up nor died
    # The batch in hand was sent while Redis was away; the next waited for it.
    assert sent_before < sent_while_down == BATCH
    messages = smtp.messages
    received = Counter(m["to"][0] for m in messages)
    assert set(received) == {f"it@c{n}.example" for n in range(CUSTOMERS)}  # none lost
    ids = Counter(m["message_id"] for m in messages)
    assert len(ids) == CUSTOMERS
    assert len(messages) == CUSTOMERS, [i for i, times in ids.items() if times > 1]  # none twice

    campaign.refresh_from_db()
    [interruption] = campaign.interruption_list()
    assert interruption.reason == Reason.STALLED
    assert interruption.count == CUSTOMERS - sent_while_down  # what the new sender took up
    client = Client()
    login_staff(client, support)
    page = client.get(f"/staff/campaigns/{campaign.code}/").content.decode()
    assert "中断と再開" in page and "引き継いで送ったメッセージ" in page
