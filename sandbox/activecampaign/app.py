"""A local server that behaves like ActiveCampaign's v3 API (and v1 `campaign_send`).

Built to ActiveCampaign's public v3 reference and the clients published against it; the §
marks in comments name the topics of the Sources table in README.md (next to this file), which
lists the public pages and client code behind each. One database may hold several
AC accounts: the `Api-Token` decides the account, each has its own data and its own
rate limit (5 requests/second by default, §1.5).
"""

from __future__ import annotations

import logging
import math
import secrets
import sqlite3
import threading
import time

from waitress.channel import ClientDisconnected
from werkzeug.wrappers import Request, Response

from sandbox.core import Faults, RequestLog, SandboxApp, SlidingWindow
from sandbox.store import Database
from sandbox.worker import BackgroundQueue

from . import (
    accounts,
    activities,
    automations,
    campaigns,
    contacts,
    custom_objects,
    deals,
    fields,
    forms,
    imports,
    lists,
    tags,
    users,
    webhooks,
)
from .accounts import AccountsApi
from .activities import ActivitiesApi
from .automations import AutomationsApi
from .campaigns import CampaignsApi, v1_answer
from .contacts import ContactFragments, ContactsApi, TenantCounts
from .context import TENANT_KEY
from .control import PREFIX, SandboxControl
from .custom_objects import CustomObjectsApi
from .deals import DealsApi
from .deliveries import WebhookDispatcher
from .fields import FieldsApi
from .formats import AccountTime, ApiError, invalid, message_error
from .forms import FormsApi
from .imports import ImportsApi
from .lists import ListsApi
from .schema import schema_ensure
from .seeding import seed_account
from .tags import TagsApi
from .users import UsersApi
from .webhooks import WebhooksApi

logger = logging.getLogger(__name__)

DEFAULT_ACCOUNT = "demo"  # the account `seed()` fills; runner.py hands its key to the demo
REMAINING_KEY = "activecampaign.remaining"


class AccountWindow(SlidingWindow):
    """The base sliding log, also telling how many requests are left (RateLimit-Remaining)."""

    def hit_remaining(self, key: str) -> tuple[float, int]:
        now = time.monotonic()
        wait = self.hit(key, now)
        with self._lock:
            used = len(self._hits.get(key, ()))
        return wait, max(0, self.limit - used)


