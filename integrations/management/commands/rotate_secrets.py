"""Re-encrypt every stored secret with the first FIELD_ENCRYPTION_KEY (key rotation)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from integrations.crypto import rotate
from integrations.models import Integration

SECRET_COLUMNS = ("ac_api_key", "dynamics_client_secret")


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the newest key; then the old keys can be removed."

    def handle(self, *args, **options):
        table = connection.ops.quote_name(Integration._meta.db_table)
        rotated = 0
        with transaction.atomic():
            # Raw tokens, not the decrypted values the model field would return.
            for pk in Integration.objects.values_list("pk", flat=True):
                for column in SECRET_COLUMNS:
                    name = connection.ops.quote_name(column)
                    with connection.cursor() as cursor:
                        cursor.execute(f"SELECT {name} FROM {table} WHERE id = %s", [pk])  # noqa: S608
                        (token,) = cursor.fetchone()
                        if not token:
                            continue
                        cursor.execute(
                            f"UPDATE {table} SET {name} = %s WHERE id = %s",  # noqa: S608
                            [rotate(token), pk],
                        )
                        rotated += 1
        self.stdout.write(f"Re-encrypted {rotated} secret(s) with the newest key.")
