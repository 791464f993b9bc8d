"""The core every ActiveCampaign resource group stands on: one account's v3 API.

Auth (the `Api-Token` header), the base URL, the account-wide throttle, paging and error
mapping, all on the one HTTP layer (`connectors.http.VendorHttp`: timeouts, User-Agent, retries
with backoff and jitter honouring Retry-After, classification by `errors.classify`).

AC allows 5 requests a second for the whole account, shared with every other integration:
https://developers.activecampaign.com/reference/rate-limits
"""

from __future__ import annotations

import json as jsonlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, tzinfo
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from connectors.config import ActiveCampaignConfig
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConnectorError,
    FatalError,
    NotFoundError,
    RecordError,
)
from connectors.http import HttpSettings, RetryPolicy, VendorHttp
from connectors.ratelimit import Rate, Store, Throttle

from .errors import VENDOR, classify, not_an_api, response_json
from .paging import MAX_PAGES, PAGE_LIMIT, offset_pages
from .values import as_id, timestamp_offset

ACCOUNT_RATE_LIMIT = 5  # requests per second, per AC account (all keys, all integrations)
# The throttle counts a request when it is admitted; AC counts it when it arrives. Network
# jitter (a fresh TLS handshake next to a pooled connection is the largest: 0.1-0.2 s) can
# squeeze admitted requests closer together on arrival, so the throttle's window is padded:
# N requests per 1.2 s admitted can never arrive as N+1 within AC's one second unless
# their delays differ by more than 0.2 s.
WINDOW_PADDING = 0.2

# 403s a known-good key may meet before the request is given up as forbidden (see Api.send).
FORBIDDEN_RETRIES = 2
# A bound on the pages of one sub-resource (2,000 items: far beyond any contact's tags).
SUB_PAGES = 20


def account_throttle_key(api_url: str) -> str:
    """One throttle per AC account: keyed by the API host every caller of it shares."""
    return f"activecampaign:{urlsplit(api_url).netloc.lower()}"


def account_rate(budget_share: float) -> Rate:
    """floor(5 x share) requests (at least 1, at most 5) per padded second."""
    share = min(max(budget_share, 0.0), 1.0)
    per_second = max(1, min(ACCOUNT_RATE_LIMIT, math.floor(ACCOUNT_RATE_LIMIT * share + 1e-9)))
    return Rate(per_second, 1.0 + WINDOW_PADDING)


def normalize_api_url(api_url: str) -> str:
    """The account's API URL as the Developer settings show it, without a trailing /api/3."""
    url = (api_url or "").strip().rstrip("/")
    if url.lower().endswith("/api/3"):
        url = url[: -len("/api/3")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            "the API URL must be a full URL such as https://<account>.api-us1.com",
            vendor=VENDOR,
            reason=ConfigReason.OTHER,
        )
    return url


