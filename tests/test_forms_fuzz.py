"""Random and oversized input to every form and query of the product, as an administrator:
never a 5xx, and a refused submission changes nothing.

The forms are found, not listed: every named URL of the URL conf is fetched, and every <form>
on every page (with its fields, and the `next`/hidden values it carries) becomes a target, as
does every URL with random query parameters. A new page or form is covered without touching
this file; a new URL the crawl cannot reach fails `test_it_reaches_every_url`.

No network: DNS answers nothing (so Connect fails fast, as for an unknown host) and local URLs
are not allowed, so no request leaves the process.
"""

from __future__ import annotations

import html.parser
import socket
import sys
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.signals import got_request_exception
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import AuditEntry, Integration
from mapping import services as mapping_services
from sync.models import RecordLink, RunRecord, SyncRun, WebhookDelivery
from sync.webhooks.services import webhook_secret_rotate
from syncadmin import health
from tests.fixtures.metadata import metadata_seed
from tests.personas import make_user
from tests.test_url_access import ACCESS, _named_patterns
from users.roles import Role

pytestmark = pytest.mark.django_db

# Each URL argument, as the crawl fills it in.
URL_ARGS = {
    "entity": ["lead", "contact", "account"],
    "people": ["lead", "contact"],
    "user_pk": None,
    "run_pk": None,
    "record_id": None,
    "delivery_pk": None,
    "secret": ["not-the-secret"],
}
# Models whose rows record events, not configuration: they may grow on a refused submission.
EVENT_MODELS = {
    (AuditEntry._meta.app_label, AuditEntry._meta.model_name),
    ("sessions", "session"),
    ("admin", "logentry"),
    ("syncadmin", "apicallcounter"),  # vendor API calls counted for /metrics
}
RECORD_ID = "00000000-0000-0000-0000-000000000001"
# Query parameters the views read (besides every field name found on the pages).
QUERY_NAMES = [
    *("next", "q", "all", "index", "field", "operator", "value", "ac", "dv", "direction"),
    *("page", "sort", "automation", "campaign"),
]

NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "-1",
    "0",
    "1e309",
    "NaN",
    "9" * 40,
    "-9" * 20,
    "[]",
    "{}",
    "None",
    "true",
    "../../etc/passwd",
    "%00",
    "%",
    "{{ 7*7 }}",
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "\ud7ff\ufffd",
    "https://" + "a" * 64 + ".example.com",
    "https://" + "a" * 300,
    "https://[::1",
    "https://a.com:port",
    "https://127.1",
    "https://0x7f.0.0.1",
    "https://169.254.169.254",
    "https://localhost.",
    "//evil.example",
    "javascript:alert(1)",
    "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "11111111-2222-3333-4444-555555555555",
    "x" * 10_000,
    "é" * 3000,
]


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values seen
    choices: dict[str, list[str]] = field(default_factory=dict)
    anonymous: bool = False  # found on a page for visitors (the login form): sent as one


