"""The endpoint over the test client: a wrong secret or a malformed body stores nothing; a
delivery is stored once, queued, and a flood gets 429; the URL is shown once and rotated."""

from __future__ import annotations

import re
import urllib.parse

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from integrations.models import AuditEntry, Integration
from sync.models import WebhookDelivery, WebhookEndpoint
from sync.webhooks.services import secret_hash, webhook_secret_rotate
from tests.sync.webhooks.conftest import FORM, SAMPLE, body, hook_url

pytestmark = pytest.mark.django_db


def _post(client, url, data=None, content_type=FORM):
    return client.post(
        url, data=SAMPLE.read_bytes() if data is None else data, content_type=content_type
    )


def test_it_stores_a_real_shaped_delivery_and_queues_it(
    client, webhook_secret, no_enqueue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, hook_url(webhook_secret))

    assert response.status_code == 202, response.content
    delivery = WebhookDelivery.objects.get()
    assert response.json() == {"delivery": delivery.pk, "status": "accepted"}
    assert (delivery.event, delivery.contact_id, delivery.email, delivery.entity) == (
        "update",
        "10",
        "ana@contoso.example",
        "contact",
    )
    assert delivery.status == WebhookDelivery.Status.QUEUED
    assert delivery.payload["contact"]["fields"]["interests"] == "||CRM||Marketing||"
    assert no_enqueue == [delivery.pk]


def test_the_same_delivery_twice_is_stored_once(
    client, webhook_secret, no_enqueue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, hook_url(webhook_secret))
        second = _post(client, hook_url(webhook_secret))
        other_entity = _post(client, hook_url(webhook_secret, "lead"))

    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json() == {"delivery": first.json()["delivery"], "status": "duplicate"}
    assert other_entity.status_code == 202  # asks for something else: a delivery of its own
    assert WebhookDelivery.objects.count() == 2
    assert len(no_enqueue) == 2


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize("secret", ["wrong", "x" * 43, "x" * 500, "%00", "é", "a" * 42 + "-"])
def test_a_wrong_secret_gets_404_and_stores_nothing(
    client, webhook_secret, no_enqueue, method, secret
):
    url = hook_url(secret)

    response = client.generic(method.upper(), url, data=SAMPLE.read_bytes(), content_type=FORM)

    assert response.status_code == 404
    assert not WebhookDelivery.objects.exists() and no_enqueue == []


def test_a_rotated_secret_stops_working(client, webhook_secret, no_enqueue):
    integration = Integration.objects.get(webhook_endpoint__isnull=False)
    new = webhook_secret_rotate(integration=integration)

    assert _post(client, hook_url(webhook_secret)).status_code == 404
    assert _post(client, hook_url(new)).status_code == 202
    assert WebhookEndpoint.objects.get().secret_hash == secret_hash(new)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"", FORM),
        (b"garbage\xff\xfe", FORM),
        (b"%%%", FORM),
        (b"type=update", FORM),
        (b'{"type": "update", "contact": {"email": "ana@contoso.example"}}', "application/json"),
        (SAMPLE.read_bytes(), "text/plain"),
        (b"type=update&contact%5Bemail%5D=ana%40contoso.example&contact%5Bemail%5D%5Bx%5D=1", FORM),
    ],
)
def test_a_malformed_body_gets_400_and_stores_nothing(
    client, webhook_secret, no_enqueue, data, content_type
):
    response = _post(client, hook_url(webhook_secret), data, content_type)

    assert response.status_code == 400, response.content
    assert "error" in response.json()
    assert not WebhookDelivery.objects.exists() and no_enqueue == []


def test_an_unknown_entity_gets_400(client, webhook_secret, no_enqueue):
    response = _post(client, hook_url(webhook_secret, "account"))

    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()


def test_a_get_with_the_right_secret_is_not_allowed(client, webhook_secret):
    response = client.get(hook_url(webhook_secret))

    assert response.status_code == 405 and response["Allow"] == "POST"


def test_it_needs_no_csrf_token(webhook_secret, no_enqueue):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        hook_url(webhook_secret), data=SAMPLE.read_bytes(), content_type=FORM
    )

    assert response.status_code == 202


