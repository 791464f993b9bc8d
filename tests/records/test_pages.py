"""The records section's pages through the test client: lists, search, paging, sorting,
entity access (S-2.3), and a record page that never crashes when a vendor cannot be reached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import Integration
from integrations.roles import Role
from sync.models import RecordLink, RunRecord, SyncRun
from tests.personas import default_integration, make_user
from tests.records.conftest import link_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    return default_integration()


@pytest.fixture
def sales(integration):
    return make_user("uma", role=Role.USER)


def _names(response) -> list[str]:
    return [link.email for link in response.context["page"].object_list]


def test_it_lists_only_linked_contacts_of_the_current_integration(client, sales, integration):
    mine = link_make(integration, n=1)
    link_make(integration, n=2, state=RecordLink.State.UNLINKED)
    link_make(integration, n=3, entity="lead")
    other = Integration.objects.create(name="Bravo Client")
    link_make(other, n=4, first="Otto")
    client.force_login(sales)

    response = client.get(reverse("records:entity", args=["contact"]))

    assert response.status_code == 200
    assert _names(response) == [mine.email]
    assert "Otto" not in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ana", ["ana.silva1@contoso.example"]),  # first name (and e-mail)
        ("müller", ["pedro.müller2@contoso.example"]),  # last name
        ("SILVA", ["ana.silva1@contoso.example"]),  # any case
        ("fabrikam", ["pedro.müller2@contoso.example"]),  # company
        ("silva1@", ["ana.silva1@contoso.example"]),  # e-mail
        ("pedro fabrikam", ["pedro.müller2@contoso.example"]),  # every word must match
        ("nobody", []),
    ],
)
def test_it_searches_leads_by_name_e_mail_or_company(client, sales, integration, query, expected):
    link_make(integration, entity="lead", n=1, company="Contoso")
    link_make(integration, entity="lead", n=2, first="Pedro", last="Müller", company="Fabrikam")
    client.force_login(sales)

    response = client.get(reverse("records:entity", args=["lead"]), {"q": query})

    assert _names(response) == expected


def test_it_finds_a_contact_by_the_name_of_its_account(client, sales, integration):
    account = "00000000-0000-0000-0000-0000000000aa"
    RecordLink.objects.create(
        integration=integration,
        entity="account",
        ac_object="account",
        dynamics_id=account,
        ac_id="9",
        email="northwind traders",
        state=RecordLink.State.LINKED,
        base_dynamics={"name|name": "Northwind Traders"},
    )
    contact = link_make(integration, n=1)
    contact.base_dynamics["@account"] = account
    contact.save()
    link_make(integration, n=2, first="Bo")
    client.force_login(sales)

    response = client.get(reverse("records:entity", args=["contact"]), {"q": "northwind"})

    assert _names(response) == [contact.email]
    assert "Northwind Traders" in response.content.decode()


def test_it_pages_and_sorts_by_last_sync(client, sales, integration):
    now = timezone.now()
    for n in range(1, 31):
        link_make(integration, n=n, last_synced_at=now - timedelta(minutes=n))
    client.force_login(sales)
    url = reverse("records:entity", args=["contact"])

    newest = client.get(url)
    second = client.get(url, {"page": 2})
    oldest = client.get(url, {"sort": "synced"})
    junk = client.get(url, {"page": "x\x00", "sort": "drop table"})

    assert newest.context["page"].object_list[0].ac_id == "1"
    assert len(newest.context["page"].object_list) == 25
    assert [link.ac_id for link in second.context["page"].object_list] == [
        str(n) for n in range(26, 31)
    ]
    assert oldest.context["page"].object_list[0].ac_id == "30"
    assert junk.status_code == 200 and junk.context["sort"] == "-synced"


def test_a_user_without_contact_access_sees_no_contacts_at_all(client, integration):
    lena = make_user("lena", role=Role.USER, entity_access=("lead",))
    link = link_make(integration, n=1)
    client.force_login(lena)

    index = client.get(reverse("records:list"))
    contacts = client.get(reverse("records:entity", args=["contact"]))
    record = client.get(reverse("records:record", args=["contact", link.dynamics_id]))
    leads = client.get(reverse("records:entity", args=["lead"]))

    assert [key for key, _n in index.context["sections"]] == ["lead"]
    assert reverse("records:entity", args=["contact"]) not in index.content.decode()
    assert contacts.status_code == 403 and record.status_code == 403
    assert "You don't have access to this page" in contacts.content.decode()  # the 403 page
    assert leads.status_code == 200
    assert reverse("records:entity", args=["contact"]) not in leads.content.decode()


def test_a_user_without_entity_access_is_told_so(client, integration):
    make_user("nils", role=Role.USER, entity_access=())
    client.force_login(make_user("nico", role=Role.USER, entity_access=()))

    response = client.get(reverse("records:list"))

    assert response.status_code == 200
    assert 'id="no-entity-access"' in response.content.decode()


def test_the_navigation_links_records_for_sales_users_only(client, integration):
    nora = make_user("nora")
    client.force_login(make_user("uma", role=Role.USER))
    with_role = client.get(reverse("dashboard")).content.decode()
    client.force_login(nora)
    without = client.get(reverse("dashboard")).content.decode()

    assert f'href="{reverse("records:list")}"' in with_role
    assert f'href="{reverse("records:list")}"' not in without


def test_a_record_page_of_an_unconnected_integration_shows_notices_not_an_error(
    client, sales, integration
):
    link = link_make(integration, n=1, last_synced_at=timezone.now())
    run = SyncRun.objects.create(
        integration=integration, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.SUCCEEDED
    )
    RunRecord.objects.create(
        run=run,
        entity="contact",
        direction="push",
        outcome=RunRecord.Outcome.FAILED,
        dynamics_id=link.dynamics_id,
        reason="Phone: too long.",
    )
    RunRecord.objects.create(
        run=run,
        entity="account",
        direction="push",
        outcome=RunRecord.Outcome.FAILED,
        ac_id=link.ac_id,  # an account with the same AC id: someone else
        reason="Account name: missing.",
    )
    client.force_login(sales)

    response = client.get(reverse("records:record", args=["contact", link.dynamics_id]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="activecampaign-notice"' in page and "ActiveCampaign is not connected" in page
    assert "Phone: too long." in page and "Account name: missing." not in page
    # A sales user cannot open the run page: no link to it, and no "Sync this record now".
    assert reverse("sync:run", args=[run.pk]) not in page
    assert reverse("records:sync", args=["contact", link.dynamics_id]) not in page


def test_an_administrator_sees_the_run_link_and_sync_now(client, admin_user, integration):
    link = link_make(integration, n=1)
    run = SyncRun.objects.create(
        integration=integration, trigger=SyncRun.Trigger.MANUAL, status=SyncRun.Status.SUCCEEDED
    )
    RunRecord.objects.create(
        run=run,
        entity="person",
        direction="pull",
        outcome=RunRecord.Outcome.CONFLICT,
        ac_id=link.ac_id,
        reason="First name changed on both sides.",
    )
    client.force_login(admin_user)

    page = client.get(reverse("records:record", args=["contact", link.dynamics_id]))
    refused = client.post(reverse("records:sync", args=["contact", link.dynamics_id]), follow=True)

    assert reverse("sync:run", args=[run.pk]) in page.content.decode()
    assert "First name changed on both sides." in page.content.decode()
    assert refused.status_code == 200
    assert "Connect ActiveCampaign and Dynamics 365" in refused.content.decode()


def test_a_record_of_another_integration_is_not_found(client, integration):
    other = Integration.objects.create(name="Bravo Client")
    link = link_make(other, n=1)
    client.force_login(make_user("uma", role=Role.USER))

    response = client.get(reverse("records:record", args=["contact", link.dynamics_id]))

    assert response.status_code == 404
