"""The outbound address guard: what may be connected to, checked on the address connected to."""

from __future__ import annotations

import socket

import pytest
import requests
import responses

from connectors.config import DynamicsConfig
from connectors.dynamics.auth import MsalHttpClient, MsalTokenProvider
from connectors.dynamics.client import DynamicsClient
from connectors.errors import (
    ConfigReason,
    ConfigurationError,
    ConnectorError,
    FatalError,
    RecordError,
    UnreachableError,
)
from connectors.http import HttpSettings, RetryPolicy, VendorHttp, address_refusal

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:4700:4700::1111"


def classify(response: requests.Response) -> ConnectorError:
    return RecordError(f"HTTP {response.status_code}", vendor="test", status=response.status_code)


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket connects to; a public one is refused as if nothing answered
    there (the test run may not leave the machine)."""
    seen: list[tuple] = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        seen.append(address)
        if address[0] not in ("127.0.0.1", "::1"):
            raise ConnectionRefusedError(111, "Connection refused")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


@pytest.fixture
def resolver(monkeypatch):
    """Answer DNS for made-up names: {name: [address, …]} per call, in order."""
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        queue = answers[host]
        current = queue.pop(0) if len(queue) > 1 else queue[0]
        results = []
        for address in current:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            results.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return results

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return _Resolver(answers, lookups)


class _Resolver:
    def __init__(self, answers, lookups):
        self.answers = answers
        self.lookups = lookups

    def add(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)


def _http(base_url: str, *, allow_local: bool = False) -> VendorHttp:
    return VendorHttp(
        vendor="test",
        base_url=base_url,
        classify=classify,
        auth_headers=lambda: {"Api-Token": "s3cret-key"},
        secrets=["s3cret-key"],
        settings=HttpSettings(connect_timeout=2.0, read_timeout=5.0, allow_local_urls=allow_local),
        retry=RetryPolicy(attempts=1),
        sleep=lambda s: None,
    )


# -- the policy ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "169.254.0.1",
        "100.64.0.1",  # carrier-grade NAT
        "100.127.255.254",
        "224.0.0.1",
        "239.255.255.250",
        "0.0.0.0",  # noqa: S104 - a destination, not a bind
        "255.255.255.255",
        "::",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:93.184.216.34",
        "::127.0.0.1",  # IPv4-compatible
        "::a00:5",
        "fd00::1",  # unique-local
        "fc12:3456::1",
        "fe80::1",  # link-local
        "fe80::1%eth0",
        "ff02::1",  # multicast
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 wrapping 169.254.169.254
        "64:ff9b::a00:5",  # NAT64 wrapping 10.0.0.5
        "198.18.0.1",
        "2001:db8::1",
    ],
)
def test_it_refuses_every_address_that_is_not_public(address):
    assert address_refusal(address) is not None
    if address not in ("127.0.0.1", "127.8.9.10", "::1"):
        assert address_refusal(address, allow_local=True) is not None, "only loopback widens"


@pytest.mark.parametrize("address", [PUBLIC_V4, "20.190.151.7", PUBLIC_V6])
def test_it_lets_public_addresses_through(address):
    assert address_refusal(address) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_it_allows_loopback_only_when_local_urls_are_allowed(address):
    assert address_refusal(address) == "a loopback address"
    assert address_refusal(address, allow_local=True) is None


# -- at connect time -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "localhost", "localhost."],
)
def test_it_sends_nothing_to_a_loopback_host_however_it_is_spelled(recorder, host):
    port = recorder.port

    with pytest.raises(ConnectorError) as raised:
        _http(f"http://{host}:{port}/api/").request("GET", "me")

    assert recorder.seen == []
    # "localhost." may not resolve at all on a machine: then it is an unknown host.
    assert raised.value.message in (f"could not connect to {host}:{port}", f"unknown host {host}")


def test_it_connects_to_loopback_when_local_urls_are_allowed(recorder):
    port = recorder.port

    _http(f"http://127.0.0.1:{port}/api/", allow_local=True).request("GET", "me")

    assert [seen.path for seen in recorder.seen] == ["/api/me"]


def test_it_refuses_a_name_that_resolves_to_an_internal_address(recorder, resolver, connects):
    port = recorder.port
    resolver.add("metadata.example.com", ["169.254.169.254"])
    resolver.add("mixed.example.com", [PUBLIC_V4, "127.0.0.1"])

    for name in ("metadata.example.com", "mixed.example.com"):
        with pytest.raises(UnreachableError, match=f"could not connect to {name}"):
            _http(f"http://{name}:{port}/").request("GET", "x")

    assert connects == []  # refused before any socket was opened
    assert recorder.seen == []


def test_it_connects_to_the_address_it_checked_not_a_second_answer(recorder, resolver, connects):
    # DNS rebinding: the first answer is public, every later one is the internal server. The
    # guard resolves once and connects to what it checked, so the second answer is never used.
    port = recorder.port
    resolver.add("rebind.example.com", [PUBLIC_V4], ["127.0.0.1"])

    with pytest.raises(UnreachableError):
        _http(f"http://rebind.example.com:{port}/").request("GET", "x")

    assert connects == [(PUBLIC_V4, port)]
    assert resolver.lookups == ["rebind.example.com"]
    assert recorder.seen == []


def test_it_uses_the_same_words_for_a_closed_port_and_a_refused_address(recorder, resolver):
    resolver.add("inside.example.com", ["10.1.2.3"])
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]

    with pytest.raises(UnreachableError) as refused_port:
        _http(f"http://127.0.0.1:{closed}/", allow_local=True).request("GET", "x")
    with pytest.raises(UnreachableError) as refused_address:
        _http(f"http://inside.example.com:{closed}/", allow_local=True).request("GET", "x")

    assert refused_port.value.message == f"could not connect to 127.0.0.1:{closed}"
    assert refused_address.value.message == f"could not connect to inside.example.com:{closed}"
    assert type(refused_port.value) is type(refused_address.value)


def test_it_answers_a_host_label_over_63_characters_with_a_configuration_error():
    host = "a" * 64 + ".example.com"

    with pytest.raises(ConfigurationError) as raised:
        _http(f"https://{host}/").request("GET", "x")

    assert raised.value.reason == ConfigReason.UNREACHABLE


def test_it_ignores_proxies_from_the_environment(recorder, monkeypatch, resolver, connects):
    # A proxy would be the address connected to, and the guard would check it, not the vendor.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{recorder.port}")
    resolver.add("vendor.example.com", [PUBLIC_V4])

    with pytest.raises(UnreachableError):
        _http("http://vendor.example.com/", allow_local=True).request("GET", "x")

    assert recorder.seen == []
    assert connects == [(PUBLIC_V4, 80)]


# -- redirects and links --------------------------------------------------------------------------
def test_it_does_not_follow_a_redirect(recorder):
    port = recorder.port
    recorder.answer = (302, {"Location": f"http://127.0.0.1:{port}/elsewhere"})

    response = _http(f"http://127.0.0.1:{port}/", allow_local=True).request("GET", "x")

    assert response.status_code == 302
    assert [seen.path for seen in recorder.seen] == ["/x"]


@pytest.mark.parametrize(
    "link",
    [
        "https://attacker.example/api/data/v9.2/contacts?$skiptoken=1",
        "https://vendor.example:8443/api/things?page=2",
        "http://vendor.example/api/things?page=2",
        "https://user@vendor.example/api/things?page=2",
        "//attacker.example/api/things",
    ],
)
@responses.activate
def test_it_refuses_a_link_to_another_host_before_sending_credentials(link):
    http = _http("https://vendor.example/api/")

    with pytest.raises(FatalError, match="refused a link to another host"):
        http.request("GET", link)

    assert len(responses.calls) == 0


@responses.activate
def test_it_follows_a_link_to_its_own_host():
    responses.get("https://vendor.example/api/things?page=2", json={})

    _http("https://vendor.example/api/").request("GET", "https://vendor.example/api/things?page=2")

    assert len(responses.calls) == 1


class _StaticToken:
    def auth_headers(self):
        return {"Authorization": "Bearer the-token"}

    def invalidate(self):
        return True


@responses.activate
def test_it_stops_dataverse_paging_at_a_next_link_to_another_host():
    org = "https://contoso.crm.dynamics.com"
    api = f"{org}/api/data/v9.2/"
    responses.get(
        api + "contacts",
        json={
            "value": [{"contactid": "00000000-0000-0000-0000-000000000001"}],
            "@odata.nextLink": "https://attacker.example/api/data/v9.2/contacts?$skiptoken=2",
        },
    )
    client = DynamicsClient(
        DynamicsConfig(org, "tenant", "client", "secret"),
        http_settings=HttpSettings(),
        token_provider=_StaticToken(),
        retry=RetryPolicy(attempts=1),
    )

    with pytest.raises(FatalError, match=r"another host \(attacker.example\)"):
        list(client._pages(api + "contacts", (), max_pages=5))

    assert [call.request.url for call in responses.calls] == [api + "contacts"]


# -- MSAL's HTTP ----------------------------------------------------------------------------------
def test_msal_calls_do_not_follow_redirects(recorder):
    port = recorder.port
    recorder.answer = (307, {"Location": f"http://127.0.0.1:{port}/stolen"})
    client = MsalHttpClient(HttpSettings(allow_local_urls=True))

    response = client.post(f"http://127.0.0.1:{port}/token", data={"client_secret": "s"})

    assert response.status_code == 307
    assert [seen.path for seen in recorder.seen] == ["/token"]


def test_msal_calls_go_only_to_the_authority_host(recorder):
    port = recorder.port
    client = MsalHttpClient(
        HttpSettings(allow_local_urls=True), authority_host=f"https://localhost:{port}"
    )

    with pytest.raises(requests.RequestException, match=r"refused a call to 127\.0\.0\.1"):
        client.post(f"https://127.0.0.1:{port}/tenant/oauth2/v2.0/token", data={"a": "b"})

    assert recorder.seen == []


def test_msal_discovery_goes_through_the_guard(resolver, connects):
    resolver.add("login.inside.example.com", ["10.20.30.40"])
    config = DynamicsConfig(
        org_url="https://contoso.crm.dynamics.com",
        tenant_id="contoso.onmicrosoft.com",
        client_id="11111111-2222-3333-4444-555555555555",
        client_secret="the-secret",
        authority_host="https://login.inside.example.com",
    )
    provider = MsalTokenProvider(config, settings=HttpSettings(connect_timeout=2.0))

    with pytest.raises(ConnectorError) as raised:
        provider.access_token()

    assert connects == []
    assert "could not connect to login.inside.example.com" in raised.value.message
    assert raised.value.setting == "authority_host"
    assert "the-secret" not in str(raised.value)