def test_a_flood_gets_429_with_retry_after_and_nothing_accepted_is_lost(
    monkeypatch, client, webhook_secret, no_enqueue, settings, django_capture_on_commit_callbacks
):
    from connectors import ratelimit

    settings.REDIS_URL = ""  # this process's own throttle store, fresh for this test
    monkeypatch.setattr(ratelimit, "_local_store", ratelimit.LocalStore())
    settings.SYNC_WEBHOOK_RATE_PER_MINUTE = 3
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            answers.append(_post(client, hook_url(webhook_secret), body(id=str(100 + n))))

    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    assert 1 <= int(answers[3]["Retry-After"]) <= 60
    assert WebhookDelivery.objects.count() == 3
    assert sorted(no_enqueue) == sorted(WebhookDelivery.objects.values_list("pk", flat=True))


def test_an_administrator_creates_the_url_and_sees_it_once(client, ac_admin):
    client.force_login(ac_admin)

    created = client.post(reverse("sync:webhook_rotate"))
    page = client.get(reverse("sync:webhook"))
    again = client.get(reverse("sync:webhook"))

    assert created.status_code == 302
    html = page.content.decode()
    [url] = re.findall(r'value="(http://testserver/hooks/activecampaign/[^"]+/)"', html)
    secret = url.rstrip("/").rsplit("/", 1)[1]
    assert len(secret) >= 40
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret_hash == secret_hash(secret) and secret not in endpoint.secret_hash
    assert page["Cache-Control"] == "no-store"
    assert secret not in again.content.decode()
    entry = AuditEntry.objects.get(action="sync.webhook_secret")
    assert entry.actor == ac_admin and secret not in str(entry.changes) + entry.summary


def test_rotating_replaces_the_url_and_is_audited(client, ac_admin, webhook_secret):
    client.force_login(ac_admin)

    client.post(reverse("sync:webhook_rotate"))
    html = client.get(reverse("sync:webhook")).content.decode()

    assert webhook_secret not in html
    assert "/hooks/activecampaign/" in html
    assert AuditEntry.objects.filter(action="sync.webhook_secret").count() == 2
    assert (
        client.post(
            hook_url(webhook_secret), data=SAMPLE.read_bytes(), content_type=FORM
        ).status_code
        == 404
    )


def test_the_rotate_page_is_post_only_and_for_administrators(client, ac_user, ac_admin):
    client.force_login(ac_user)
    assert client.post(reverse("sync:webhook_rotate")).status_code == 403
    assert not WebhookEndpoint.objects.exists()
    client.force_login(ac_admin)
    assert client.get(reverse("sync:webhook_rotate")).status_code == 405
    assert not WebhookEndpoint.objects.exists()


def test_an_administrator_chooses_what_the_webhook_creates(
    client, ac_admin, webhook_secret, no_enqueue
):
    client.force_login(ac_admin)

    saved = client.post(reverse("sync:webhook"), {"entity": "lead"})
    refused = client.post(reverse("sync:webhook"), {"entity": "account"})
    stored = _post(client, hook_url(webhook_secret))

    assert saved.status_code == 302 and refused.status_code == 200
    assert WebhookEndpoint.objects.get().entity == "lead"
    assert WebhookDelivery.objects.get(pk=stored.json()["delivery"]).entity == "lead"
    assert AuditEntry.objects.filter(action="sync.webhook_entity").count() == 1


def test_no_body_makes_the_endpoint_fail(client, webhook_secret, no_enqueue):
    url = hook_url(webhook_secret)
    keys = st.one_of(
        st.sampled_from(["type", "contact[id]", "contact[email]", "contact[fields][x]", "a[]"]),
        st.text(max_size=20),
    )
    forms = st.lists(st.tuples(keys, st.text(max_size=30)), max_size=8).map(
        lambda pairs: urllib.parse.urlencode(pairs).encode()
    )
    content_types = [FORM, f"{FORM}; charset=latin-1", "application/json", "", "text/plain"]

    @hypothesis_settings(
        max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        st.one_of(forms, st.binary(max_size=200)),
        st.sampled_from(content_types),
        st.sampled_from([None, "lead", "contact", "", "x" * 300, "\x00"]),
    )
    def post(data, content_type, entity):
        target = url if entity is None else f"{url}?{urllib.parse.urlencode({'entity': entity})}"
        before = WebhookDelivery.objects.count()
        response = client.generic("POST", target, data, content_type=content_type)
        assert response.status_code in (200, 202, 400), (response.status_code, data)
        stored = WebhookDelivery.objects.count() - before
        assert stored == (1 if response.status_code == 202 else 0)

    post()
