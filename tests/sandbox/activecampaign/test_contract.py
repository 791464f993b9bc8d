"""The reference's own request examples, replayed against the sandbox.

A client written from the docs sends these bodies. Each must be accepted (2xx), validate
against the operation's request schema (checked by AcClient for every accepted body) and get
an answer shaped like the documented response example. Ids in the examples ("field": "1",
"contact": 2…) are replaced by ids that exist in the sandbox; nothing else is changed except
where noted.
"""

from __future__ import annotations

import copy
import json

import pytest

from .conftest import AcClient, Checked, openapi

pytestmark = pytest.mark.integration


def examples(method: str, template: str) -> dict[str, object]:
    body = openapi()["paths"][template][method]["requestBody"]["content"]["application/json"]
    return {name: copy.deepcopy(e["value"]) for name, e in body["examples"].items()}


def swap(value, **replacements):
    """The example with every `key: scalar` in replacements swapped (callables map values)."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key in replacements and not isinstance(item, dict | list):
                new = replacements[key]
                result[key] = new(item) if callable(new) else new
            else:
                result[key] = swap(item, **replacements)
        return result
    if isinstance(value, list):
        return [swap(item, **replacements) for item in value]
    return value


def ok(response):
    assert response.ok, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


@pytest.fixture
def demo(ac):
    ac.app.seed(2)  # lists 1 and 2, fields, tags, automations, campaigns
    return ac


def test_it_accepts_the_documented_contact_and_field_examples(demo):
    replay_contact_and_field(demo)


def replay_contact_and_field(demo):
    api = demo.api
    text_field = ok(api.post("/fields", {"field": {"title": "Text", "type": "text"}}))["field"][
        "id"
    ]
    date_field = ok(api.post("/fields", {"field": {"title": "Date", "type": "date"}}))["field"][
        "id"
    ]
    ids = {"1": text_field, "6": date_field}
    for name, body in examples("post", "/fields").items():
        # The examples all use one title and perstag; titles are unique per account.
        body["field"]["title"] += f" {name}"
        body["field"]["perstag"] += f" {name}"
        ok(api.post("/fields", body))
    contact = ok(
        api.post("/contacts", swap(examples("post", "/contacts")["Request Example"], field=ids.get))
    )
    contact_id = contact["contact"]["id"]
    assert [v["value"] for v in contact["fieldValues"]] == [
        "The Value for First Field",
        "2008-01-20",
    ]
    ok(
        api.post(
            "/contact/sync",
            swap(examples("post", "/contact/sync")["Request Example"], field=ids.get),
        )
    )
    ok(
        api.put(
            f"/contacts/{contact_id}",
            swap(examples("put", "/contacts/{id}")["Request Example"], field=ids.get),
        )
    )
    ok(api.put(f"/fields/{text_field}", examples("put", "/fields/{id}")["Request Example"]))
    dropdown = ok(api.post("/fields", {"field": {"title": "Choice", "type": "dropdown"}}))["field"][
        "id"
    ]
    ok(
        api.post(
            "/fieldOption/bulk",
            swap(examples("post", "/fieldOption/bulk")["Request Example"], field=dropdown),
        )
    )
    ok(
        api.post(
            "/fieldRels",
            swap(examples("post", "/fieldRels")["Request Example"], field=int(dropdown)),
        )
    )
    value_id = None
    for body in examples("post", "/fieldValues").values():
        answer = ok(
            api.post("/fieldValues", swap(body, contact=int(contact_id), field=int(text_field)))
        )
        value_id = answer["fieldValue"]["id"]
    for body in examples("put", "/fieldValues/{id}").values():
        ok(
            api.put(
                f"/fieldValues/{value_id}",
                swap(body, contact=int(contact_id), field=int(text_field)),
            )
        )
    for path in (
        "/fields",
        f"/fields/{text_field}",
        f"/fields/{dropdown}/options",
        "/fieldValues",
        f"/fieldValues/{value_id}",
        f"/contacts/{contact_id}/fieldValues",
        "/contacts",
        f"/contacts/{contact_id}",
        "/fieldRels",
    ):
        ok(api.get(path))


def test_it_accepts_the_documented_tag_list_and_automation_examples(demo):
    replay_tag_list_and_automation(demo)


def replay_tag_list_and_automation(demo):
    api = demo.api
    contact_id = ok(api.post("/contacts", {"contact": {"email": "c@example.com"}}))["contact"]["id"]
    tag = ok(api.post("/tags", examples("post", "/tags")["Request Example"]))["tag"]
    ok(api.put(f"/tags/{tag['id']}", examples("put", "/tags/{id}")["Request Example"]))
    link = ok(
        api.post(
            "/contactTags",
            swap(examples("post", "/contactTags")["Example 1"], contact=contact_id, tag=tag["id"]),
        )
    )
    ok(api.post("/lists", examples("post", "/lists")["Request Example"]))
    ok(
        api.post(
            "/contactLists",
            swap(examples("post", "/contactLists")["Request Example"], contact=int(contact_id)),
        )
    )
    automation = next(a for a in ok(api.get("/automations"))["automations"] if a["status"] == "1")
    enrolment = ok(
        api.post(
            "/contactAutomations",
            swap(
                examples("post", "/contactAutomations")["Request Example"],
                contact=contact_id,
                automation=automation["id"],
            ),
        )
    )["contactAutomation"]
    for path in (
        "/tags",
        f"/tags/{tag['id']}",
        "/lists",
        "/lists/1",
        f"/contacts/{contact_id}/contactLists",
        "/contactAutomations",
        f"/contactAutomations/{enrolment['id']}",
        f"/contacts/{contact_id}/contactAutomations",
        f"/contacts/{contact_id}/contactTags",
        "/campaigns",
        "/campaigns/1",
        "/campaigns/1/links",
        "/messages",
        "/messages/1",
        f"/activities?contact={contact_id}",
        "/webhook/events",
    ):
        ok(api.get(path))
    ok(api.delete(f"/contactTags/{link['contactTag']['id']}"))
    ok(api.delete(f"/contactAutomations/{enrolment['id']}"))


def test_it_accepts_the_documented_account_examples(demo):
    replay_account(demo)


def replay_account(demo):
    api = demo.api
    metas = {}
    for body in examples("post", "/accountCustomFieldMeta").values():
        kind = body["accountCustomFieldMetum"]["fieldType"]
        metas[kind] = ok(api.post("/accountCustomFieldMeta", body))["accountCustomFieldMetum"]["id"]
    ok(
        api.put(
            f"/accountCustomFieldMeta/{metas['text']}",
            examples("put", "/accountCustomFieldMeta/{id}")["Request Example"],
        )
    )
    # The account examples name field 9 (a size range) and 20 (a currency).
    by_example = {9: int(metas["text"]), 20: int(metas["currency"])}
    body = swap(examples("post", "/accounts")["Request Example"], customFieldId=by_example.get)
    account = ok(api.post("/accounts", body))["account"]
    other = ok(api.post("/accounts", {"account": {"name": "Second"}}))["account"]
    ok(
        api.put(
            f"/accounts/{account['id']}",
            swap(
                examples("put", "/accounts/{id}")["Request Example"], customFieldId=by_example.get
            ),
        )
    )
    contact_id = ok(api.post("/contacts", {"contact": {"email": "a@example.com"}}))["contact"]["id"]
    link = ok(
        api.post(
            "/accountContacts",
            swap(
                examples("post", "/accountContacts")["Request Example"],
                contact=int(contact_id),
                account=int(account["id"]),
            ),
        )
    )["accountContact"]
    ok(
        api.put(
            f"/accountContacts/{link['id']}",
            examples("put", "/accountContacts/{id}")["Request Example"],
        )
    )
    # The data examples number their fields by type (datetime is 14, or 7 in bulkCreate), and
    # their accounts "1"/"2".
    field_of = {
        "1": metas["text"],
        "2": metas["dropdown"],
        "3": metas["multiselect"],
        "4": metas["currency"],
        "5": metas["number"],
        "6": metas["date"],
        "7": metas["datetime"],
        "14": metas["datetime"],
    }
    account_of = {"1": account["id"], "2": other["id"]}
    datum_id = None
    for body in examples("post", "/accountCustomFieldData").values():
        body = swap(
            body,
            customFieldId=field_of.get,
            accountId=account_of.get,
            customerAccountId=account_of.get,
        )
        datum_id = ok(api.post("/accountCustomFieldData", body, check=False))[
            "accountCustomFieldDatum"
        ]["id"]
    ok(
        api.put(
            f"/accountCustomFieldData/{datum_id}",
            examples("put", "/accountCustomFieldData/{id}")["text/textarea/hidden"],
        )
    )
    bulk = swap(
        examples("post", "/accountCustomFieldData/bulkCreate")["Request Example"],
        customFieldId=field_of.get,
        accountId=account_of.get,
    )
    ok(
        api.session.post(
            f"{demo.url}/api/3/accountCustomFieldData/bulkCreate", json=bulk, timeout=5
        )
    )
    data = ok(
        api.get(
            "/accountCustomFieldData",
            params={"filters[customerAccountId]": account["id"], "limit": 100},
        )
    )
    stored = [d["id"] for d in data["accountCustomFieldData"]]
    update = examples("patch", "/accountCustomFieldData/bulkUpdate")["Request Example"]
    kinds = {d["customFieldId"]: d["id"] for d in data["accountCustomFieldData"]}
    # bulkUpdate's example ids stand for: text, multiselect, currency, number, date, datetime.
    order = [
        metas["text"],
        metas["multiselect"],
        metas["currency"],
        metas["number"],
        metas["date"],
        metas["datetime"],
    ]
    for item, meta_id in zip(update, order, strict=True):
        item["id"] = kinds[int(meta_id)]
    ok(
        api.session.patch(
            f"{demo.url}/api/3/accountCustomFieldData/bulkUpdate", json=update, timeout=5
        )
    )
    assert stored
    for path in (
        "/accounts",
        f"/accounts/{account['id']}",
        "/accountContacts",
        f"/accountContacts/{link['id']}",
        f"/contacts/{contact_id}/accountContacts",
        "/accountCustomFieldMeta",
        f"/accountCustomFieldMeta/{metas['text']}",
        "/accountCustomFieldData",
        f"/accountCustomFieldData/{datum_id}",
    ):
        ok(api.get(path))


def test_it_accepts_the_documented_custom_object_examples(demo):
    replay_custom_object(demo)


def replay_custom_object(demo):
    api = demo.api
    contact_id = ok(api.post("/contacts", {"contact": {"email": "o@example.com"}}))["contact"]["id"]
    account_id = ok(api.post("/accounts", {"account": {"name": "Obj Co"}}))["account"]["id"]
    schemas = {}
    for name, body in examples("post", "/customObjects/schemas").items():
        body["schema"]["slug"] += f"-{len(schemas)}"  # one slug per account
        schemas[name] = ok(api.post("/customObjects/schemas", body))["schema"]["id"]
    contact_schema = schemas["A single field with a relationship to the contact"]
    account_schema = schemas["A single field with a relationship to an account"]
    records = examples("post", "/customObjects/records/{schemaId}")
    made = ok(
        api.post(
            f"/customObjects/records/{contact_schema}",
            swap(records["Create with Contact"], **{"schemaId": contact_schema})
            | {
                "record": {
                    **records["Create with Contact"]["record"],
                    "relationships": {"primary-contact": [int(contact_id)]},
                }
            },
        )
    )
    assert made["record"]["relationships"] == {"primary-contact": [contact_id]}
    with_account = {
        **records["Create with Account"]["record"],
        "relationships": {"account": [int(account_id)]},
    }
    ok(api.post(f"/customObjects/records/{account_schema}", {"record": with_account}))
    # "Create with Deal" is not replayed: the sandbox models no deals, so no deal id exists.
    put = examples("put", "/customObjects/schemas/{schemaId}")["Request Example"]
    ok(api.put(f"/customObjects/schemas/{contact_schema}", put))
    for path in (
        "/customObjects/schemas",
        f"/customObjects/schemas/{contact_schema}",
        f"/customObjects/records/{contact_schema}",
        f"/customObjects/records/{contact_schema}/{made['record']['id']}",
    ):
        ok(api.get(path))
    ok(api.delete(f"/customObjects/schemas/{contact_schema}/fields/my-number-field"))


def test_it_accepts_the_documented_webhook_import_and_campaign_examples(demo):
    replay_webhook_import_and_campaign(demo)


def replay_webhook_import_and_campaign(demo):
    api = demo.api
    hook = ok(api.post("/webhooks", examples("post", "/webhooks")["JSON"]))["webhook"]
    ok(api.put(f"/webhooks/{hook['id']}", examples("put", "/webhooks/{id}")["Request Example"]))
    ok(api.get("/webhooks"))
    ok(api.get(f"/webhooks/{hook['id']}"))
    fields = {f["title"]: f["id"] for f in ok(api.get("/fields"))["fields"]}
    by_example = {1: int(fields["D365 Id"]), 2: int(fields["Interests"])}
    queued = ok(
        api.post(
            "/import/bulk_import",
            swap(examples("post", "/import/bulk_import")["Request Example"], id=by_example.get),
        )
    )
    assert demo.app.imports.drain(10)
    info = ok(api.get("/import/info", params={"batchId": queued["batchId"]}))
    assert info["status"] == "completed" and len(info["success"]) == 1, json.dumps(info)
    ok(api.get("/import/bulk_import"))
    message = ok(api.post("/messages", examples("post", "/messages")["Request Example"]))["message"]
    ok(api.put(f"/messages/{message['id']}", examples("put", "/messages/{id}")["Request Example"]))
    ok(api.post("/campaign", examples("post", "/campaign")["Create Campaign"]))


def test_it_compared_every_implemented_operation_with_the_reference(ac):
    """Replaying the examples checks every implemented operation against the reference."""
    checked = Checked()
    ac.api = AcClient(ac.url, ac.key, checked=checked)
    ac.app.seed(2)
    for replay in (
        replay_contact_and_field,
        replay_tag_list_and_automation,
        replay_account,
        replay_custom_object,
        replay_webhook_import_and_campaign,
    ):
        replay(ac)
    expected_requests = {
        ("POST", "/contacts"),
        ("POST", "/contact/sync"),
        ("PUT", "/contacts/{id}"),
        ("POST", "/fields"),
        ("PUT", "/fields/{id}"),
        ("POST", "/fieldOption/bulk"),
        ("POST", "/fieldRels"),
        ("POST", "/fieldValues"),
        ("PUT", "/fieldValues/{id}"),
        ("POST", "/tags"),
        ("PUT", "/tags/{id}"),
        ("POST", "/contactTags"),
        ("POST", "/lists"),
        ("POST", "/contactLists"),
        ("POST", "/contactAutomations"),
        ("POST", "/accounts"),
        ("PUT", "/accounts/{id}"),
        ("POST", "/accountContacts"),
        ("PUT", "/accountContacts/{id}"),
        ("POST", "/accountCustomFieldMeta"),
        ("PUT", "/accountCustomFieldMeta/{id}"),
        ("PUT", "/accountCustomFieldData/{id}"),
        ("POST", "/customObjects/schemas"),
        ("PUT", "/customObjects/schemas/{schemaId}"),
        ("POST", "/customObjects/records/{schemaId}"),
        ("POST", "/webhooks"),
        ("PUT", "/webhooks/{id}"),
        ("POST", "/import/bulk_import"),
        ("POST", "/messages"),
        ("PUT", "/messages/{id}"),
        ("POST", "/campaign"),
    }
    assert expected_requests - checked.requests_validated == set()
    compared = {(m, t) for m, t, _status in checked.responses_compared}
    # POST /fields is a listed exception (conftest.EXAMPLE_EXCEPTIONS).
    expected_answers = expected_requests - {("POST", "/fields")} | {
        ("GET", "/contacts"),
        ("GET", "/contacts/{id}"),
        ("GET", "/fields"),
        ("GET", "/fields/{id}"),
        ("GET", "/fieldValues"),
        ("GET", "/fieldValues/{id}"),
        ("GET", "/contacts/{id}/fieldValues"),
        ("GET", "/tags"),
        ("GET", "/tags/{id}"),
        ("GET", "/lists"),
        ("GET", "/lists/{id}"),
        ("GET", "/contacts/{id}/contactLists"),
        ("GET", "/contactAutomations"),
        ("GET", "/contactAutomations/{id}"),
        ("GET", "/contacts/{id}/contactAutomations"),
        ("GET", "/campaigns"),
        ("GET", "/campaigns/{id}"),
        ("GET", "/messages"),
        ("GET", "/messages/{id}"),
        ("GET", "/webhook/events"),
        ("GET", "/accountContacts"),
        ("GET", "/accountContacts/{id}"),
        ("GET", "/contacts/{id}/accountContacts"),
        ("GET", "/accountCustomFieldMeta"),
        ("GET", "/accountCustomFieldMeta/{id}"),
        ("GET", "/accountCustomFieldData"),
        ("GET", "/accountCustomFieldData/{id}"),
        ("GET", "/customObjects/schemas"),
        ("GET", "/customObjects/schemas/{id}"),
        ("GET", "/customObjects/records/{schemaId}"),
        ("GET", "/customObjects/records/{schemaId}/{recordId}"),
        ("GET", "/webhooks/{id}"),
        ("GET", "/import/info"),
        ("GET", "/import/bulk_import"),
        ("DELETE", "/contactTags/{id}"),
        ("DELETE", "/contactAutomations/{id}"),
        ("DELETE", "/customObjects/schemas/{schemaId}/fields/{fieldId}"),
    }
    assert expected_answers - compared == set()
