"""python manage.py generate_mailboxes --mailboxes 1000000 --customers 10000

Synthetic data for benchmarks, in a database of its own (PostgreSQL only: it is
made with generate_series in a few statements). It REPLACES the registry, all
campaigns, findings, endpoints and probe results, and the customers whose ID
starts with "synthetic-" with their mailboxes, sheets, confirmations and memberships. The mix of settings is what a hosting company in the middle of
an SSL migration has: most mailboxes fine, the rest on old names, plain ports,
POP before SMTP, the seed's swapped ports, or names nobody registered.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from checks.findings import findings_recompute

SETUP = [
    # TRUNCATE, not DELETE: the rows are gone at once rather than left dead until a
    # VACUUM, and the key checks of the customers deleted below (checks_finding has no
    # index on customer_id) read an empty table instead of every row ever written: with
    # a million findings left from earlier runs the commit took many minutes.
    "TRUNCATE portal_notice, portal_campaignmailbox, portal_campaign_target_customers,"
    " portal_campaign, checks_finding, checks_findingsummary",
    # What people did on the synthetic customers' pages (bench/load.py logs people in).
    "DELETE FROM accounts_confirmation WHERE mailbox_id IN (SELECT m.id FROM accounts_mailbox m"
    " JOIN accounts_customer c ON c.id = m.customer_id WHERE c.slug LIKE 'synthetic-%%')",
    "DELETE FROM accounts_membership WHERE customer_id IN"
    " (SELECT id FROM accounts_customer WHERE slug LIKE 'synthetic-%%')",
    "UPDATE portal_auditentry SET customer_id = NULL WHERE customer_id IN"
    " (SELECT id FROM accounts_customer WHERE slug LIKE 'synthetic-%%')",
    "UPDATE accounts_mailbox SET current_sheet_id = NULL"
    " WHERE customer_id IN (SELECT id FROM accounts_customer WHERE slug LIKE 'synthetic-%%')",
    "DELETE FROM accounts_settingssheet WHERE mailbox_id IN (SELECT m.id FROM accounts_mailbox m"
    " JOIN accounts_customer c ON c.id = m.customer_id WHERE c.slug LIKE 'synthetic-%%')",
    "DELETE FROM accounts_mailbox WHERE customer_id IN"
    " (SELECT id FROM accounts_customer WHERE slug LIKE 'synthetic-%%')",
    "DELETE FROM accounts_customer WHERE slug LIKE 'synthetic-%%'",
    "UPDATE checks_endpoint SET last_result_id = NULL",
    "DELETE FROM checks_proberesult",
    "DELETE FROM checks_event",
    "DELETE FROM checks_endpoint",
    "UPDATE accounts_servername SET replaced_by_id = NULL",
    "DELETE FROM accounts_servername",
    "INSERT INTO accounts_servername (hostname, status, note, addresses, updated_at) VALUES"
    " ('mail.hosting.example', 'current', '', '192.0.2.10', now()),"
    " ('mail2.hosting.example', 'current', '', '192.0.2.11', now()),"
    " ('pop.hosting.example', 'legacy', '', '192.0.2.20', now()),"
    " ('smtp.hosting.example', 'legacy', '', '192.0.2.21', now())",
    "UPDATE accounts_servername SET replaced_by_id = (SELECT id FROM accounts_servername"
    " WHERE hostname = 'mail.hosting.example') WHERE status = 'legacy'",
]
CUSTOMERS = """
INSERT INTO accounts_customer (code, slug, name, contact_emails, language, created_at)
SELECT gen_random_uuid(), 'synthetic-' || lpad(i::text, 6, '0'), '株式会社サンプル' || i,
       'it@c' || i || '.example', 'ja', now()
FROM generate_series(1, %(customers)s) AS i
"""
MAILBOXES = """
INSERT INTO accounts_mailbox (code, customer_id, email, username, protocol, mail_client, created_at)
SELECT gen_random_uuid(), c.id, 'user' || i || '@c' || (i %% %(customers)s) || '.example',
       'user' || i, CASE WHEN i %% 3 = 0 THEN 'imap' ELSE 'pop3' END, '', now()
FROM generate_series(1, %(mailboxes)s) AS i
JOIN accounts_customer c ON c.slug = 'synthetic-' || lpad(((i %% %(customers)s) + 1)::text, 6, '0')
"""
# mod 20 of the id: 0-11 fine, 12-14 old names, 15-16 plain ports, 17 POP before SMTP,
# 18 the seed's swapped ports, 19 an unregistered name.
SHEETS = """
INSERT INTO accounts_settingssheet (mailbox_id, version, incoming_host, incoming_port,
    incoming_security, outgoing_host, outgoing_port, outgoing_security, smtp_auth, source,
    created_at, note)