class Api:
    """One AC account's v3 API: requests with the 403 rule, JSON answers, pages."""

    def __init__(
        self,
        config: ActiveCampaignConfig,
        *,
        http_settings: HttpSettings,
        throttle_store: Store | None,
        retry: RetryPolicy | None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = normalize_api_url(config.api_url)
        self.api_host = urlsplit(self.api_url).netloc.lower()
        self.sleep = sleep
        self.throttle_key = account_throttle_key(self.api_url)
        self.throttle_store = throttle_store
        self.throttle = Throttle(
            self.throttle_key,
            [account_rate(config.budget_share)],
            store=throttle_store,
            sleep=sleep,
        )
        api_key = config.api_key
        self.http = VendorHttp(
            vendor=VENDOR,
            base_url=f"{self.api_url}/api/3/",
            classify=classify,
            auth_headers=lambda: {"Api-Token": api_key},
            throttle=self.throttle,
            settings=http_settings,
            retry=retry,
            secrets=[api_key],
            sleep=sleep,
        )
        self.key_proven = False
        # The account's UTC offset, learned from the timestamps AC writes with it; used for
        # the few that come without a zone.
        self.account_tz: tzinfo = UTC

    def own_throttle(self, name: str, rate: Rate) -> Throttle:
        """A throttle of this account for a route with its own limit (bulk import)."""
        return Throttle(
            f"{self.throttle_key}:{name}", [rate], store=self.throttle_store, sleep=self.sleep
        )

    # -- requests ---------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping | Sequence | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        forbidden_is_record: bool = False,
    ) -> Any:
        """One logical request; the JSON answer, or a ConnectorError (see send)."""
        return self.json(
            self.send(
                method,
                path,
                params=params,
                json=json,
                idempotent=idempotent,
                forbidden_is_record=forbidden_is_record,
            )
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping | Sequence | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        forbidden_is_record: bool = False,
    ) -> requests.Response:
        """One logical request; the successful response, or a ConnectorError.

        The 403 rule. AC answers 403 both for a refused key and for a missing permission, and
        occasionally 403s a good key once and then succeeds (singer-io/tap-activecampaign
        retries 403 for that reason, CHANGELOG 1.3.1). So that a bad key becomes a
        configuration error at once instead of after five backoffs:
        - a key that has not yet produced a 2xx is checked with one GET users/me (every user
          may read itself): refused -> ConfigurationError(UNAUTHORIZED) after two requests;
        - a key known to work is asked again at most FORBIDDEN_RETRIES times with backoff (a
          403 means AC did nothing, so this is safe for any method); a 403 that persists is
          checked with users/me: refused -> UNAUTHORIZED (the key was revoked), else
          FORBIDDEN (the user lacks a permission), or a RecordError where the caller says a
          403 is AC's answer about the record (contactAutomations).
        """
        forbidden = 0
        probed = False
        while True:
            try:
                response = self.http.request(
                    method, path, params=params, json=json, idempotent=idempotent
                )
            except ConfigurationError as error:
                if error.status != 403:
                    raise
                forbidden += 1
                if not self.key_proven and not probed:
                    probed = True
                    if not self.key_accepted():
                        raise unauthorized(error) from None
                    continue
                if forbidden <= FORBIDDEN_RETRIES:
                    self.sleep(self.http.retry.delay(forbidden, None))
                    continue
                if not probed and not self.key_accepted():
                    raise unauthorized(error) from None
                if forbidden_is_record:
                    raise RecordError(error.message, vendor=VENDOR, status=403) from None
                raise
            self.key_proven = True
            return response

    def key_accepted(self) -> bool:
        """One GET users/me: does AC accept the key at all?"""
        try:
            self.http.request("GET", "users/me")
        except ConfigurationError as error:
            if error.status in (401, 403):
                return False
            raise
        self.key_proven = True
        return True

    def json(self, response: requests.Response) -> Any:
        # VendorHttp does not follow redirects: a 3xx means the URL is not the API (the web
        # app's login page, http -> https, a parked domain).
        if 300 <= response.status_code < 400:
            raise not_an_api(response)
        body = response_json(response)
        if body is None:
            raise not_an_api(response)
        return body

    def delete(self, path: str) -> bool:
        """DELETE a resource; False when it was not there (deleted meanwhile: done either
        way). The answer's body is not read: AC answers {} or nothing (202)."""
        try:
            response = self.send("DELETE", path)
        except NotFoundError:
            return False
        if 300 <= response.status_code < 400:
            raise not_an_api(response)
        return True

    def get(self, path: str, params: Mapping | Sequence | None = None) -> Any:
        return self.call("GET", path, params=params)

    def get_mapping(self, path: str, params: Mapping | Sequence | None = None) -> Mapping:
        return mapping(self.get(path, params), path)

    # -- paging -----------------------------------------------------------------------------
    def pages(
        self,
        path: str,
        collection: str,
        params: Mapping | None = None,
        *,
        max_pages: int = MAX_PAGES,
        truncate: bool = False,
    ) -> Iterator[Mapping]:
        """Offset pages of PAGE_LIMIT (AC's largest) items, side-loads included."""

        def fetch(offset: int, limit: int) -> Mapping:
            return self.get_mapping(path, {**(params or {}), "limit": limit, "offset": offset})

        return offset_pages(
            fetch, collection, limit=PAGE_LIMIT, max_pages=max_pages, truncate=truncate
        )

    def items(
        self,
        path: str,
        collection: str,
        params: Mapping | None = None,
        *,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[Mapping]:
        for page in self.pages(path, collection, params, max_pages=max_pages):
            for item in page.get(collection) or ():
                if isinstance(item, Mapping):
                    yield item

    def sub_items(
        self, path: str, collection: str, *, max_pages: int = SUB_PAGES
    ) -> tuple[list[Mapping], bool]:
        """Every item of a sub-resource (contacts/{id}/contactTags…): (items, complete).

        The reference does not document these as paged; they are asked in pages of
        PAGE_LIMIT all the same, so that a server paging them by default (20) cannot cut
        them short, and items are kept once by id, so that a server ignoring `offset` ends the
        loop instead of repeating itself. `complete` is False when the bound was reached.
        """
        items: dict[str, Mapping] = {}
        for _ in range(max_pages):
            body = self.get_mapping(path, {"limit": PAGE_LIMIT, "offset": len(items)})
            page = [item for item in body.get(collection) or () if isinstance(item, Mapping)]
            before = len(items)
            for item in page:
                key = as_id(item.get("id")) or jsonlib.dumps(item, sort_keys=True, default=str)
                items.setdefault(key, item)
            if len(page) < PAGE_LIMIT or len(items) == before:
                return list(items.values()), True
        return list(items.values()), False

    def learn_tz(self, *values: Any) -> tzinfo:
        """The account's offset from the first zoned timestamp given (else the last known)."""
        for value in values:
            offset = timestamp_offset(value)
            if offset is not None and offset is not UTC:
                self.account_tz = offset
                break
        return self.account_tz


class Resource:
    """A resource group of the API (contacts, tags…): reached as ActiveCampaignClient.<name>."""

    def __init__(self, api: Api) -> None:
        self.api = api


# -- helpers shared by the resource modules -----------------------------------------------------
def unauthorized(error: ConnectorError) -> ConfigurationError:
    return ConfigurationError(
        error.message or "the API key was refused",
        vendor=VENDOR,
        status=error.status,
        reason=ConfigReason.UNAUTHORIZED,
    )


def mapping(value: Any, what: str) -> Mapping:
    """The answer as a JSON object, or a FatalError naming what was asked."""
    if not isinstance(value, Mapping):
        raise FatalError(f"unexpected answer for {what}", vendor=VENDOR)
    return value


def seg(value: Any) -> str:
    """A path segment: ids and external ids are quoted, never trusted as path syntax."""
    return quote(str(value), safe="")


def int_id(value: Any) -> int:
    """Ids in request bodies as integers (the request schemas type them int32)."""
    try:
        return int(str(value))
    except ValueError:
        raise ValueError(f"not an ActiveCampaign id: {value!r}") from None