class ActiveCampaignSandbox(
    ContactsApi,
    FieldsApi,
    TagsApi,
    ListsApi,
    AccountsApi,
    CustomObjectsApi,
    AutomationsApi,
    CampaignsApi,
    ActivitiesApi,
    WebhooksApi,
    ImportsApi,
    UsersApi,
    DealsApi,
    FormsApi,
    SandboxControl,
    SandboxApp,
):
    name = "activecampaign"
    ROUTES = [
        *contacts.RULES,
        *fields.RULES,
        *tags.RULES,
        *lists.RULES,
        *accounts.RULES,
        *custom_objects.RULES,
        *automations.RULES,
        *campaigns.RULES,
        *activities.RULES,
        *webhooks.RULES,
        *imports.RULES,
        *users.RULES,
        *deals.RULES,
        *forms.RULES,
    ]

    @property
    def rules(self) -> list:
        """Unbound copies of ROUTES: a werkzeug Rule can belong to one Map only, and every
        sandbox instance (tests make many) builds its own Map from `rules`."""
        return [rule.empty() for rule in self.ROUTES]

    def __init__(
        self,
        db: Database,
        *,
        rate_limit: int | None = 5,
        utc_offset: str = "-05:00",
        faults: Faults | None = None,
        log: RequestLog | None = None,
    ) -> None:
        super().__init__(faults=faults, log=log)
        self.db = db
        schema_ensure(db)
        self.time = AccountTime(utc_offset)
        self.clock = time.time  # tests may replace it to control timestamps
        self._window: AccountWindow | None = None
        self._rate_limit: int | None = None
        self.rate_limit = rate_limit
        self.contact_counts = TenantCounts()
        self.contact_fragments = ContactFragments()
        self.webhooks = WebhookDispatcher(db, self.time, lambda: self.clock())
        self.imports = BackgroundQueue("activecampaign-imports", self.import_process)
        self.import_delay = 0.0
        self.record_list_lag = 0.0
        self._import_single = SlidingWindow(20, 60.0)
        self._import_multi = SlidingWindow(100, 60.0)
        self._keys: dict[str, tuple[int, str]] = {}
        self._keys_lock = threading.Lock()
        for row in db.execute("SELECT id, name, api_key FROM tenants"):
            self._keys[row["api_key"]] = (row["id"], row["name"])

    # -- the contract runner.py uses -------------------------------------------------------------
    @property
    def rate_limit(self) -> int | None:
        """Requests per second per account; None turns limiting off. Settable at run time."""
        return self._rate_limit

    @rate_limit.setter
    def rate_limit(self, value: int | None) -> None:
        self._rate_limit = value
        self._window = AccountWindow(value, 1.0) if value else None

    def account_ensure(self, name: str) -> tuple[str, str]:
        """(account name, API key), creating the account with a random key if absent."""
        with self._keys_lock:
            row = self.db.execute_one("SELECT id, api_key FROM tenants WHERE name = ?", (name,))
            if row is None:
                # AC keys are 72 hex characters.
                api_key = secrets.token_hex(36)
                tenant = self.db.insert(
                    "INSERT INTO tenants (name, api_key, created) VALUES (?, ?, ?)",
                    (name, api_key, self.clock()),
                )
            else:
                tenant, api_key = row["id"], row["api_key"]
            self._keys[api_key] = (tenant, name)
        return name, api_key

    def tenant_id(self, name: str) -> int:
        self.account_ensure(name)
        return self.db.execute_one("SELECT id FROM tenants WHERE name = ?", (name,))["id"]

    def is_empty(self) -> bool:
        return self.db.execute_one("SELECT 1 FROM contacts LIMIT 1") is None

    def seed(self, count: int) -> None:
        """Fill the default account with `count` people's worth of realistic data."""
        tenant = self.tenant_id(DEFAULT_ACCOUNT)
        seed_account(self.db, tenant, count, now=int(self.clock()))
        self.contact_counts.forget(tenant)

    def close(self) -> None:
        """Stop the background threads (webhook deliveries, imports)."""
        self.imports.close()
        self.webhooks.close()

    # -- hooks of SandboxApp ----------------------------------------------------------------------
    @staticmethod
    def _key(request: Request) -> str:
        key = request.headers.get("Api-Token", "")
        if not key and request.path == "/admin/api.php":
            key = request.args.get("api_key", "")  # older v1 clients (§1.1)
        return key.strip()

    def account_of(self, request: Request) -> str:
        found = self._keys.get(self._key(request))
        return found[1] if found else ""

    def before(self, request: Request, account: str) -> Response | None:
        found = self._keys.get(self._key(request))
        if found is None:
            if request.path == "/admin/api.php":
                # v1 refuses bad credentials inside a 200 (ActiveCampaign/activecampaign-api-php
                # issue #8: "You are not authorized to access this file").
                return v1_answer(0, "You are not authorized to access this file")
            # DOC errors: 403 = "could not be authenticated"; the body is the message style of
            # most SPEC 403 examples (`{"message": "Forbidden"}`). Real 403s have been seen
            # without a JSON body at all (GearPlug/activecampaign-python issue #11).
            return message_error(403, "Forbidden")
        request.environ[TENANT_KEY] = found[0]
        window = self._window
        if window is not None:
            wait, remaining = window.hit_remaining(account)
            request.environ[REMAINING_KEY] = remaining
            if wait > 0:
                return self.rate_limited(request, account, max(1, math.ceil(wait)))
        return None

    def rate_limited(self, request: Request, account: str, retry_after: int) -> Response:
        # §1.5: 429 with Retry-After (seconds); no reset header.
        response = message_error(429, "Too Many Requests")
        response.headers["Retry-After"] = str(retry_after)
        return response

    def error_response(self, status: int, message: str) -> Response:
        return message_error(status, message)

    def dispatch(self, request: Request, account: str) -> tuple[Response, str]:
        try:
            response, fault = super().dispatch(request, account)
        except ApiError as error:
            response, fault = error.response, ""
        except ClientDisconnected:
            raise
        except sqlite3.IntegrityError:
            # Two requests raced past the duplicate check (tags, accounts, links are unique):
            # the loser gets what ActiveCampaign answers a duplicate, not a server error.
            response, fault = invalid("Duplicate entry", code="duplicate"), ""
        except Exception:
            logger.exception("activecampaign sandbox: %s %s failed", request.method, request.path)
            response, fault = message_error(500, "Internal sandbox error"), ""
        window, limit = self._window, self._rate_limit
        if window is not None and limit and account:
            # §1.5: answers carry RateLimit-Limit and RateLimit-Remaining (GO client/core.go).
            remaining = request.environ.get(REMAINING_KEY)
            if remaining is None:
                remaining = max(0, limit - len(window._hits.get(account, ())))
            response.headers["RateLimit-Limit"] = str(limit)
            response.headers["RateLimit-Remaining"] = str(remaining)
        return response, fault

    def _admin(self, request: Request) -> Response:
        if request.path.startswith(PREFIX + "/"):
            return self.control(request)
        return super()._admin(request)
