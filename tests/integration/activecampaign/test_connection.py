"""check(): the connection test a person runs on the settings page, against the sandbox.

Each way of getting the settings wrong must come back as a ConfigurationError whose reason
(and therefore user_message) tells the person what to fix, without the key in it.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.errors import ConfigReason, ConfigurationError, user_message

pytestmark = pytest.mark.integration


class WebApp(ThreadingHTTPServer):
    """Stands in for AC's web app (https://<account>.activehosted.com), which people paste
    instead of the API URL: it answers HTML, or redirects to its login page."""

    def __init__(self, redirect: bool) -> None:
        self.redirect = redirect
        super().__init__(("127.0.0.1", 0), WebAppHandler)
        self.daemon_threads = True


class WebAppHandler(BaseHTTPRequestHandler):
    server: WebApp

    def do_GET(self):
        if self.server.redirect:
            self.send_response(302)
            self.send_header("Location", "/login/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        page = b"<!doctype html><html><body><form>Log in</form></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args):
        pass


@pytest.fixture(params=[False, True], ids=["html-page", "redirect-to-login"])
def web_app(request):
    server = WebApp(redirect=request.param)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_it_checks_a_good_connection(client, sandboxes):
    info = client.check()

    assert info.user_id
    assert info.api_url == sandboxes.activecampaign.api_url
    assert info.display_name


def test_it_accepts_the_url_with_api_3_as_people_copy_it(make_client, sandboxes):
    client = make_client(api_url=sandboxes.activecampaign.api_url + "/api/3/")

    assert client.check().user_id


def test_it_says_the_key_was_refused(make_client, ac):
    wrong_key = "0" * 72
    client = make_client(api_key=wrong_key)

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.UNAUTHORIZED
    message = user_message(caught.value)
    assert "API key" in message
    assert wrong_key not in message
    # One request: a refused key is not retried.
    assert len(ac.log.entries()) == 1


def test_it_says_the_key_was_refused_on_the_first_real_call_too(make_client, ac):
    client = make_client(api_key="f" * 72)

    with pytest.raises(ConfigurationError) as caught:
        list(client.contacts.all())

    assert caught.value.reason == ConfigReason.UNAUTHORIZED
    assert len(ac.log.entries()) <= 2  # the call, then one users/me probe


def test_it_says_an_unknown_host_cannot_be_reached(make_client):
    client = make_client(api_url="https://no-such-account.invalid")

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.UNREACHABLE
    assert "could not be reached" in user_message(caught.value)


def test_it_says_the_web_app_url_is_not_the_api(make_client, web_app):
    client = make_client(api_url=web_app)

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.NOT_AN_API
    assert "not as the ActiveCampaign API" in user_message(caught.value)


def test_it_says_a_url_with_a_wrong_path_is_not_the_api(make_client, sandboxes):
    # The sandbox itself, under a path that is not the API root: its answers are JSON 404s.
    client = make_client(api_url=sandboxes.activecampaign.api_url + "/admin")

    with pytest.raises(ConfigurationError) as caught:
        client.check()

    assert caught.value.reason == ConfigReason.NOT_AN_API
