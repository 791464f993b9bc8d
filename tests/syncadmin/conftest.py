from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection


@pytest.fixture
def database_down(transactional_db):
    """A context in which the database cannot be reached (a closed port, a missing file)."""

    @contextmanager
    def down():
        saved = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict.update(
            {"NAME": "/nonexistent/dir/db.sqlite3"}
            if connection.vendor == "sqlite"
            else {"HOST": "127.0.0.1", "PORT": "1"}  # nothing listens on port 1
        )
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)

    return down
