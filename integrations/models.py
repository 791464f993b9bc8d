from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connectors.config import DEFAULT_AUTHORITY_HOST, ActiveCampaignConfig, DynamicsConfig

from .crypto import EncryptedTextField, secret_stored
from .roles import Role

ACTIVECAMPAIGN_FIELDS = ("ac_api_url", "ac_api_key", "ac_budget_share")
DYNAMICS_FIELDS = (
    "dynamics_org_url",
    "dynamics_tenant_id",
    "dynamics_client_id",
    "dynamics_client_secret",
    "dynamics_authority_host",
    "dynamics_budget_share",
)
CONNECTION_FIELDS = ACTIVECAMPAIGN_FIELDS + DYNAMICS_FIELDS
SECRET_FIELDS = frozenset({"ac_api_key", "dynamics_client_secret"})
# Each side's secret and the fields that say where it is sent (endpoint and identity): a stored
# secret is never sent to an endpoint typed after it, so changing one of these needs the
# secret typed again.
SECRET_ENDPOINTS: Mapping[str, tuple[str, ...]] = {
    "ac_api_key": ("ac_api_url",),
    "dynamics_client_secret": (
        "dynamics_org_url",
        "dynamics_tenant_id",
        "dynamics_client_id",
        "dynamics_authority_host",
    ),
}


def activecampaign_config(values: Mapping[str, object]) -> ActiveCampaignConfig:
    """The connector's config from connection field values (a saved row or a form's)."""
    return ActiveCampaignConfig(
        api_url=str(values["ac_api_url"]),
        api_key=str(values["ac_api_key"]),
        budget_share=int(values["ac_budget_share"]) / 100,
    )


def dynamics_config(values: Mapping[str, object]) -> DynamicsConfig:
    """The connector's config from connection field values (a saved row or a form's)."""
    return DynamicsConfig(
        org_url=str(values["dynamics_org_url"]),
        tenant_id=str(values["dynamics_tenant_id"]),
        client_id=str(values["dynamics_client_id"]),
        client_secret=str(values["dynamics_client_secret"]),
        authority_host=str(values["dynamics_authority_host"]),
        budget_share=int(values["dynamics_budget_share"]) / 100,
    )


class Integration(models.Model):
    """One ActiveCampaign account paired with one Dynamics 365 environment.

    The root that configuration, runs and record links hang off; one installation may hold
    several (an agency with several clients).
    """

    class Status(models.TextChoices):
        NOT_CONNECTED = "not_connected", _("Not connected yet")
        CONNECTED = "connected", _("Connected")

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    ac_api_url = models.URLField("ActiveCampaign API URL", blank=True)
    ac_api_key = EncryptedTextField("ActiveCampaign API key", blank=True)
    ac_budget_share = models.PositiveSmallIntegerField(
        "Share of the ActiveCampaign rate limit (%)",
        default=80,
        help_text="ActiveCampaign allows 5 requests/second per account, shared by every "
        "integration on it.",
    )
    dynamics_org_url = models.URLField("Dynamics 365 org URL", blank=True)
    dynamics_tenant_id = models.CharField("Tenant id", max_length=100, blank=True)
    dynamics_client_id = models.CharField("Client (application) id", max_length=100, blank=True)
    dynamics_client_secret = EncryptedTextField("Client secret", blank=True)
    dynamics_authority_host = models.URLField("Authority host", default=DEFAULT_AUTHORITY_HOST)
    dynamics_budget_share = models.PositiveSmallIntegerField(
        "Share of the Dataverse service protection limits (%)", default=80
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_CONNECTED)
    connected_at = models.DateTimeField(null=True, blank=True)
    # What each side said at the last successful connect (account, user, org), for display.
    ac_identity = models.CharField(max_length=255, blank=True)
    dynamics_identity = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("manage_integration", "Can configure the integration (ActiveCampaign Administrator)"),
            ("use_records", "Can use record views and sales actions (ActiveCampaign User)"),
            ("view_leads", "Can view leads"),
            ("view_contacts", "Can view contacts"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.CONNECTED

    def has_secret(self, field: str) -> bool:
        """Is a secret stored in `field`? Answered without decrypting it."""
        return secret_stored(self, field)

    def activecampaign_config(self) -> ActiveCampaignConfig:
        """The saved ActiveCampaign connection; decrypts the API key."""
        return activecampaign_config({f: getattr(self, f) for f in ACTIVECAMPAIGN_FIELDS})

    def dynamics_config(self) -> DynamicsConfig:
        """The saved Dynamics 365 connection; decrypts the client secret."""
        return dynamics_config({f: getattr(self, f) for f in DYNAMICS_FIELDS})


class AuditEntry(models.Model):
    """A configuration change: who, when, what. Secrets appear only as "changed"."""

    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)  # kept if the user is deleted
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=60)
    summary = models.CharField(max_length=255)
    # {"field": {"old": …, "new": …}} with secrets as "(changed)"; or free-form details.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name}: {self.summary}"

    def change_rows(self) -> list[tuple[str, str]]:
        """(field, "old → new") pairs for display; secrets were stored as "(changed)"."""
        rows = []
        for field, change in self.changes.items():
            if isinstance(change, dict) and {"old", "new"} <= change.keys():
                old = "∅" if change["old"] in (None, "") else change["old"]
                new = "∅" if change["new"] in (None, "") else change["new"]
                rows.append((field, f"{old} → {new}"))
            else:
                rows.append((field, str(change)))
        return rows


class Membership(models.Model):
    """A user's role in one integration and the records they may see there (S-2).

    Superusers need none: they hold every role in every integration. The checks are in
    integrations/access.py.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=40, choices=[(role.value, role.value) for role in Role])
    view_leads = models.BooleanField("May see leads", default=False)
    view_contacts = models.BooleanField("May see contacts", default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "integration"], name="one_membership_each")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.integration}: {self.role}"
