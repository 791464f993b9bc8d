"""Bulk import: batches, snake_case payloads, failure reasons mapped back, async status."""

from __future__ import annotations

from connectors.activecampaign import ImportContact, ImportOutcome

from .conftest import BASE, body, path, query

QUEUED = {"success": 1, "queued_contacts": 1, "batchId": "b-1", "message": "Contact import queued"}


def _people(count: int, **extra) -> list[ImportContact]:
    return [
        ImportContact(email=f"p{i}@contoso.example", first_name=f"P{i}", **extra)
        for i in range(count)
    ]


def _queue(rsps, *batch_ids: str) -> None:
    for batch_id in batch_ids:
        rsps.post(BASE + "import/bulk_import", json={**QUEUED, "batchId": batch_id})


def _posts(rsps) -> list:
    return [call for call in rsps.calls if path(call) == "/api/3/import/bulk_import"]


def test_it_imports_in_batches_of_250_with_snake_case(rsps, client):
    _queue(rsps, "b-1", "b-2", "b-3")
    rsps.get(
        BASE + "import/info", json={"status": "completed", "success": ["1"] * 250, "failure": []}
    )
    contacts = _people(600, last_name="Silva", account_name="Contoso", tags=("D365: Contact",))
    contacts[0] = ImportContact(
        email="ana@contoso.example",
        first_name="Ana",
        phone="+351210000000",
        tags=("D365: Contact", "VIP"),
        field_values={"12": "D365-GUID", "15": ["A", "B"], "16": ""},
        subscribe_list_ids=("1",),
        unsubscribe_list_ids=("3",),
    )

    result = client.imports.bulk(contacts)

    posts = _posts(rsps)
    assert [len(body(call)["contacts"]) for call in posts] == [250, 250, 100]
    assert body(posts[0])["contacts"][0] == {
        "email": "ana@contoso.example",
        "first_name": "Ana",
        "phone": "+351210000000",
        "tags": ["D365: Contact", "VIP"],
        "fields": [{"id": 12, "value": "D365-GUID"}, {"id": 15, "value": "||A||B||"}],
        "subscribe": [{"listid": "1"}],
        "unsubscribe": [{"listid": "3"}],
        "exclude_automations": True,
    }
    assert body(posts[2])["contacts"][0] == {
        "email": "p500@contoso.example",
        "first_name": "P500",
        "last_name": "Silva",
        "customer_acct_name": "Contoso",
        "tags": ["D365: Contact"],
        "exclude_automations": True,
    }
    assert result.batch_ids == ("b-1", "b-2", "b-3")
    assert result.count(ImportOutcome.IMPORTED) == 600
    assert [r.index for r in result.results] == list(range(600))
    polls = [call for call in rsps.calls if path(call) == "/api/3/import/info"]
    assert [query(call)["batchId"] for call in polls] == [["b-1"], ["b-2"], ["b-3"]]


def test_it_lets_automations_run_when_asked(rsps, client):
    _queue(rsps, "b-1")
    rsps.get(
        BASE + "import/info", json={"status": "completed", "success": ["1", "2"], "failure": []}
    )

    client.imports.bulk(_people(2), exclude_automations=False)

    assert all(c["exclude_automations"] is False for c in body(_posts(rsps)[0])["contacts"])


def test_it_maps_failure_reasons_back_and_sends_the_rest_again(rsps, client):
    rsps.post(
        BASE + "import/bulk_import",
        status=400,
        json={
            "success": 0,
            "message": "JSON payload did not pass validation. The import was not queued.",
            "failureReasons": [
                {"contact": 1, "failureReason": "Field email incorrect format"},
                {"contact": 3, "failureReason": "Field phone incorrect format"},
            ],
        },
    )
    _queue(rsps, "b-9")
    rsps.get(
        BASE + "import/info",
        json={"status": "completed", "success": ["501", "502"], "failure": ["P4@contoso.example"]},
    )
    contacts = _people(5)

    result = client.imports.bulk(contacts)

    first, second = _posts(rsps)
    assert len(body(first)["contacts"]) == 5
    assert [c["email"] for c in body(second)["contacts"]] == [
        "p0@contoso.example",
        "p2@contoso.example",
        "p4@contoso.example",
    ]
    outcomes = {r.email: (r.outcome, r.reason) for r in result.results}
    assert outcomes["p1@contoso.example"] == (
        ImportOutcome.REJECTED,
        "Field email incorrect format",
    )
    assert outcomes["p3@contoso.example"] == (
        ImportOutcome.REJECTED,
        "Field phone incorrect format",
    )
    assert outcomes["p4@contoso.example"][0] == ImportOutcome.FAILED  # listed by e-mail
    assert outcomes["p0@contoso.example"] == (ImportOutcome.IMPORTED, "")
    assert outcomes["p2@contoso.example"] == (ImportOutcome.IMPORTED, "")
    assert result.batch_ids == ("b-9",)


