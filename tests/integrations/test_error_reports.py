"""No secret in an error report: the views and services that hold one say so to Django."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.log import AdminEmailHandler

from integrations import services
from tests.integrations.conftest import FORM

pytestmark = pytest.mark.django_db


@pytest.fixture
def error_mail(settings):
    """The error reports Django e-mails to ADMINS for a 500 (its default logging does), plus
    one with the HTML page of the report."""
    settings.ADMINS = ["ops@example.com"]
    handler = AdminEmailHandler(include_html=True)
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield mail.outbox
    logger.removeHandler(handler)


def test_a_crash_while_connecting_reports_no_secret(client, admin_user, monkeypatch, error_mail):
    def crash(**kwargs):
        raise RuntimeError("the connection check broke")

    monkeypatch.setattr(services, "connection_check", crash)
    client.raise_request_exception = False
    client.force_login(admin_user)

    response = client.post(reverse("integrations:settings"), FORM)

    assert response.status_code == 500
    assert error_mail
    report = "".join(
        message.body + "".join(body for body, _ in message.alternatives) for message in error_mail
    )
    assert "the connection check broke" in report
    assert "integration_connect" in report  # the service's frame is in the report
    for secret in (FORM["ac_api_key"], FORM["dynamics_client_secret"]):
        assert secret not in report
    assert "ac_api_key" in report and "********" in report  # shown, but cleansed
