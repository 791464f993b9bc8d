"""A mixed workload against a sandbox that misbehaves: 10% server errors, latency with jitter,
dropped connections and forced 429s with Retry-After. Every call must complete, none may be
lost or done twice: afterwards the sandbox holds exactly what the workload meant to write.

Backoffs and Retry-After waits run on the injected clock (conftest.FastClock), so the test
costs the sandbox's latency, not the client's patience.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

import pytest
import requests

from connectors.activecampaign import (
    ContactChanges,
    CustomObjectField,
    CustomObjectSchemaSpec,
    ImportContact,
    ImportOutcome,
)
from connectors.http import HttpSettings, RetryPolicy

pytestmark = pytest.mark.integration

PEOPLE = 40
TIMEOUT = 0.04  # the read timeout of the late-answers test
IMPORTED = 60
COMPANIES = 4
SPEC = CustomObjectSchemaSpec(
    slug="d365-opportunity",
    label="Opportunity",
    plural_label="Opportunities",
    fields=(
        CustomObjectField("name", "Topic", "text", required=True),
        CustomObjectField("stage", "Stage", "dropdown", options=("Qualify", "Develop")),
        CustomObjectField("amount", "Amount", "currency", default_currency="EUR"),
    ),
)
FAULTS = {
    "error_rate": 0.10,
    "drop_rate": 0.03,
    "latency": 0.001,
    "latency_jitter": 0.004,
    "force_429": 3,
    "force_429_retry_after": 2,
    "seed": 20240501,
}


def rows(ac, sql: str, *params) -> list:
    return [tuple(row) for row in ac.db.execute(sql, params)]


def test_it_loses_and_doubles_nothing_when_the_server_misbehaves(make_client, clock, ac, sandboxes):
    client = make_client(retry=RetryPolicy(attempts=8, backoff=0.05, backoff_max=1.0))
    # Arranged before the trouble starts: the definitions the workload writes into.
    segment = client.custom_fields.create(title="Segment", type="text")
    schema = client.custom_objects.ensure_schema(SPEC)
    setup_requests = len(ac.log.entries())
    faults_url = f"{sandboxes.activecampaign.api_url}/_sandbox/faults"
    requests.put(
        faults_url, json=FAULTS, headers=sandboxes.control_headers, timeout=5
    ).raise_for_status()

    ids: dict[str, str] = {}
    for i in range(PEOPLE):
        email = f"person{i:03d}@resilience.example"
        contact = client.contacts.sync(
            ContactChanges(email=email, first_name=f"P{i}", field_values={segment.id: f"S{i % 3}"})
        ).contact
        ids[email] = contact.id
        client.tags.add(contact.id, "D365: Contact")
        client.tags.add(contact.id, "Even" if i % 2 == 0 else "Odd")
        if i % 4 == 0:
            client.tags.add(contact.id, "Temporary")
            client.tags.remove(contact.id, "Temporary")
        client.custom_objects.upsert(
            schema,
            external_id=f"opp-{i:03d}",
            values={"name": f"Deal {i}", "stage": "Qualify", "amount": Decimal(i * 100)},
            contact_id=contact.id,
        )
        if i % 2 == 0:  # the same record again, one stage on: an update, never a second record
            client.custom_objects.upsert(
                schema,
                external_id=f"opp-{i:03d}",
                values={"name": f"Deal {i}", "stage": "Develop", "amount": Decimal(i * 100)},
                contact_id=contact.id,
            )
        account = client.accounts.ensure(f"Company {i % COMPANIES}")
        client.accounts.link_contact(contact.id, account.id, job_title=f"Role {i % 5}")
    imported = client.imports.bulk(
        [
            ImportContact(email=f"import{i:03d}@resilience.example", tags=("Imported",))
            for i in range(IMPORTED)
        ],
        poll_interval=0.05,
        wait=30,
    )
    listed = list(client.contacts.all())

    # -- nothing lost -----------------------------------------------------------------------
    assert imported.count(ImportOutcome.IMPORTED) == IMPORTED
    assert len(listed) == PEOPLE + IMPORTED
    emails = [email for (email,) in rows(ac, "SELECT email FROM contacts ORDER BY id")]
    assert sorted(emails) == sorted(
        [*ids, *(f"import{i:03d}@resilience.example" for i in range(IMPORTED))]
    )
    # -- nothing doubled ---------------------------------------------------------------------
    tags = Counter(name for (name,) in rows(ac, "SELECT tag FROM tags"))
    assert tags == Counter(["D365: Contact", "Even", "Odd", "Temporary", "Imported"])
    pairs = rows(ac, "SELECT contact, tag FROM contact_tags")
    assert len(pairs) == len(set(pairs)) == PEOPLE * 2 + IMPORTED
    records = rows(
        ac, "SELECT external_id, json_extract(fields, '$.stage') FROM co_records ORDER BY seq"
    )
    assert len(records) == PEOPLE
    assert sorted(records) == sorted(
        (f"opp-{i:03d}", "Develop" if i % 2 == 0 else "Qualify") for i in range(PEOPLE)
    )
    links = rows(ac, "SELECT co.id, co.name FROM companies co ORDER BY co.name")
    assert [name for _, name in links] == [f"Company {i}" for i in range(COMPANIES)]
    memberships = rows(ac, "SELECT contact, account, job_title FROM account_contacts")
    assert len(memberships) == PEOPLE == len({contact for contact, _, _ in memberships})
    values = rows(ac, "SELECT contact, value FROM field_values ORDER BY contact")
    assert values == [(int(ids[e]), f"S{i % 3}") for i, e in enumerate(ids)]

    # -- and the log shows why it took more than one try ---------------------------------------
    log = ac.log.entries()[setup_requests:]
    log = [e for e in log if not e.path.startswith("/_sandbox/")]
    faults = Counter(e.fault or "none" for e in log)
    assert faults["error"] > 0 and faults["drop"] > 0 and faults["429"] == FAULTS["force_429"]
    assert faults["rate-limit"] == 0
    statuses = Counter(e.status for e in log)
    print(
        f"\nresilience: {len(log)} requests, {faults['none']} answered normally; retried: "
        f"{faults['error']} after 5xx "
        f"({', '.join(f'{s}: {statuses[s]}' for s in (500, 502, 503) if statuses[s])}), "
        f"{faults['drop']} after dropped connections, {faults['429']} after 429 "
        f"(Retry-After {FAULTS['force_429_retry_after']} s, waited on the injected clock)\n"
        f"expected vs present: contacts {PEOPLE + IMPORTED}/{len(emails)}, "
        f"tags 5/{sum(tags.values())}, tag links {PEOPLE * 2 + IMPORTED}/{len(pairs)}, "
        f"records {PEOPLE}/{len(records)}, accounts {COMPANIES}/{len(links)}, "
        f"account links {PEOPLE}/{len(memberships)}"
    )


def test_it_doubles_nothing_when_answers_come_after_the_client_gave_up(
    make_client, clock, ac, sandboxes
):
    """The ambiguous failure: the sandbox handles a request after the client's read timeout.
    A retried create then meets what the first try made; what the sandbox holds must still
    be one of each."""
    client = make_client(retry=RetryPolicy(attempts=8, backoff=0.05, backoff_max=1.0))
    client.http.settings = HttpSettings(
        connect_timeout=2.0, read_timeout=TIMEOUT, allow_local_urls=True
    )
    schema = client.custom_objects.ensure_schema(SPEC)
    setup_requests = len(ac.log.entries())
    faults_url = f"{sandboxes.activecampaign.api_url}/_sandbox/faults"
    slow = {"latency": 0.0, "latency_jitter": 0.06, "seed": 7}
    requests.put(
        faults_url, json=slow, headers=sandboxes.control_headers, timeout=5
    ).raise_for_status()

    people = 8
    for i in range(people):
        contact = client.contacts.sync(
            ContactChanges(email=f"late{i:02d}@resilience.example")
        ).contact
        client.tags.add(contact.id, "Late")
        client.tags.add(contact.id, f"Late {i % 3}")
        client.custom_objects.upsert(
            schema,
            external_id=f"late-{i:02d}",
            values={"name": f"Deal {i}"},
            contact_id=contact.id,
        )
        account = client.accounts.ensure(f"Late Company {i % 3}")
        client.accounts.link_contact(contact.id, account.id)
    time.sleep(0.2)  # the last requests the client gave up on finish on the sandbox

    log = [e for e in ac.log.entries()[setup_requests:] if not e.path.startswith("/_sandbox/")]
    late = sum(1 for e in log if e.duration > TIMEOUT)
    assert late > 0
    statuses = Counter(e.status for e in log)
    assert statuses[500] == 0, statuses  # no sandbox failure from two tries meeting
    assert rows(ac, "SELECT COUNT(*) FROM contacts") == [(people,)]
    assert Counter(t for (t,) in rows(ac, "SELECT tag FROM tags")) == Counter(
        ["Late", "Late 0", "Late 1", "Late 2"]
    )
    assert rows(ac, "SELECT COUNT(*), COUNT(DISTINCT contact || '/' || tag) FROM contact_tags") == [
        (2 * people, 2 * people)
    ]
    assert rows(ac, "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM co_records") == [
        (people, people)
    ]
    assert rows(ac, "SELECT COUNT(*) FROM companies") == [(3,)]
    assert rows(ac, "SELECT COUNT(*) FROM account_contacts") == [(people,)]
    print(
        f"\nlate answers: {len(log)} requests, {late} answered after the client's {TIMEOUT} s "
        f"read timeout (and were sent again), statuses {dict(statuses)}; expected vs present: "
        f"contacts {people}/{people}, tags 4/4, tag links {2 * people}/{2 * people}, "
        f"records {people}/{people}"
    )
