"""The Dataverse sandbox: one WSGI app serving the Entra token endpoint and the Web API.

Routes
- Identity (Entra v2.0): GET /{tenant}/v2.0/.well-known/openid-configuration,
  POST /{tenant}/oauth2/v2.0/token, GET /{tenant}/discovery/v2.0/keys,
  GET /common/discovery/instance.
- Web API: /api/data/v9.2/… (also v9.0/v9.1), bearer tokens checked on every call.
- Sandbox control (not part of Dataverse): /_sandbox/dataverse/… (app registrations, secrets,
  custom columns, change-tracking flags, settings, seeding, webhooks), plus the shared
  /_sandbox/faults and /_sandbox/log of SandboxApp.

Absolute URLs (discovery, nextLink, deltaLink, OData-EntityId, @odata.context) are built from
the request's own scheme/host/port, so one app object serves an HTTP and an HTTPS port.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import Concurrency, Faults, RequestLog, SandboxApp, SlidingWindow, json_response
from sandbox.store import Database

from .actions import Actions
from .api import JSON_TYPE, Answer, Call, WebApi, error_answer
from .batch import Batch
from .errors import DataverseError
from .identity import Identity, InvalidToken, TokenError, entra_error, origin_key
from .metadata import Metadata, column_from_spec
from .model import Caller, Model
from .query import Reader
from .records import Change, Writer, now_iso
from .schema import Column, Table
from .seeding import Seeder
from .storage import Store
from .webhooks import Webhooks, wcf_date, wcf_value

API_VERSIONS = ("v9.0", "v9.1", "v9.2")
REQUEST_LIMIT_CODE = "0x80072322"
EXECUTION_LIMIT_CODE = "0x80072321"
CONCURRENCY_LIMIT_CODE = "0x80072326"


@dataclass(frozen=True)
class AppRegistrationInfo:
    tenant_id: str
    client_id: str
    client_secret: str
    application_user_id: str | None


class ExecutionTime:
    """Combined execution time per user over a sliding window (the 20-minute limit, S18)."""

    def __init__(self, limit_ms: int, window: float) -> None:
        self.limit_ms = limit_ms
        self.window = window
        self._spent: dict[str, deque[tuple[float, float]]] = {}
        self._lock = threading.Lock()

    def add(self, key: str, seconds: float) -> None:
        with self._lock:
            self._spent.setdefault(key, deque()).append((time.monotonic(), seconds * 1000))

    def exceeded(self, key: str) -> float:
        """0 if under the limit, else seconds until enough time leaves the window."""
        now = time.monotonic()
        with self._lock:
            spent = self._spent.get(key)
            if not spent:
                return 0.0
            while spent and spent[0][0] <= now - self.window:
                spent.popleft()
            total = sum(ms for _, ms in spent)
            if total <= self.limit_ms:
                return 0.0
            return max(1.0, spent[0][0] + self.window - now)


class DataverseSandbox(SandboxApp):
    name = "dataverse"

    @property
    def rules(self) -> list[Rule]:  # type: ignore[override]
        # Fresh Rule objects per instance: a werkzeug Rule binds to one Map only, and tests
        # run several sandboxes side by side.
        api_methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
        return [
            Rule("/common/discovery/instance", endpoint="instance_discovery", methods=["GET"]),
            Rule("/<tenant>/discovery/instance", endpoint="instance_discovery", methods=["GET"]),
            Rule(
                "/<tenant>/v2.0/.well-known/openid-configuration",
                endpoint="openid_configuration",
                methods=["GET"],
            ),
            Rule("/<tenant>/oauth2/v2.0/token", endpoint="token", methods=["POST"]),
            Rule("/<tenant>/discovery/v2.0/keys", endpoint="jwks", methods=["GET"]),
            Rule(
                "/api/data/<version>/", endpoint="odata", defaults={"rest": ""}, methods=api_methods
            ),
            Rule("/api/data/<version>/<path:rest>", endpoint="odata", methods=api_methods),
        ]

    def __init__(
        self,
        db: Database,
        *,
        token_lifetime: int = 3600,
        requests_per_window: int | None = 6000,
        window_seconds: int = 300,
        concurrency: int | None = 52,
        execution_ms_per_window: int | None = None,
        faults: Faults | None = None,
        log: RequestLog | None = None,
    ) -> None:
        super().__init__(faults=faults, log=log)
        self.db = db
        self.model = Model()
        self.store = Store(db, self.model.tables)
        self.model.refresh()
        self.identity = Identity(db, token_lifetime=token_lifetime)
        self.webhooks = Webhooks(db, self._webhook_context)
        self.writer = Writer(self.model, self.store, self._changed)
        self.reader = Reader(self.model, self.store)
        self.api = WebApi(self)
        self.metadata = Metadata(self)
        self.batch = Batch(self)
        self.actions = Actions(self)
        self._local = threading.local()
        self._callers: dict[str, Caller | None] = {}
        self._control = Map(
            [
                Rule("/_sandbox/dataverse/state", endpoint="state", methods=["GET"]),
                Rule("/_sandbox/dataverse/settings", endpoint="settings", methods=["GET", "PUT"]),
                Rule("/_sandbox/dataverse/seed", endpoint="seed", methods=["POST"]),
                Rule(
                    "/_sandbox/dataverse/app-registrations",
                    endpoint="registrations",
                    methods=["GET", "POST"],
                ),
                Rule(
                    "/_sandbox/dataverse/app-registrations/<client_id>",
                    endpoint="registration",
                    methods=["DELETE"],
                ),
                Rule(
                    "/_sandbox/dataverse/app-registrations/<client_id>/secrets",
                    endpoint="secrets",
                    methods=["POST"],
                ),
                Rule(
                    "/_sandbox/dataverse/app-registrations/<client_id>/secrets/expire",
                    endpoint="secrets_expire",
                    methods=["POST"],
                ),
                Rule(
                    "/_sandbox/dataverse/app-registrations/<client_id>/secrets/revoke",
                    endpoint="secrets_revoke",
                    methods=["POST"],
                ),
                Rule(
                    "/_sandbox/dataverse/app-registrations/<client_id>/certificates",
                    endpoint="certificates",
                    methods=["POST"],
                ),
                Rule(
                    "/_sandbox/dataverse/tables/<logical>", endpoint="table", methods=["GET", "PUT"]
                ),
                Rule(
                    "/_sandbox/dataverse/tables/<logical>/columns",
                    endpoint="columns",
                    methods=["POST"],
                ),
                Rule("/_sandbox/dataverse/webhooks", endpoint="webhooks", methods=["GET", "POST"]),
                Rule(
                    "/_sandbox/dataverse/webhooks/deliveries",
                    endpoint="deliveries",
                    methods=["GET"],
                ),
                Rule(
                    "/_sandbox/dataverse/webhooks/<hook_id>", endpoint="webhook", methods=["DELETE"]
                ),
            ],
            strict_slashes=False,
        )
        self.window_seconds = window_seconds
        self.requests_per_window = requests_per_window
        self.concurrency = concurrency
        self.execution_ms_per_window = execution_ms_per_window
        self.org_host = "localhost"
        self._bootstrap()

    # -- limits (mutable at run time; None turns one off) --------------------------------------
    @property
    def requests_per_window(self) -> int | None:
        return self._requests.limit if self._requests else None

    @requests_per_window.setter
    def requests_per_window(self, value: int | None) -> None:
        self._requests = SlidingWindow(value, self.window_seconds) if value is not None else None

    @property
    def window_seconds(self) -> int:
        return self._window_seconds

    @window_seconds.setter
    def window_seconds(self, value: int) -> None:
        self._window_seconds = value
        if getattr(self, "_requests", None) is not None:
            self._requests = SlidingWindow(self._requests.limit, value)
        if getattr(self, "_execution", None) is not None:
            self._execution = ExecutionTime(self._execution.limit_ms, value)

    @property
    def concurrency(self) -> int | None:
        return self._concurrency.limit if self._concurrency else None

    @concurrency.setter
    def concurrency(self, value: int | None) -> None:
        self._concurrency = Concurrency(value) if value is not None else None

    @property
    def execution_ms_per_window(self) -> int | None:
        return self._execution.limit_ms if self._execution else None

    @execution_ms_per_window.setter
    def execution_ms_per_window(self, value: int | None) -> None:
        self._execution = ExecutionTime(value, self.window_seconds) if value is not None else None

    @property
    def token_lifetime(self) -> int:
        return self.identity.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, value: int) -> None:
        self.identity.token_lifetime = value

    @property
    def expire_change_tracking_days(self) -> float:
        row = self.store.query_one(
            "SELECT expirechangetrackingindays FROM dv_organization WHERE organizationid = ?",
            (self.organization_id,),
        )
        return float(row[0]) if row and row[0] is not None else 7.0

    @expire_change_tracking_days.setter
    def expire_change_tracking_days(self, value: float) -> None:
        with self.store.atomic():
            self.writer._touch(
                self.model.tables["organization"],
                self.organization_id,
                {"expirechangetrackingindays": value},
                None,
                message=None,
            )

    # -- bootstrap ---------------------------------------------------------------------------
    def _bootstrap(self) -> None:
        store = self.store
        tenant_id = store.setting("tenant_id")
        if tenant_id is None:
            tenant_id = self.identity.tenant_create("Contoso")
            store.setting_set("tenant_id", tenant_id)
        self.tenant_id = tenant_id
        if store.setting("organization_id") is None:
            ids = {
                k: str(uuid.uuid4())
                for k in ("organization", "business_unit", "currency", "system_user")
            }
            with store.atomic():
                self._bootstrap_row(
                    "businessunit", {"businessunitid": ids["business_unit"], "name": "contoso"}
                )
                self._bootstrap_row(
                    "transactioncurrency",
                    {
                        "transactioncurrencyid": ids["currency"],
                        "currencyname": "US Dollar",
                        "isocurrencycode": "USD",
                        "currencysymbol": "$",
                        "exchangerate": 1.0,
                        "currencyprecision": 2,
                    },
                )
                self._bootstrap_row(
                    "systemuser",
                    {
                        "systemuserid": ids["system_user"],
                        "firstname": None,
                        "lastname": "SYSTEM",
                        "fullname": "SYSTEM",
                        "domainname": "",
                        "isdisabled": 1,
                        "accessmode": 0,
                        "businessunitid": ids["business_unit"],
                    },
                )
                self._bootstrap_row(
                    "organization",
                    {
                        "organizationid": ids["organization"],
                        "name": "contoso",
                        "expirechangetrackingindays": 7,
                        "basecurrencyid": ids["currency"],
                    },
                )
                store.setting_set("organization_id", ids["organization"])
                store.setting_set("business_unit_id", ids["business_unit"])
                store.setting_set("base_currency", ids["currency"])
                store.setting_set("system_user_id", ids["system_user"])
        self.organization_id = store.setting("organization_id")
        self.business_unit_id = store.setting("business_unit_id")
        self.currency_id = store.setting("base_currency")
        self.system_user_id = store.setting("system_user_id")

    def _bootstrap_row(self, logical: str, values: dict) -> None:
        table = self.model.tables[logical]
        now = now_iso()
        row = {c.logical: c.default for c in table.stored_columns() if c.default is not None}
        row.update({"createdon": now, "modifiedon": now})
        row.update(values)
        row["versionnumber"] = self.store.log_change(table, row[table.pk], "create", now)
        self.store.insert(table, row)

    # -- the runner's contract -------------------------------------------------------------------
    def is_empty(self) -> bool:
        return all(
            self.store.count(self.model.tables[t]) == 0
            for t in ("lead", "contact", "account", "opportunity")
        )

    def seed(self, count: int) -> dict[str, int]:
        """Add `count` demo people (sandbox.seed.people) as leads/contacts with accounts,
        opportunities and a few users; returns how many rows went into each table."""
        return Seeder(self, count).run()

    def app_registration_ensure(self) -> tuple[str, str, str]:
        """(tenant id, client id, client secret) of the default app registration, created with
        its application user on first use."""
        app = self.identity.default_app()
        if app is None:
            info = self.app_registration_create(name="syncadmin", default=True)
            return info.tenant_id, info.client_id, info.client_secret
        secret = self.identity.secret_current(app.client_id)
        if secret is None:
            _, secret = self.identity.secret_add(app.client_id)
        return app.tenant_id, app.client_id, secret

    def app_registration_create(
        self,
        *,
        name: str = "integration",
        application_user: bool = True,
        tenant_id: str | None = None,
        default: bool = False,
        secret_expires_in: float | None = None,
    ) -> AppRegistrationInfo:
        """An app registration (in the organization's tenant unless tenant_id is given) with a
        client secret and, unless application_user=False, its Dataverse application user."""
        tenant = tenant_id or self.tenant_id
        app = self.identity.app_create(tenant, name, default=default)
        _, secret = self.identity.secret_add(app.client_id, expires_in=secret_expires_in)
        user_id = self.application_user_create(app.client_id) if application_user else None
        return AppRegistrationInfo(tenant, app.client_id, secret, user_id)

    def tenant_create(self, name: str = "Fabrikam") -> str:
        return self.identity.tenant_create(name)

    def application_user_create(self, client_id: str) -> str:
        app = self.identity.app(client_id)
        if app is None:
            raise KeyError(client_id)
        user_id = str(uuid.uuid4())
        with self.store.atomic():
            self._bootstrap_row(
                "systemuser",
                {
                    "systemuserid": user_id,
                    "firstname": "#",
                    "lastname": app.name,
                    "fullname": f"# {app.name}",
                    "domainname": f"{app.client_id}@sandbox.example",
                    "internalemailaddress": f"{app.client_id}@sandbox.example",
                    "applicationid": app.client_id,
                    "azureactivedirectoryobjectid": app.object_id,
                    "accessmode": 4,
                    "isdisabled": 0,
                    "businessunitid": self.business_unit_id,
                },
            )
        self._callers.clear()
        return user_id

    def secret_add(self, client_id: str, *, expires_in: float | None = None) -> str:
        return self.identity.secret_add(client_id, expires_in=expires_in)[1]

    def secrets_expire(self, client_id: str) -> None:
        self.identity.secrets_expire(client_id)

    def secrets_revoke(self, client_id: str, secret_id: str | None = None) -> None:
        self.identity.secrets_revoke(client_id, secret_id)

    def certificate_add(self, client_id: str, certificate_pem: str) -> str:
        return self.identity.certificate_add(client_id, certificate_pem)

    def attribute_add(self, table: str, **spec) -> Column:
        """Add a custom column (e.g. new_acscore) to a table: storage, Web API property and
        metadata. spec: logical_name, type, display_name, max_length, options, targets, …"""
        logical = table
        target = self.model.tables.get(logical)
        if target is None:
            raise DataverseError(404, "0x80040217", f"Could not find entity with name '{logical}'.")
        column = column_from_spec(**spec)
        if column.logical in target.columns:
            raise DataverseError(
                400, "0x80044363", f"An attribute with the name {column.logical} already exists."
            )
        self.store.column_add(target, column)
        self.model.refresh()
        return target.columns[column.logical]

    def change_tracking_set(self, table: str, enabled: bool) -> None:
        self.store.change_tracking_set(self.model.tables[table], enabled)

    def webhook_register(self, url: str, **options) -> dict:
        return self.webhooks.register(url, **options)

    def table(self, logical: str) -> Table:
        return self.model.tables[logical]

    # -- SandboxApp hooks -----------------------------------------------------------------------
    def account_of(self, request: Request) -> str:
        if request.path.startswith("/api/"):
            header = request.headers.get("Authorization", "")
            if header[:7].lower() == "bearer ":
                try:
                    claims = self.identity.verify(header[7:].strip())
                except InvalidToken as error:
                    request.environ["dv.token_error"] = error
                    return ""
                request.environ["dv.claims"] = claims
                return claims.client_id
            return ""
        if request.path.endswith("/oauth2/v2.0/token") and request.method == "POST":
            return request.form.get("client_id", "")
        return ""

    def _caller(self, client_id: str) -> Caller | None:
        if client_id in self._callers:
            return self._callers[client_id]
        row = self.store.query_one(
            "SELECT systemuserid, businessunitid, azureactivedirectoryobjectid, isdisabled "
            "FROM dv_systemuser WHERE applicationid = ?",
            (client_id.lower(),),
        )
        caller = None
        if row is not None and not row["isdisabled"]:
            caller = Caller(
                row["systemuserid"],
                row["businessunitid"],
                client_id,
                row["azureactivedirectoryobjectid"],
            )
        self._callers[client_id] = caller
        return caller

    def _unauthorized(self, request: Request, reason: str, description: str | None) -> Response:
        origin = request.host_url.rstrip("/")
        authorize = f"{origin}/{self.tenant_id}/oauth2/authorize"
        challenge = f"Bearer authorization_uri={authorize}, resource_id={origin}/"
        if description:
            challenge = (
                f'Bearer error="invalid_token", error_description="{description}", ' + challenge[7:]
            )
        # Dataverse answers 401 for missing/bad/expired tickets (S1 lists the reason names);
        # the sandbox also puts them in the usual error body.
        message = (
            f"{reason}: {description}"
            if description
            else f"{reason}: The request is not authenticated."
        )
        return self._response(
            Answer(
                401, {"error": {"code": "", "message": message}}, {"WWW-Authenticate": challenge}
            )
        )

    def before(self, request: Request, account: str) -> Response | None:
        if not request.path.startswith("/api/"):
            return None
        error = request.environ.get("dv.token_error")
        if error is not None:
            return self._unauthorized(request, error.reason, error.description)
        claims = request.environ.get("dv.claims")
        if claims is None:
            return self._unauthorized(request, "RequestIsNotAuthenticated", None)
        if origin_key(claims.audience) != origin_key(request.host_url):
            return self._unauthorized(
                request,
                "InvalidAuthTicket",
                f"The token audience {claims.audience} is not this organization.",
            )
        if claims.tenant_id != self.tenant_id:
            return self._unauthorized(
                request, "InvalidAuthTicket", "The token was issued by another tenant."
            )
        caller = self._caller(claims.client_id)
        if caller is None:
            # A valid token but no (enabled) application user in this environment (§1.1, I6/I7).
            return self._response(
                Answer(
                    403,
                    {
                        "error": {
                            "code": "0x80072560",
                            "message": "The user is not a member of the organization.",
                        }
                    },
                )
            )
        request.environ["dv.caller"] = caller
        self.org_host = request.host
        if self._requests is not None:
            wait = self._requests.hit(account)
            if wait:
                return self._limited(
                    REQUEST_LIMIT_CODE,
                    f"Number of requests exceeded the limit of {self._requests.limit} over time "
                    f"window of {int(self._requests.window)} seconds.",
                    wait,
                )
        if self._execution is not None:
            wait = self._execution.exceeded(account)
            if wait:
                return self._limited(
                    EXECUTION_LIMIT_CODE,
                    f"Combined execution time of incoming requests exceeded limit of "
                    f"{self._execution.limit_ms:,} milliseconds over time window of "
                    f"{int(self._execution.window)} seconds. Decrease number of concurrent "
                    "requests or reduce the duration of requests and try again later.",
                    wait,
                )
        limiter = self._concurrency
        if limiter is not None:
            if not limiter.enter(account):
                return self._limited(
                    CONCURRENCY_LIMIT_CODE,
                    f"Number of concurrent requests exceeded the limit of {limiter.limit}.",
                    1,
                )
            request.environ["dv.concurrency"] = limiter
        return None

    def _limited(self, code: str, message: str, wait: float) -> Response:
        return self._response(
            Answer(
                429,
                {"error": {"code": code, "message": message}},
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
        )

    def dispatch(self, request: Request, account: str) -> tuple[Response, str]:
        self._local.request = request
        started = time.monotonic()
        try:
            return super().dispatch(request, account)
        finally:
            limiter = request.environ.pop("dv.concurrency", None)
            if limiter is not None:
                limiter.leave(account)
            execution = self._execution
            if execution is not None and account and request.path.startswith("/api/"):
                execution.add(account, time.monotonic() - started)
            self._local.request = None

    def _identity_path(self) -> bool:
        request = getattr(self._local, "request", None)
        return request is not None and not request.path.startswith(("/api/", "/_sandbox/"))

    def error_response(self, status: int, message: str) -> Response:
        if self._identity_path():
            error = entra_error(
                status,
                "temporarily_unavailable" if status >= 500 else "invalid_request",
                50000 if status >= 500 else 900144,
                message,
            )
            return json_response(error.body, status)
        code = "0x80040216" if status >= 500 else ("0x8006088a" if status == 404 else "0x0")
        return self._response(Answer(status, {"error": {"code": code, "message": message}}))

    def rate_limited(self, request: Request, account: str, retry_after: int) -> Response:
        if not request.path.startswith("/api/"):
            response = json_response(
                entra_error(
                    429,
                    "temporarily_unavailable",
                    50196,
                    "The server is temporarily throttling requests.",
                ).body,
                429,
            )
            response.headers["Retry-After"] = str(retry_after)
            return response
        limit = self._requests.limit if self._requests else 6000
        window = int(self._requests.window) if self._requests else 300
        return self._limited(
            REQUEST_LIMIT_CODE,
            f"Number of requests exceeded the limit of {limit} over time window of {window} "
            "seconds.",
            retry_after,
        )

    # -- responses -------------------------------------------------------------------------------
    def _response(self, answer: Answer) -> Response:
        if answer.payload is not None:
            body: bytes | str = json.dumps(
                answer.payload, separators=(",", ":"), ensure_ascii=False
            )
            content_type = JSON_TYPE
        elif answer.text is not None:
            body = answer.text
            content_type = answer.content_type or "text/plain"
        else:
            body = b""
            content_type = None
        response = Response(body, status=answer.status, content_type=content_type)
        if content_type is None:
            response.headers.pop("Content-Type", None)
        request_id = str(uuid.uuid4())
        response.headers["OData-Version"] = "4.0"
        response.headers["REQ_ID"] = request_id
        response.headers["x-ms-service-request-id"] = request_id
        for name, value in answer.headers.items():
            response.headers[name] = value
        return response

    # -- identity endpoints ----------------------------------------------------------------------
    @staticmethod
    def _origin(request: Request) -> str:
        return request.host_url.rstrip("/")

    def instance_discovery(self, request: Request, tenant: str = "common") -> Response:
        return json_response(
            self.identity.instance_discovery(
                self._origin(request), request.args.get("authorization_endpoint")
            )
        )

    def openid_configuration(self, request: Request, tenant: str) -> Response:
        try:
            return json_response(self.identity.openid_configuration(self._origin(request), tenant))
        except TokenError as error:
            return json_response(error.body, error.status)

    def jwks(self, request: Request, tenant: str) -> Response:
        return json_response(self.identity.jwks())

    def token(self, request: Request, tenant: str) -> Response:
        origin = self._origin(request)

        def resource_ok(resource: str) -> bool:
            key = origin_key(resource)
            # The org answers on this host (any port the runner gave it); loopback names are
            # one host. A resource elsewhere is another tenant's or nobody's (AADSTS500011).
            return key is not None and key[1] in ("loopback", origin_key(origin)[1])

        try:
            payload = self.identity.token(
                base=origin,
                tenant_ref=tenant,
                form={k: v for k, v in request.form.items()},
                authorization=request.headers.get("Authorization"),
                correlation_id=request.headers.get("client-request-id"),
                resource_ok=resource_ok,
                org_tenant_id=self.tenant_id,
            )
        except TokenError as error:
            response = json_response(error.body, error.status)
            response.headers["Cache-Control"] = "no-store, no-cache"
            return response
        response = json_response(payload)
        response.headers["Cache-Control"] = "no-store, no-cache"
        return response

    # -- the Web API -------------------------------------------------------------------------------
    def odata(self, request: Request, version: str, rest: str) -> Response:
        base = f"{self._origin(request)}/api/data/{version}"
        if version not in API_VERSIONS:
            return self._response(
                error_answer(
                    DataverseError(
                        404, "0x8006088a", f"Resource not found for the segment '{version}'."
                    )
                )
            )
        call = Call(
            method=request.method,
            path=rest,
            args=request.args,
            query_string=request.query_string.decode("latin-1"),
            headers=request.headers,
            body=request.get_data(),
            base=base,
            caller=request.environ["dv.caller"],
        )
        return self._response(self.api.handle(call))

    # -- changes → webhooks ------------------------------------------------------------------------
    def _changed(self, change: Change) -> None:
        if change.table.logical == "systemuser":
            self._callers.clear()
        self.webhooks.notify(change)

    def _webhook_context(self, change: Change) -> tuple[dict, dict]:
        table = change.table
        correlation = str(uuid.uuid4())
        caller = change.caller
        if change.message == "Delete":
            target = {
                "__type": "EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts",
                "Id": change.record_id,
                "KeyAttributes": [],
                "LogicalName": table.logical,
                "Name": None,
                "RowVersion": None,
            }
        else:
            attributes = []
            for name, value in change.attributes.items():
                if name.endswith("__type"):
                    continue
                column = table.columns.get(name)
                wrapped = wcf_value(table, column, value, None)
                if column is not None and column.polymorphic and isinstance(wrapped, dict):
                    wrapped["LogicalName"] = (
                        change.attributes.get(f"{name}__type") or wrapped["LogicalName"]
                    )
                attributes.append({"key": name, "value": wrapped})
            target = {
                "__type": "Entity:http://schemas.microsoft.com/xrm/2011/Contracts",
                "Attributes": attributes,
                "EntityState": None,
                "FormattedValues": [],
                "Id": change.record_id,
                "KeyAttributes": [],
                "LogicalName": table.logical,
                "RelatedEntities": [],
                "RowVersion": None,
            }
        user_id = caller.user_id if caller else self.system_user_id
        aad = caller.object_id if caller else "00000000-0000-0000-0000-000000000000"
        body = {
            "BusinessUnitId": caller.business_unit_id if caller else self.business_unit_id,
            "CorrelationId": correlation,
            "Depth": 1,
            "InitiatingUserAzureActiveDirectoryObjectId": aad,
            "InitiatingUserId": user_id,
            "InputParameters": [{"key": "Target", "value": target}],
            "IsExecutingOffline": False,
            "IsInTransaction": False,
            "IsOfflinePlayback": False,
            "IsolationMode": 1,
            "MessageName": change.message,
            "Mode": 1,
            "OperationCreatedOn": wcf_date(change.at or now_iso()),
            "OperationId": str(uuid.uuid4()),
            "OrganizationId": self.organization_id,
            "OrganizationName": "contoso",
            "OutputParameters": [{"key": "id", "value": change.record_id}]
            if change.message == "Create"
            else [],
            "OwningExtension": {
                "Id": str(uuid.uuid4()),
                "KeyAttributes": [],
                "LogicalName": "sdkmessageprocessingstep",
                "Name": f"Sandbox webhook: {change.message} of {table.logical}",
                "RowVersion": None,
            },
            "ParentContext": None,
            "PostEntityImages": [],
            "PreEntityImages": [],
            "PrimaryEntityId": change.record_id,
            "PrimaryEntityName": table.logical,
            "RequestId": str(uuid.uuid4()),
            "SecondaryEntityName": "none",
            "SharedVariables": [],
            "Stage": 40,
            "UserAzureActiveDirectoryObjectId": aad,
            "UserId": user_id,
        }
        headers = {
            "x-ms-dynamics-organization": self.org_host.split(":")[0],
            "x-ms-dynamics-entity-name": table.logical,
            "x-ms-dynamics-request-name": change.message,
            "x-ms-correlation-request-id": correlation,
        }
        return body, headers

    # -- sandbox control ---------------------------------------------------------------------------
    def _admin(self, request: Request) -> Response:
        if not request.path.startswith("/_sandbox/dataverse/"):
            return super()._admin(request)
        adapter = self._control.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException as exc:
            return json_response(
                {"message": exc.description or "unknown sandbox control path"}, exc.code or 404
            )
        body = request.get_json(force=True, silent=True) or {}
        if not isinstance(body, dict):
            return json_response({"message": "the body must be a JSON object"}, 400)
        try:
            return getattr(self, f"_control_{endpoint}")(request, body, **args)
        except DataverseError as error:
            return json_response(error.payload(), error.status)
        except (KeyError, TypeError, ValueError) as error:
            return json_response({"message": f"{type(error).__name__}: {error}"}, 400)

    def _control_state(self, request: Request, body: dict) -> Response:
        counts = {t.entity_set: self.store.count(t) for t in self.model.tables.values()}
        return json_response(
            {
                "tenant_id": self.tenant_id,
                "organization_id": self.organization_id,
                "counts": counts,
                "version": self.store.current_version(),
                **self._settings(),
            }
        )

    def _settings(self) -> dict:
        return {
            "token_lifetime": self.token_lifetime,
            "requests_per_window": self.requests_per_window,
            "window_seconds": self.window_seconds,
            "concurrency": self.concurrency,
            "execution_ms_per_window": self.execution_ms_per_window,
            "expire_change_tracking_days": self.expire_change_tracking_days,
        }

    def _control_settings(self, request: Request, body: dict) -> Response:
        if request.method == "PUT":
            unknown = set(body) - set(self._settings())
            if unknown:
                return json_response({"message": f"unknown setting(s): {sorted(unknown)}"}, 400)
            for name in (
                "window_seconds",
                "token_lifetime",
                "requests_per_window",
                "concurrency",
                "execution_ms_per_window",
                "expire_change_tracking_days",
            ):
                if name in body:
                    setattr(self, name, body[name])
        return json_response(self._settings())

    def _control_seed(self, request: Request, body: dict) -> Response:
        return json_response(self.seed(int(body.get("count", 100))))

    def _control_registrations(self, request: Request, body: dict) -> Response:
        if request.method == "GET":
            tenant_id, client_id, secret = self.app_registration_ensure()
            return json_response(
                {"tenant_id": tenant_id, "client_id": client_id, "client_secret": secret}
            )
        tenant_id = None
        if body.get("other_tenant"):
            tenant_id = self.tenant_create(str(body.get("tenant_name", "Fabrikam")))
        info = self.app_registration_create(
            name=str(body.get("name", "integration")),
            application_user=bool(body.get("application_user", True)),
            tenant_id=tenant_id,
            secret_expires_in=body.get("secret_expires_in"),
        )
        return json_response(info.__dict__, 201)

    def _control_registration(self, request: Request, body: dict, client_id: str) -> Response:
        self.identity.app_delete(client_id)
        return json_response({"deleted": client_id})

    def _control_secrets(self, request: Request, body: dict, client_id: str) -> Response:
        if self.identity.app(client_id) is None:
            return json_response({"message": "unknown client id"}, 404)
        secret_id, secret = self.identity.secret_add(client_id, expires_in=body.get("expires_in"))
        return json_response({"secret_id": secret_id, "client_secret": secret}, 201)

    def _control_secrets_expire(self, request: Request, body: dict, client_id: str) -> Response:
        self.secrets_expire(client_id)
        return json_response({"expired": client_id})

    def _control_secrets_revoke(self, request: Request, body: dict, client_id: str) -> Response:
        self.secrets_revoke(client_id, body.get("secret_id"))
        return json_response({"revoked": client_id})

    def _control_certificates(self, request: Request, body: dict, client_id: str) -> Response:
        thumbprint = self.certificate_add(client_id, str(body["certificate_pem"]))
        return json_response({"thumbprint": thumbprint}, 201)

    def _control_table(self, request: Request, body: dict, logical: str) -> Response:
        table = self.model.tables.get(logical)
        if table is None:
            return json_response({"message": f"unknown table {logical}"}, 404)
        if request.method == "PUT" and "change_tracking" in body:
            self.change_tracking_set(logical, bool(body["change_tracking"]))
        return json_response(
            {
                "logical_name": table.logical,
                "entity_set": table.entity_set,
                "change_tracking": table.change_tracking,
            }
        )

    def _control_columns(self, request: Request, body: dict, logical: str) -> Response:
        column = self.attribute_add(logical, **body)
        return json_response(self.metadata.attribute_json(self.model.tables[logical], column), 201)

    def _control_webhooks(self, request: Request, body: dict) -> Response:
        if request.method == "GET":
            return json_response({"value": self.webhooks.list()})
        url = body.pop("url")
        return json_response(self.webhooks.register(url, **body), 201)

    def _control_webhook(self, request: Request, body: dict, hook_id: str) -> Response:
        if not self.webhooks.unregister(hook_id):
            return json_response({"message": "unknown webhook"}, 404)
        return json_response({"deleted": hook_id})

    def _control_deliveries(self, request: Request, body: dict) -> Response:
        self.webhooks.wait_idle(float(request.args.get("wait", 0) or 0))
        return json_response({"value": list(self.webhooks.deliveries)})


__all__ = ["AppRegistrationInfo", "DataverseSandbox", "dt"]
