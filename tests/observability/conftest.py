from __future__ import annotations

from types import MappingProxyType

import pytest

from observability import logs


@pytest.fixture(autouse=True)
def _empty_log_context():
    """Each test starts with no ids, whatever ran before it in this thread."""
    token = logs._context.set(MappingProxyType({}))
    yield
    logs._context.reset(token)
