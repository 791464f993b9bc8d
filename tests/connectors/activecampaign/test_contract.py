"""Contract: every body the client writes validates against AC's v3 request schemas.

(The `rsps` fixture checks every request of every test on teardown; this file drives each
write once, and shows that the check and its list of deviations can fail.)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connectors.activecampaign import (
    AccountFieldInput,
    ContactChanges,
    CustomObjectField,
    CustomObjectSchemaSpec,
    ImportContact,
)

from . import openapi_contract
from .conftest import BASE

WRITES = {
    ("POST", "/contact/sync"),
    ("PUT", "/contacts/{id}"),
    ("POST", "/import/bulk_import"),
    ("POST", "/tags"),
    ("POST", "/contactTags"),
    ("POST", "/fields"),
    ("POST", "/fieldOption/bulk"),
    ("POST", "/fieldRels"),
    ("POST", "/accounts"),
    ("PUT", "/accounts/{id}"),
    ("POST", "/accountContacts"),
    ("PUT", "/accountContacts/{id}"),
    ("POST", "/customObjects/schemas"),
    ("PUT", "/customObjects/schemas/{schemaId}"),
    ("POST", "/customObjects/records/{schemaId}"),
    ("POST", "/contactAutomations"),
    ("POST", "/webhooks"),
}

SCHEMA = {
    "id": "s-1",
    "slug": "d365-opportunity",
    "labels": {"singular": "Opportunity", "plural": "Opportunities"},
    "fields": [{"id": "name", "labels": {"singular": "Topic", "plural": "Topics"}, "type": "text"}],
    "relationships": [
        {
            "id": "primary-contact",
            "labels": {"singular": "Contact", "plural": "Contacts"},
            "namespace": "contacts",
            "hasMany": False,
        }
    ],
}


def _drive_every_write(rsps, client) -> None:
    empty = {"meta": {"total": "0"}}
    rsps.get(BASE + "fields", json={"fields": [], **empty})
    rsps.get(
        BASE + "accountCustomFieldMeta",
        json={
            "accountCustomFieldMeta": [
                {"id": "20", "fieldType": "currency"},
                {"id": "21", "fieldType": "multiselect"},
            ],
            **empty,
        },
    )
    contact = {"contact": {"id": "10", "email": "ana@contoso.example"}, "fieldValues": []}
    rsps.post(BASE + "contact/sync", json=contact)
    rsps.put(BASE + "contacts/10", json=contact)
    rsps.post(BASE + "import/bulk_import", json={"success": 1, "batchId": "b"})
    rsps.get(BASE + "import/info", json={"status": "completed", "success": ["1"], "failure": []})
    rsps.get(BASE + "tags", json={"tags": [], **empty})
    rsps.post(BASE + "tags", json={"tag": {"id": "20", "tag": "VIP"}})
    rsps.post(BASE + "contactTags", json={"contactTag": {"id": "1", "contact": "10", "tag": "20"}})
    rsps.post(BASE + "fields", json={"field": {"id": "62", "title": "Stage", "type": "dropdown"}})
    rsps.post(BASE + "fieldOption/bulk", json={"fieldOptions": []})
    rsps.post(BASE + "fieldRels", json={"fieldRel": {"id": "1"}})
    rsps.get(BASE + "accounts", json={"accounts": [], **empty})
    rsps.post(BASE + "accounts", json={"account": {"id": "1", "name": "Contoso"}})
    rsps.put(BASE + "accounts/1", json={"account": {"id": "1", "name": "Contoso"}})
    rsps.get(BASE + "accountContacts", json={"accountContacts": [], **empty})
    rsps.post(
        BASE + "accountContacts",
        json={"accountContact": {"id": "5", "account": "1", "contact": "10"}},
    )
    rsps.get(
        BASE + "accountContacts",
        json={"accountContacts": [{"id": "5", "account": "1", "contact": "10"}], **empty},
    )
    rsps.put(
        BASE + "accountContacts/5",
        json={"accountContact": {"id": "5", "account": "2", "contact": "10"}},
    )
    rsps.get(BASE + "customObjects/schemas", json={"schemas": [], "meta": {"total": 0}})
    rsps.post(BASE + "customObjects/schemas", json={"schema": SCHEMA})
    rsps.get(BASE + "customObjects/schemas", json={"schemas": [SCHEMA], "meta": {"total": 1}})
    rsps.put(BASE + "customObjects/schemas/s-1", json={"schema": SCHEMA})
    rsps.post(BASE + "customObjects/records/s-1", json={"record": {"id": "r", "externalId": "o"}})
    rsps.get(BASE + "automations/2", json={"automation": {"id": "2", "name": "W", "status": "1"}})
    rsps.post(BASE + "contactAutomations", json={"contactAutomation": {"id": "9"}})
    rsps.post(BASE + "webhooks", json={"webhook": {"id": "1"}})

    client.contacts.sync(
        ContactChanges(
            email="ana@contoso.example",
            first_name="Ana",
            field_values={"12": ["a", "b"], "14": date(2024, 1, 2)},
        )
    )
    client.contacts.update("10", ContactChanges(email="ana.silva@contoso.example", phone="+1"))
    client.imports.bulk(
        [
            ImportContact(
                email="a@b.example",
                tags=("VIP",),
                field_values={"12": "x"},
                subscribe_list_ids=("1",),
            )
        ]
    )
    client.tags.add("10", "VIP")
    client.custom_fields.create(title="Stage", type="dropdown", options=["Open"])
    client.accounts.ensure(
        "Contoso",
        fields=[AccountFieldInput("20", Decimal("1.5"), "EUR"), AccountFieldInput("21", ["N"])],
    )
    client.accounts.update(
        "1", url="https://contoso.example", fields=[AccountFieldInput("21", ["S"])]
    )
    client.accounts.link_contact("10", "1", job_title="CTO")
    client.accounts.link_contact("10", "2")
    spec = CustomObjectSchemaSpec(
        "d365-opportunity",
        "Opportunity",
        "Opportunities",
        fields=(CustomObjectField("name", "Topic", "text"),),
    )
    client.custom_objects.ensure_schema(spec)
    extended = CustomObjectSchemaSpec(
        "d365-opportunity",
        "Opportunity",
        "Opportunities",
        fields=(CustomObjectField("amount", "Amount", "currency", default_currency="EUR"),),
    )
    schema = client.custom_objects.ensure_schema(extended)
    schema = type(schema)(
        **{
            **schema.__dict__,
            "fields": (
                CustomObjectField("name", "Topic", "text"),
                CustomObjectField("amount", "A", "currency"),
            ),
        }
    )
    client.custom_objects.upsert(
        schema, external_id="o", contact_id="10", values={"name": "Deal", "amount": Decimal("12.5")}
    )
    client.automations.add_contact("10", "2")
    client.webhooks.create(name="n", url="https://sync.example/hook", events=["update"])


def test_it_sends_every_write_in_the_shape_the_reference_defines(rsps, client):
    _drive_every_write(rsps, client)

    checked, problems = set(), []
    for call in rsps.calls:
        request = call.request
        problems += openapi_contract.check_request(request.method, request.url, request.body)
        operation = openapi_contract.operation_for(request.method, request.url)
        if operation is not None and request.body:
            checked.add((operation.method, operation.template))

    assert problems == []
    assert checked == WRITES


def test_it_flags_a_body_that_breaks_the_schema():
    problems = openapi_contract.check_request(
        "POST", BASE + "contactTags", b'{"contactTag": {"contact": {"id": 1}, "tag": 2}}'
    )

    assert problems and "contactTag/contact" in problems[0]


def test_it_flags_a_missing_required_attribute():
    problems = openapi_contract.check_request(
        "POST", BASE + "contact/sync", b'{"contact": {"firstName": "Ana"}}'
    )

    assert problems and "'email' is a required property" in problems[0]


def test_it_flags_the_plural_sync_path_that_creates_duplicates():
    problems = openapi_contract.check_request(
        "POST", BASE + "contacts/sync", b'{"contact": {"email": "a@b.example"}}'
    )

    assert problems and "no such operation" in problems[0]


@pytest.mark.parametrize("key", sorted(openapi_contract.DEVIATIONS))
def test_it_accepts_a_deviation_only_where_the_reference_contradicts_itself(key):
    method, template = key
    entry = openapi_contract.spec()["paths"][template][method.lower()]
    operation = openapi_contract.Operation(
        method,
        template,
        entry["operationId"],
        entry["requestBody"]["schema"],
        entry["requestBody"]["examples"],
    )
    strict = openapi_contract.request_schema(operation, with_deviations=False)
    relaxed = openapi_contract.request_schema(operation)
    examples = list(operation.examples.values())
    if method == "PUT" and template == "/accounts/{id}":
        # Same body as POST /accounts, whose example shows the contradiction.
        examples += list(
            openapi_contract.spec()["paths"]["/accounts"]["post"]["requestBody"][
                "examples"
            ].values()
        )

    assert any(openapi_contract.schema_errors(strict, example) for example in examples)
    assert all(not openapi_contract.schema_errors(relaxed, example) for example in examples)


def test_it_reads_the_reference_vendored_in_the_repo():
    spec = openapi_contract.spec()
    assert spec["servers"][0]["url"].endswith("/api/3")
    assert spec["paths"]["/contact/sync"]["post"]["operationId"] == "sync-a-contacts-data"