def test_it_rejects_a_batch_refused_as_a_whole(rsps, client):
    rsps.post(
        BASE + "import/bulk_import",
        status=400,
        json={"success": 0, "message": "Account contact limit reached", "failureReasons": []},
    )

    result = client.imports.bulk(_people(3))

    assert len(_posts(rsps)) == 1
    assert {r.outcome for r in result.results} == {ImportOutcome.REJECTED}
    assert all("contact limit" in r.reason for r in result.results)


def test_it_polls_the_status_with_a_bounded_wait(rsps, client, clock):
    _queue(rsps, "b-1")
    rsps.get(BASE + "import/info", json={"status": "queued"})
    waits_before = len(clock.sleeps)

    result = client.imports.bulk(_people(2), wait=20, poll_interval=5)

    polls = [call for call in rsps.calls if path(call) == "/api/3/import/info"]
    assert len(polls) == 4  # 20 s / 5 s
    assert clock.sleeps[waits_before:].count(5) == 3
    assert {r.outcome for r in result.results} == {ImportOutcome.PENDING}


def test_it_polls_until_the_batch_completes(rsps, client):
    _queue(rsps, "b-1")
    rsps.get(BASE + "import/info", json={"status": "processing"})
    rsps.get(
        BASE + "import/info", json={"status": "completed", "success": ["7", "8"], "failure": []}
    )

    result = client.imports.bulk(_people(2), wait=60, poll_interval=5)

    assert len([c for c in rsps.calls if path(c) == "/api/3/import/info"]) == 2
    assert result.count(ImportOutcome.IMPORTED) == 2


def test_it_does_not_claim_contacts_the_batch_skipped_silently(rsps, client):
    _queue(rsps, "b-1")
    rsps.get(BASE + "import/info", json={"status": "completed", "success": ["7"], "failure": []})

    result = client.imports.bulk(_people(2))

    assert {r.outcome for r in result.results} == {ImportOutcome.UNCONFIRMED}


def test_it_reads_a_status_given_as_counts(rsps, client):
    _queue(rsps, "b-1")
    rsps.get(
        BASE + "import/info",
        json={"status": "completed", "contacts": {"total": 2, "success": 2, "failure": 0}},
    )

    result = client.imports.bulk(_people(2))

    assert result.count(ImportOutcome.IMPORTED) == 2


def test_it_keeps_each_request_under_the_size_limit(rsps, client):
    _queue(rsps, "b-1", "b-2", "b-3")
    rsps.get(
        BASE + "import/info", json={"status": "completed", "success": ["1"] * 9, "failure": []}
    )
    big = _people(9, field_values={"12": "x" * 100_000})

    client.imports.bulk(big)

    sizes = [len(call.request.body) for call in _posts(rsps)]
    assert len(sizes) == 3
    assert all(size < 400_000 for size in sizes)
    assert sum(len(body(call)["contacts"]) for call in _posts(rsps)) == 9


def test_it_waits_out_the_import_minute_cap(rsps, client, clock):
    rsps.post(
        BASE + "import/bulk_import",
        status=400,
        json={
            "success": 0,
            "message": "Rate limit exceeded.",
            "failureReasons": ["Up to 100 imports may be requested per minute."],
        },
    )
    _queue(rsps, "b-1")
    rsps.get(
        BASE + "import/info", json={"status": "completed", "success": ["1", "2"], "failure": []}
    )

    result = client.imports.bulk(_people(2))

    assert 60.0 in clock.sleeps
    assert len(_posts(rsps)) == 2
    assert result.count(ImportOutcome.IMPORTED) == 2
    # The account's own throttle was not paused for everyone.
    assert client.throttle.store._blocked.get(client.throttle.key, 0) <= clock.now


def test_it_paces_batches_under_the_import_cap(rsps, client, clock):
    for index in range(101):
        _queue(rsps, f"b-{index}")
    rsps.get(
        BASE + "import/info", json={"status": "completed", "success": ["1", "2"], "failure": []}
    )
    started = clock.now

    client.imports.bulk(_people(101 * 250), wait=0)

    assert len(_posts(rsps)) == 101
    assert clock.now - started >= 60.0  # the 101st batch waited for the minute


def test_it_checks_a_batch_status(rsps, client):
    rsps.get(
        BASE + "import/info",
        json={"status": "completed", "success": ["123", "124"], "failure": ["bad@x"]},
    )

    status = client.imports.status("0641fbdd")

    assert status.completed is True
    assert status.success_contact_ids == ("123", "124")
    assert status.failed_emails == ("bad@x",)
    assert query(rsps.calls[0]) == {"batchId": ["0641fbdd"]}
    assert status.failure_count == 1
