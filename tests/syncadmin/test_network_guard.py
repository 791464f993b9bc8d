from __future__ import annotations

import pytest
import requests
from pytest_socket import SocketConnectBlockedError


def test_it_refuses_to_reach_a_non_local_host():
    # TEST-NET-3 address: no DNS lookup, and the guard must stop the connect itself.
    with pytest.raises(SocketConnectBlockedError):
        requests.get("http://203.0.113.7/", timeout=2)
