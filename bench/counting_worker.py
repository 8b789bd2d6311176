"""A Celery worker (solo pool) that counts the SQL statements it sends and writes the
count to $QUERY_COUNT_FILE when it stops. Runs the code of the directory it is started
in, so that bench/campaign_speed.py can run an older checkout side by side.

    QUERY_COUNT_FILE=var/q.txt python /path/to/bench/counting_worker.py -Q QUEUE -n w1@%h
"""

import atexit
import os
import sys
from pathlib import Path

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

statements = 0


def count(execute, sql, params, many, context):
    global statements
    statements += 1
    return execute(sql, params, many, context)


connection.execute_wrappers.append(count)
atexit.register(lambda: Path(os.environ["QUERY_COUNT_FILE"]).write_text(str(statements)))

from portal.celery import app  # noqa: E402

app.worker_main(["worker", "--pool=solo", "-l", "WARNING", *sys.argv[1:]])
