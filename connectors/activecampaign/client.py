"""ActiveCampaignClient: the ActiveCampaign v3 API (and the one v1 call v3 lacks), typed.

The client is built from plain config and holds one resource group per part of the API, all
on one core (`api.Api`: auth, base URL, the account's throttle, paging, error mapping):

    client = ActiveCampaignClient(config)
    client.check()                               # who the key belongs to
    client.fields("contact")                     # mappable fields, as DynamicsClient.fields()
    client.contacts.changed_since(since)         # contacts.py
    client.custom_fields.create(...)             # fields.py
    client.tags.add(contact_id, "D365: Lead")    # tags.py
    client.lists.subscribe(contact_id, list_id)  # lists.py
    client.accounts.link_contact(...)            # accounts.py
    client.custom_objects.upsert(...)            # custom_objects.py
    client.automations.add_contact(...)          # automations.py
    client.campaigns.send(...)                   # campaigns.py
    client.webhooks.create(...)                  # webhooks.py
    client.imports.bulk(contacts)                # imports.py
    client.activities.for_contact(contact_id)    # activity.py

Where the public reference is unsure, the comment says so and links the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from connectors.config import ActiveCampaignConfig
from connectors.errors import ConfigReason, ConfigurationError, NotFoundError
from connectors.http import HttpSettings, RetryPolicy, VendorHttp
from connectors.local_tls import http_settings_for
from connectors.ratelimit import Store, Throttle
from connectors.types import FieldInfo

from .accounts import Accounts
from .activity import Activities
from .api import Api, normalize_api_url, unauthorized
from .automations import Automations
from .campaigns import Campaigns
from .contacts import Contacts
from .custom_objects import CustomObjects
from .errors import VENDOR
from .fields import CustomFields
from .imports import Imports
from .lists import Lists
from .metadata import account_field_infos, contact_field_infos
from .records import AccountInfo
from .tags import Tags
from .values import as_id
from .webhooks import Webhooks


class ActiveCampaignClient:
    """One AC account: reads as streams, idempotent writes, typed records, a polite budget."""

    vendor = VENDOR

    def __init__(
        self,
        config: ActiveCampaignConfig,
        *,
        http_settings: HttpSettings | None = None,
        throttle_store: Store | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        settings = http_settings or http_settings_for([normalize_api_url(config.api_url)])
        self.api = Api(
            config,
            http_settings=settings,
            throttle_store=throttle_store,
            retry=retry,
            sleep=sleep,
        )
        self.custom_fields = CustomFields(self.api)
        self.contacts = Contacts(self.api, self.custom_fields)
        self.tags = Tags(self.api)
        self.lists = Lists(self.api)
        self.accounts = Accounts(self.api, self.custom_fields)
        self.custom_objects = CustomObjects(self.api)
        self.automations = Automations(self.api)
        self.campaigns = Campaigns(self.api)
        self.webhooks = Webhooks(self.api)
        self.imports = Imports(self.api)
        self.activities = Activities(self.api)

    @property
    def api_url(self) -> str:
        return self.api.api_url

    @property
    def api_host(self) -> str:
        return self.api.api_host

    @property
    def throttle(self) -> Throttle:
        """The account's throttle (5 requests a second for the whole account, times the
        configured share)."""
        return self.api.throttle

    @property
    def http(self) -> VendorHttp:
        return self.api.http

    def check(self) -> AccountInfo:
        """Validate the URL and key with one cheap real call (GET /users/me)."""
        api = self.api
        try:
            response = api.http.request("GET", "users/me")
        except ConfigurationError as error:
            if error.status == 403:
                # Every user may read itself: a 403 here is the key being refused.
                raise unauthorized(error) from None
            raise
        except NotFoundError as error:
            # users/me exists on every account
            # (https://developers.activecampaign.com/reference/get-user-loggedin): a 404, even
            # a JSON one, means the URL does not point at the API root (a path too many).
            raise ConfigurationError(
                f"{error.message} (no users/me under {api.api_url}/api/3/)",
                vendor=VENDOR,
                status=error.status,
                reason=ConfigReason.NOT_AN_API,
            ) from None
        body = api.json(response)
        user = body.get("user") if isinstance(body, Mapping) else None
        if not isinstance(user, Mapping) or user.get("id") is None:
            raise ConfigurationError(
                "the answer to users/me has no user",
                vendor=VENDOR,
                status=response.status_code,
                reason=ConfigReason.NOT_AN_API,
            )
        api.key_proven = True
        return AccountInfo(
            user_id=as_id(user.get("id")) or "",
            username=str(user.get("username") or ""),
            email=str(user.get("email") or ""),
            first_name=str(user.get("firstName") or ""),
            last_name=str(user.get("lastName") or ""),
            api_url=api.api_url,
            api_host=api.api_host,
        )

    def fields(self, entity: str) -> tuple[FieldInfo, ...]:
        """The mappable fields of "contact" or "account": standard ones, then custom fields
        (key = field id), in the vocabulary of connectors.types."""
        if entity == "contact":
            return tuple(contact_field_infos(self.custom_fields.for_contacts()))
        if entity == "account":
            return tuple(account_field_infos(self.custom_fields.for_accounts()))
        raise ValueError(f"ActiveCampaign has no mappable entity {entity!r}")
