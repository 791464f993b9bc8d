from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """What the product keeps about a user beyond Django's auth user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # Set for an account created with a generated one-time password: the first login must
    # choose a new one before anything else.
    must_change_password = models.BooleanField(default=False)
    # The language chosen in the top bar ("" = none: the browser's Accept-Language decides).
    # It follows the user to every browser they log in from (users.middleware).
    language = models.CharField(max_length=10, blank=True, default="")

    def __str__(self) -> str:
        return f"profile of {self.user}"