class _FormParser(html.parser.HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.names: set[str] = set()
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        if tag == "form":
            action = urljoin(self.page, attr.get("action") or self.page)
            self._form = Form(self.page, action, (attr.get("method") or "get").lower())
            self.forms.append(self._form)
            return
        name = attr.get("name")
        if tag in ("input", "select", "textarea", "button") and name:
            self.names.add(name)
            if self._form is not None and attr.get("type") not in ("submit",):
                self._form.fields.setdefault(name, []).append(attr.get("value") or "")
            if tag == "select":
                self._select = name
        if tag == "option" and self._form is not None and self._select:
            self._form.choices.setdefault(self._select, []).append(attr.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _urls(user_pk: int, run_pk: int, record_id: str, delivery_pk: int) -> dict[str, list[str]]:
    """Every named URL with its arguments filled in: name -> paths."""
    ids = {"user_pk": user_pk, "run_pk": run_pk, "record_id": record_id, "delivery_pk": delivery_pk}
    urls = {}
    for name in _named_patterns():
        args, _ = ACCESS[name]
        combos = [[]]
        for arg in args:
            values = URL_ARGS[arg] or [ids[arg]]
            combos = [[*c, v] for c in combos for v in values]
        urls[name] = [reverse(name, args=combo) for combo in combos]
    return urls


def _crawl(client, urls) -> tuple[list[Form], set[str], dict[str, int]]:
    """Fetch every URL as the administrator and as a visitor; collect forms and field names."""
    forms, names, statuses = [], set(QUERY_NAMES), {}
    for visitor in (client, Client()):
        for paths in urls.values():
            for path in paths:
                response = visitor.get(path)
                if visitor is client or response.status_code == 200:
                    statuses[path] = response.status_code
                if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                    continue
                parser = _FormParser(path)
                parser.feed(response.content.decode())
                for form in parser.forms:
                    form.anonymous = visitor is not client
                forms += parser.forms
                names |= parser.names
    unique = {}
    for form in forms:
        unique.setdefault((form.action, form.method, tuple(sorted(form.fields))), form)
    return list(unique.values()), names, statuses


def _snapshot() -> dict:
    """Every configuration row of the product, for "nothing changed"."""
    rows = {}
    for model in apps.get_models():
        label = (model._meta.app_label, model._meta.model_name)
        if label in EVENT_MODELS or model._meta.app_label in ("contenttypes", "auth"):
            continue
        if model._meta.app_label not in ("integrations", "mapping", "sync", "users", "syncadmin"):
            continue
        rows[label] = list(model.objects.order_by("pk").values_list())
    user_model = get_user_model()
    if user_model is not None:
        rows["users"] = list(
            user_model.objects.order_by("pk").values_list(
                "pk", "username", "email", "is_active", "is_superuser", "password"
            )
        )
        rows["groups"] = list(user_model.groups.through.objects.order_by("pk").values_list())
        rows["user_permissions"] = list(
            user_model.user_permissions.through.objects.order_by("pk").values_list()
        )
    return rows


def _value(form: Form, name: str):
    seen = [v for v in form.fields.get(name, []) + form.choices.get(name, []) if v]
    return st.one_of(
        *([st.sampled_from(seen)] if seen else []),
        st.sampled_from(NASTY),
        st.text(max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )


def _payload(form: Form, extra_names: list[str]):
    names = list(form.fields)

    @st.composite
    def build(draw):
        data: dict[str, list[str]] = {}
        for name in names:
            choice = draw(st.integers(0, 9))
            if choice == 0:
                continue  # the field left out
            values = draw(
                st.lists(_value(form, name), min_size=1, max_size=3 if choice == 1 else 1)
            )
            data[name] = values
        for name in draw(st.lists(st.sampled_from(extra_names), max_size=2)):
            data[name] = [draw(st.sampled_from(NASTY))]
        return data

    return build()


@pytest.fixture
def product(client, admin_user, monkeypatch, settings):
    """A product with something on every page: an integration with fields read, users."""
    settings.SYNCADMIN_ALLOW_LOCAL_URLS = False

    real_getaddrinfo = socket.getaddrinfo

    def no_dns(host, *args, **kwargs):
        # The database and Redis are reached by address; every name stays unknown.
        if host in ("127.0.0.1", "::1", "localhost"):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "no DNS in the fuzz test")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    # /healthz asks the broker and a worker: that is its own test's business.
    monkeypatch.setattr(health, "health_report", lambda **kw: (True, {"status": "ok"}))
    integration = Integration.objects.get(name="Default")
    metadata_seed(integration)
    mapping_services.entity_syncs_ensure(integration=integration)
    other = make_user("uma", role=Role.USER)
    make_user("nora")
    # A finished run with a failed record, so that the run page and its retry form are fuzzed.
    run = SyncRun.objects.create(
        integration=integration, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.SUCCEEDED
    )
    RunRecord.objects.create(
        run=run,
        entity="contact",
        direction="push",
        outcome=RunRecord.Outcome.FAILED,
        dynamics_id=RECORD_ID,
        email="ana@contoso.example",
        reason="Email: not an e-mail address.",
    )
    # The same person as a synced lead and a synced contact, for the record pages and forms.
    for entity in ("lead", "contact"):
        RecordLink.objects.create(
            integration=integration,
            entity=entity,
            ac_object="contact",
            dynamics_id=RECORD_ID,
            ac_id=str(len(entity)),
            email="ana@contoso.example",
            state=RecordLink.State.LINKED,
        )
    # A webhook URL and a failed delivery, so that the webhook page and its forms are fuzzed.
    webhook_secret_rotate(integration=integration, actor=admin_user)
    delivery = WebhookDelivery.objects.create(
        integration=integration,
        event="update",
        contact_id="1",
        email="ana@contoso.example",
        entity="contact",
        dedupe_key="0" * 64,
        status=WebhookDelivery.Status.FAILED,
        error="Dynamics 365 refused the credentials.",
        run=run,
    )
    client.force_login(admin_user)
    return {"urls": _urls(other.pk, run.pk, RECORD_ID, delivery.pk), "admin": admin_user}


def test_it_reaches_every_url(client, product):
    forms, _, statuses = _crawl(client, product["urls"])

    assert all(status < 500 for status in statuses.values()), statuses
    actions = {urlsplit(f.action).path for f in forms}
    posted_to = {
        name for name, paths in product["urls"].items() if any(path in actions for path in paths)
    }
    fetched = {
        name
        for name, paths in product["urls"].items()
        if all(statuses[path] == 200 for path in paths)
    }
    # Every URL is a page that answers, or the target of a form on one; the webhook endpoint
    # is ActiveCampaign's (it answers 404 to a wrong secret).
    assert set(product["urls"]) == posted_to | fetched | {"healthz", "hook_activecampaign"}
    assert len([f for f in forms if f.method == "post"]) >= 8


# The data configuration pages (mapping/) belong to their own owner: what the fuzzing finds
# there is reported by a test of its own, so that it never hides a finding elsewhere.
DATA_CONFIGURATION = "/data/"


def _fuzz_forms(client, product, *, mapping: bool, examples: int) -> list[str]:
    """Submit random values to the forms; return what went wrong (a 5xx, a refused
    submission that changed something), one line per kind of finding."""
    forms, names, _ = _crawl(client, product["urls"])
    extra = sorted(names)
    targets = [
        (form, _payload(form, extra))
        for form in forms
        if urlsplit(form.action).path.startswith(DATA_CONFIGURATION) == mapping
    ]
    assert targets
    findings: dict[str, str] = {}
    errors: list[BaseException] = []

    def remember(sender, request=None, **kwargs):
        errors.append(sys.exc_info()[1])

    got_request_exception.connect(remember)
    client.raise_request_exception = False

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def submit(data):
        form, payload = targets[data.draw(st.integers(0, len(targets) - 1))]
        values = data.draw(payload)
        client.force_login(product["admin"])
        sender = Client(raise_request_exception=False) if form.anonymous else client
        errors.clear()
        before = _snapshot()
        if form.method == "post":
            response = sender.post(form.action, values)
        else:
            response = sender.get(form.action, values)
        after = _snapshot()
        where = f"{form.method.upper()} {urlsplit(form.action).path}"
        if response.status_code >= 500:
            error = errors[0] if errors else None
            kind = f"{response.status_code} from {where}: {error.__class__.__name__}"
            findings.setdefault(kind, f"{kind} ({str(error)[:80]!r}) with {values!r:.300}")
        elif response.status_code // 100 != 3 and before != after:
            changed = sorted(str(k) for k in before if before[k] != after.get(k))
            kind = f"{where} refused ({response.status_code}) yet changed {changed}"
            findings.setdefault(kind, f"{kind} with {values!r:.300}")

    try:
        submit()
    finally:
        got_request_exception.disconnect(remember)
    return sorted(findings.values())


def test_no_input_makes_a_form_fail_or_change_anything_when_refused(client, product):
    findings = _fuzz_forms(client, product, mapping=False, examples=200)

    assert findings == []


def test_no_input_makes_a_data_configuration_form_fail(client, product):
    findings = _fuzz_forms(client, product, mapping=True, examples=100)

    assert findings == []


def test_no_query_parameter_makes_a_page_fail(client, product):
    _, names, _ = _crawl(client, product["urls"])
    paths = [p for paths in product["urls"].values() for p in paths]
    keys = sorted(names)

    @settings(
        max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        st.sampled_from(paths),
        st.dictionaries(
            st.one_of(st.sampled_from(keys), st.text(max_size=10)),
            st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=30)), max_size=3),
            max_size=4,
        ),
    )
    def fetch(path, query):
        client.force_login(product["admin"])
        before = _snapshot()
        response = client.get(path, query)
        assert response.status_code < 500, f"{response.status_code} from GET {path} {query}"
        assert _snapshot() == before, f"GET {path} {query} changed something"

    fetch()
