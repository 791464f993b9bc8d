"""The reference's client recipes, end to end, with nothing but msal and requests: token,
WhoAmI, paging with maxpagesize on every page, a delta link, and a CRLF $batch."""

from __future__ import annotations

import json
import re
import uuid

import msal
import pytest
import requests

pytestmark = pytest.mark.integration


def test_it_serves_a_connector_written_from_the_reference(dv, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", dv.ca_bundle)
    monkeypatch.setenv("CURL_CA_BUNDLE", dv.ca_bundle)
    org_url = dv.tls_url  # the whole conversation over HTTPS, as against a real org
    msal_app = msal.ConfidentialClientApplication(
        dv.client_id,
        authority=f"{dv.tls_url}/{dv.tenant_id}",
        client_credential=dv.client_secret,
        instance_discovery=False,
    )

    def headers(extra: dict | None = None) -> dict:
        result = msal_app.acquire_token_for_client(scopes=[f"{org_url}/.default"])
        assert "access_token" in result, result
        return {
            "Authorization": f"Bearer {result['access_token']}",
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            "If-None-Match": "null",
            **(extra or {}),
        }

    api = f"{org_url}/api/data/v9.2"
    who = requests.get(f"{api}/WhoAmI", headers=headers(), timeout=10).json()
    assert who["UserId"]

    prefer = {
        "Prefer": 'odata.maxpagesize=50,odata.include-annotations="'
        'OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname"'
    }
    url = (
        f"{api}/contacts?$select=firstname,lastname,emailaddress1,_parentcustomerid_value,"
        "modifiedon&$filter=statecode eq 0&$orderby=modifiedon asc,contactid asc"
    )
    seen = []
    for _ in range(100):
        body = requests.get(url, headers=headers(prefer), timeout=10).json()
        seen += body["value"]
        url = body.get("@odata.nextLink")
        if not url:
            break
        assert url.startswith(api)  # absolute: used as-is
    assert len(seen) == len({r["contactid"] for r in seen}) > 50
    with_parent = [r for r in seen if r["_parentcustomerid_value"]]
    assert (
        with_parent[0]["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"]
        == "account"
    )

    tracked = requests.get(
        f"{api}/accounts?$select=name",
        headers=headers({"Prefer": "odata.track-changes,odata.maxpagesize=5000"}),
        timeout=10,
    ).json()
    delta = tracked["@odata.deltaLink"]

    boundary = f"batch_{uuid.uuid4()}"
    changeset = f"changeset_{uuid.uuid4()}"
    name = f"Recipe {uuid.uuid4().hex[:6]}"
    lines = [
        f"--{boundary}",
        f'Content-Type: multipart/mixed; boundary="{changeset}"',
        "",
        f"--{changeset}",
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        "Content-ID: 1",
        "",
        "POST /api/data/v9.2/accounts HTTP/1.1",
        "Content-Type: application/json; type=entry",
        "",
        json.dumps({"name": name}),
        f"--{changeset}",
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        "Content-ID: 2",
        "",
        "POST /api/data/v9.2/contacts HTTP/1.1",
        "Content-Type: application/json; type=entry",
        "",
        json.dumps({"lastname": "Diaz", "parentcustomerid_account@odata.bind": "$1"}),
        f"--{changeset}--",
        f"--{boundary}",
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        "",
        "GET /api/data/v9.2/contacts?$select=fullname&$top=1 HTTP/1.1",
        "",
        "",
        f"--{boundary}--",
        "",
    ]
    response = requests.post(
        f"{api}/$batch",
        data="\r\n".join(lines).encode(),
        headers=headers({"Content-Type": f'multipart/mixed; boundary="{boundary}"'}),
        timeout=10,
    )
    assert response.status_code == 200
    answer_boundary = re.search(r"boundary=([^;\s]+)", response.headers["Content-Type"]).group(1)
    assert answer_boundary.startswith("batchresponse_")
    statuses = re.findall(r"HTTP/1\.1 (\d{3}) ", response.text)
    assert statuses == ["204", "204", "200"]

    changes = requests.get(delta, headers=headers(), timeout=10).json()
    assert [r["name"] for r in changes["value"]] == [name]
    assert changes["@odata.context"].endswith("/$delta")