SELECT m.id, 1,
  CASE WHEN m.id %% 20 IN (12, 13, 14) THEN 'pop.hosting.example'
       WHEN m.id %% 20 = 19 AND %(unregistered)s > 0
            THEN 'mail' || (m.id %% GREATEST(%(unregistered)s, 1)) || '.unregistered.example'
       WHEN m.id %% 20 = 19 THEN 'mail.' || split_part(m.email, '@', 2)
       ELSE 'mail.hosting.example' END,
  CASE WHEN m.id %% 20 IN (15, 16) THEN (CASE m.protocol WHEN 'imap' THEN 143 ELSE 110 END)
       WHEN m.id %% 20 = 18 THEN 587
       ELSE (CASE m.protocol WHEN 'imap' THEN 993 ELSE 995 END) END,
  CASE WHEN m.id %% 20 IN (15, 16) THEN 'none' ELSE 'ssl' END,
  CASE WHEN m.id %% 20 IN (12, 13) THEN 'smtp.hosting.example' ELSE 'mail.hosting.example' END,
  CASE WHEN m.id %% 20 IN (15, 16, 17) THEN 25 WHEN m.id %% 20 = 18 THEN 995 ELSE 465 END,
  CASE WHEN m.id %% 20 IN (15, 16, 17) THEN 'none' ELSE 'ssl' END,
  CASE WHEN m.id %% 20 = 17 THEN 'pop-before-smtp' ELSE 'smtp-auth' END,
  'import', now(), ''
FROM accounts_mailbox m JOIN accounts_customer c ON c.id = m.customer_id
WHERE c.slug LIKE 'synthetic-%%'
"""
CURRENT = """
UPDATE accounts_mailbox m SET current_sheet_id = s.id FROM accounts_settingssheet s
WHERE s.mailbox_id = m.id AND s.version = 1 AND m.current_sheet_id IS NULL
"""
# Every endpoint in use, probed: the old names answer with the new name's
# certificate; the plain ports offer passwords in the clear.
ENDPOINTS = """
INSERT INTO checks_endpoint (code, host, port, protocol, security, in_registry, in_sheets,
    created_at, state, pending_state, pending_count, consecutive_failures)
SELECT gen_random_uuid(), host, port, protocol, security, false, true, now(), '{}', '{}', 0, 0 FROM (
    SELECT DISTINCT s.incoming_host AS host, s.incoming_port AS port, m.protocol AS protocol,
           s.incoming_security AS security
    FROM accounts_mailbox m JOIN accounts_settingssheet s ON s.id = m.current_sheet_id
    UNION
    SELECT DISTINCT s.outgoing_host, s.outgoing_port, 'smtp', s.outgoing_security
    FROM accounts_mailbox m JOIN accounts_settingssheet s ON s.id = m.current_sheet_id
) AS used
"""
RESULTS = """
INSERT INTO checks_proberesult (endpoint_id, checked_at, reachable, error, error_message, banner,
    starttls_offered, tls_version, cipher, plaintext_auth_before_tls, elapsed_ms,
    cert_not_after, cert_trusted, cert_hostname_match)
SELECT e.id, now(), e.host LIKE '%%hosting.example',
  CASE WHEN e.host LIKE '%%hosting.example' THEN '' ELSE 'dns-failure' END, '', '',
  NULL, CASE WHEN e.security = 'none' THEN '' ELSE 'TLSv1.3' END, '',
  CASE WHEN e.security = 'none' THEN true ELSE NULL END, 20,
  CASE WHEN e.security = 'none' THEN NULL ELSE now() + interval '200 days' END,
  CASE WHEN e.security = 'none' THEN NULL ELSE true END,
  CASE WHEN e.security = 'none' THEN NULL ELSE e.host LIKE 'mail%%.hosting.example' END
FROM checks_endpoint e
"""
# A name that does not resolve has failed long enough to be an endpoint-unreachable finding.
LATEST = """
UPDATE checks_endpoint e SET last_result_id = r.id,
  consecutive_failures = CASE WHEN r.error <> '' THEN %(confirm_after)s ELSE 0 END
FROM checks_proberesult r
WHERE r.endpoint_id = e.id
"""


class Command(BaseCommand):
    help = "Make synthetic customers, mailboxes and probe results (PostgreSQL) for benchmarks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--mailboxes", type=int, default=1_000_000)
        parser.add_argument("--customers", type=int, default=10_000)
        parser.add_argument("--no-findings", action="store_true", help="skip the first recompute")
        parser.add_argument(
            "--unregistered-names",
            type=int,
            default=0,
            help="this many unregistered server names in all (mailN.unregistered.example)"
            " instead of one per customer domain (mail.<domain>)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("generate_mailboxes needs PostgreSQL (DATABASE_URL=postgres://...)")
        if options["mailboxes"] < 1 or not 1 <= options["customers"] <= options["mailboxes"]:
            raise CommandError("use at least one mailbox, and 1 to --mailboxes customers")
        params = {
            "mailboxes": options["mailboxes"],
            "customers": options["customers"],
            "confirm_after": settings.PROBE_CONFIRM_AFTER,
            "unregistered": options["unregistered_names"],
        }
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in [
                *SETUP,
                CUSTOMERS,
                MAILBOXES,
                SHEETS,
                CURRENT,
                ENDPOINTS,
                RESULTS,
                LATEST,
            ]:
                cursor.execute(statement, params)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"{options['mailboxes']:,} mailboxes of {options['customers']:,} customers"
            f" in {time.monotonic() - started:.0f} s"
        )
        if not options["no_findings"]:
            started = time.monotonic()
            findings_recompute(force=True)
            self.stdout.write(f"findings computed in {time.monotonic() - started:.1f} s")
