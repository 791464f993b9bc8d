"""Webhook registrations and deliveries: RemoteExecutionContext bodies, headers, auth options,
the one retry on 502/503/504 (S26, S27)."""

from __future__ import annotations

import json
import threading

import pytest
import requests
from werkzeug.wrappers import Request, Response

from sandbox.server import serve

pytestmark = pytest.mark.integration


class Receiver:
    """A webhook endpoint that records what it gets and answers scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.requests.append(
                {
                    "path": request.path,
                    "args": dict(request.args),
                    "headers": dict(request.headers),
                    "body": request.get_data(as_text=True),
                }
            )
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("", status=status)(environ, start_response)


@pytest.fixture
def receiver():
    app = Receiver()
    handle = serve(app, name="webhook-receiver")
    app.url = handle.url
    yield app
    handle.stop()


def test_it_posts_a_remote_execution_context_on_create_update_and_delete(dv, s, receiver):
    response = requests.post(
        f"{dv.url}/_sandbox/dataverse/webhooks",
        json={
            "url": f"{receiver.url}/hooks/dynamics",
            "auth_type": "HttpHeader",
            "auth_value": {"x-hook-secret": "s3cret"},
            "entities": ["contact"],
        },
        headers=dv.app.control_headers,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    account = dv.create("accounts", {"name": "No hook for accounts"})
    contact = dv.create(
        "contacts",
        {"lastname": "Hooked", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
    )
    s.patch(f"{dv.api}/contacts({contact})", json={"jobtitle": "CEO"}, headers={"If-Match": "*"})
    s.delete(f"{dv.api}/contacts({contact})")
    assert dv.app.webhooks.wait_idle(10)
    assert [r["headers"]["X-Ms-Dynamics-Request-Name"] for r in receiver.requests] == [
        "Create",
        "Update",
        "Delete",
    ]
    first = receiver.requests[0]
    assert first["path"] == "/hooks/dynamics"
    assert first["headers"]["X-Hook-Secret"] == "s3cret"
    assert first["headers"]["X-Ms-Dynamics-Entity-Name"] == "contact"
    assert first["headers"]["X-Ms-Dynamics-Organization"]
    assert first["headers"]["X-Ms-Correlation-Request-Id"]
    assert "\\/Date(" in first["body"]  # WCF-style dates
    body = json.loads(first["body"])
    assert body["MessageName"] == "Create"
    assert body["PrimaryEntityName"] == "contact"
    assert body["PrimaryEntityId"] == contact
    user = s.get(f"{dv.api}/WhoAmI").json()["UserId"]
    assert body["UserId"] == body["InitiatingUserId"] == user
    assert body["OperationCreatedOn"].startswith("/Date(")
    [target] = [p["value"] for p in body["InputParameters"] if p["key"] == "Target"]
    attributes = {a["key"]: a["value"] for a in target["Attributes"]}
    assert attributes["lastname"] == "Hooked"
    assert attributes["parentcustomerid"]["LogicalName"] == "account"
    assert attributes["parentcustomerid"]["Id"] == account
    update = json.loads(receiver.requests[1]["body"])
    changed = {a["key"] for p in update["InputParameters"] for a in p["value"]["Attributes"]}
    assert "jobtitle" in changed and "lastname" not in changed
    delete = json.loads(receiver.requests[2]["body"])
    assert delete["InputParameters"][0]["value"]["__type"].startswith("EntityReference:")


def test_it_sends_webhook_keys_as_code_and_retries_only_gateway_errors(dv, s, receiver):
    dv.app.webhook_register(
        f"{receiver.url}/key?x=1", auth_type="WebhookKey", auth_value="k3y", entities=["lead"]
    )
    receiver.statuses = [503, 200, 500]
    dv.create("leads", {"lastname": "Retry"})
    dv.create("leads", {"lastname": "NoRetry"})
    assert dv.app.webhooks.wait_idle(10)
    assert [r["args"].get("code") for r in receiver.requests] == ["k3y", "k3y", "k3y"]
    assert receiver.requests[0]["args"]["x"] == "1"
    deliveries = [d for d in dv.app.webhooks.deliveries if d["entity"] == "lead"][-2:]
    assert [(d["status"], d["attempts"]) for d in deliveries] == [(200, 2), (500, 1)]


def test_it_filters_updates_by_attribute_and_stops_after_unregistering(dv, s, receiver):
    hook = dv.app.webhook_register(
        receiver.url, entities=["account"], messages=["Update"], filtering_attributes=["name"]
    )
    account = dv.create("accounts", {"name": "Filtered"})
    s.patch(f"{dv.api}/accounts({account})", json={"telephone1": "1"}, headers={"If-Match": "*"})
    s.patch(f"{dv.api}/accounts({account})", json={"name": "Renamed"}, headers={"If-Match": "*"})
    assert dv.app.webhooks.wait_idle(10)
    assert len(receiver.requests) == 1
    assert (
        requests.delete(
            f"{dv.url}/_sandbox/dataverse/webhooks/{hook['id']}",
            headers=dv.app.control_headers,
            timeout=10,
        ).status_code
        == 200
    )
    s.patch(f"{dv.api}/accounts({account})", json={"name": "Again"}, headers={"If-Match": "*"})
    assert dv.app.webhooks.wait_idle(10)
    assert len(receiver.requests) == 1


def test_it_sends_nothing_for_a_rolled_back_change_set(dv, s, receiver):
    dv.app.webhook_register(receiver.url, entities=["account"])
    boundary = "batch_rb"
    cs = "changeset_rb"
    body = "\r\n".join(
        [
            f"--{boundary}",
            f'Content-Type: multipart/mixed; boundary="{cs}"',
            "",
            f"--{cs}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "Content-ID: 1",
            "",
            "POST /api/data/v9.2/accounts HTTP/1.1",
            "Content-Type: application/json",
            "",
            json.dumps({"name": "Rolled back"}),
            f"--{cs}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            "Content-ID: 2",
            "",
            "POST /api/data/v9.2/accounts HTTP/1.1",
            "Content-Type: application/json",
            "",
            json.dumps({"name": "n" * 200}),
            f"--{cs}--",
            f"--{boundary}--",
            "",
        ]
    )
    response = s.post(
        f"{dv.api}/$batch",
        data=body,
        headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
    )
    assert response.status_code == 400
    assert dv.app.webhooks.wait_idle(10)
    assert receiver.requests == []
