"""Secrets at rest: Fernet with key rotation (MultiFernet), keys from FIELD_ENCRYPTION_KEY.

The first key encrypts; every listed key decrypts. To rotate: put a new key first, keep the
old ones after it, run `manage.py rotate_secrets`, then drop the old keys.

A secret is decrypted only when code reads it (a connection being made), never when its row is
loaded: a page that merely shows an integration's name decrypts nothing, and a wrong or
missing key fails only where a secret is needed (SecretsUnavailable, which the
SecretsUnavailableMiddleware turns into one clear page).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute


class SecretsUnavailable(ImproperlyConfigured):
    """FIELD_ENCRYPTION_KEY is missing, malformed, or cannot decrypt a stored secret."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise SecretsUnavailable("Set the FIELD_ENCRYPTION_KEY environment variable")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise SecretsUnavailable(
            "FIELD_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
            "comma-separated"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEY))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never echo the token: say what to fix.
        raise SecretsUnavailable(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY: was a key removed "
            "before `manage.py rotate_secrets` ran?"
        ) from exc


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


class Ciphertext:
    """A stored secret as read from the database, still encrypted: not a str, so it cannot
    be sent anywhere by mistake. Truthy when a secret is stored."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __bool__(self) -> bool:
        return bool(self.token)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ciphertext) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)

    def __repr__(self) -> str:
        return "<encrypted secret>"


class _DecryptOnRead(DeferredAttribute):
    """The field's attribute: decrypts the stored token the first time code reads it."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext):
            value = decrypt(value.token)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value) -> None:
        # A data descriptor, so that reads always come through __get__ above.
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code reading the attribute sees the clear
    value, decrypted then (not when the row is loaded).

    Empty strings are stored as empty (nothing to hide, and "not set" stays visible).
    """

    description = "Text encrypted at rest"
    descriptor_class = _DecryptOnRead

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return Ciphertext(value)

    def pre_save(self, model_instance, add):
        # The raw value: saving a row whose secret nobody read keeps its token as it is.
        return model_instance.__dict__.get(self.attname)

    def get_prep_value(self, value):
        if isinstance(value, Ciphertext):
            return value.token
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)


def secret_stored(instance: models.Model, attname: str) -> bool:
    """Does `instance` hold a secret in `attname`? Answered without decrypting it."""
    if attname not in instance.__dict__:  # a deferred field: read the token, not the secret
        token = (
            type(instance)
            ._base_manager.filter(pk=instance.pk)
            .values_list(attname, flat=True)
            .first()
        )
        instance.__dict__[attname] = token or ""
    return bool(instance.__dict__[attname])
