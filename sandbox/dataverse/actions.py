"""Functions and actions: QualifyLead, Merge, WinOpportunity/LoseOpportunity, CreateMultiple /
UpdateMultiple / UpsertMultiple, RetrieveTotalRecordCount.

QualifyLead: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/qualifylead
  (bound to lead; CreateAccount/CreateContact/CreateOpportunity/Status required;
  OpportunityCurrencyId, OpportunityCustomerId, SourceCampaignId, SuppressDuplicateDetection
  optional; returns Collection(crmbaseentity)). Which lead columns are copied to the new rows is
  not documented there; the sandbox copies the obvious ones (name, e-mail, phones, company,
  address) [L].
Merge: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/merge-entity-using-web-api
  (unbound; account/contact/lead; subordinate deactivated; UpdateContent applied to the
  target). Error names from the Dataverse error list (MergeEntitiesIdenticalError,
  MergeEntityNotActiveError, MergeDifferentlyParentedWarning, MergeLossOfParentingWarning).
  Re-parenting the subordinate's child rows to the target follows the admin "merge data"
  description [L].
Win/LoseOpportunity: §5.7 (S40); the body shape follows the docs only in part.
CreateMultiple/UpdateMultiple: §5.7 (S33), all-or-nothing.
"""

# ruff: noqa: S608 - SQL is composed from table/column names of the metadata model (custom
# names are validated against CUSTOM_NAME); every value goes in as a parameter.

from __future__ import annotations

from .api import Answer, Call
from .errors import (
    DataverseError,
    bad_request,
    invalid_status,
    payload_error,
    record_not_found,
    segment_not_found,
)
from .odata import GUID_RE
from .schema import Table

LEAD_TO_CONTACT = (
    "firstname",
    "middlename",
    "lastname",
    "emailaddress1",
    "emailaddress2",
    "emailaddress3",
    "telephone1",
    "telephone2",
    "telephone3",
    "mobilephone",
    "jobtitle",
    "websiteurl",
    "address1_line1",
    "address1_line2",
    "address1_line3",
    "address1_city",
    "address1_stateorprovince",
    "address1_postalcode",
    "address1_country",
    "address1_county",
    "donotemail",
    "donotbulkemail",
    "donotphone",
    "donotpostalmail",
)
LEAD_TO_ACCOUNT = {
    "companyname": "name",
    "websiteurl": "websiteurl",
    "telephone1": "telephone1",
    "address1_line1": "address1_line1",
    "address1_line2": "address1_line2",
    "address1_line3": "address1_line3",
    "address1_city": "address1_city",
    "address1_stateorprovince": "address1_stateorprovince",
    "address1_postalcode": "address1_postalcode",
    "address1_country": "address1_country",
    "numberofemployees": "numberofemployees",
    "revenue": "revenue",
    "industrycode": "industrycode",
}
MERGEABLE = ("account", "contact", "lead")
PARENT_COLUMN = {
    "account": "parentaccountid",
    "contact": "parentcustomerid",
    "lead": "parentaccountid",
}


class Actions:
    def __init__(self, app) -> None:
        self.app = app
        self.model = app.model
        self.store = app.store
        self.writer = app.writer
        self.reader = app.reader

    # -- helpers -------------------------------------------------------------------------------
    def _entity_ref(self, value: object, parameter: str) -> tuple[Table, str]:
        """A crmbaseentity parameter: {"@odata.type": "Microsoft.Dynamics.CRM.<table>", <pk>}."""
        if not isinstance(value, dict):
            raise bad_request(f"The parameter '{parameter}' must be an entity.")
        odata_type = str(value.get("@odata.type", "")).lstrip("#")
        if not odata_type.startswith("Microsoft.Dynamics.CRM."):
            raise bad_request(
                f"The parameter '{parameter}' needs an @odata.type annotation naming its "
                "entity type."
            )
        logical = odata_type.rsplit(".", 1)[-1]
        table = self.model.tables.get(logical)
        if table is None:
            raise bad_request(
                f"The entity type '{odata_type}' of parameter '{parameter}' is unknown."
            )
        record_id = str(value.get(table.pk, "")).strip("{}").lower()
        if not GUID_RE.match(record_id):
            raise bad_request(f"The parameter '{parameter}' must include {table.pk}.")
        return table, record_id

    @staticmethod
    def _required(body: dict, name: str, kind: type) -> object:
        if name not in body or body[name] is None:
            raise bad_request(f"The parameter '{name}' is required.")
        value = body[name]
        if kind is bool and not isinstance(value, bool):
            raise bad_request(f"The parameter '{name}' must be a boolean.")
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise bad_request(f"The parameter '{name}' must be a whole number.")
        return value

    # -- bound to one lead ----------------------------------------------------------------------
    def entity_bound(self, call: Call, table: Table, record_id: str, name: str) -> Answer:
        if name == "QualifyLead" and table.logical == "lead":
            return self.qualify_lead(call, table, record_id)
        raise segment_not_found(f"Microsoft.Dynamics.CRM.{name}")

    def qualify_lead(self, call: Call, leads: Table, lead_id: str) -> Answer:
        body = call.json(leads.entity_set)
        if not isinstance(body, dict):
            raise payload_error(
                leads.entity_set,
                "Microsoft.OData.ODataException: The payload must be a JSON object.",
            )
        create_account = self._required(body, "CreateAccount", bool)
        create_contact = self._required(body, "CreateContact", bool)
        create_opportunity = self._required(body, "CreateOpportunity", bool)
        status = self._required(body, "Status", int)
        status_column = leads.columns["statuscode"]
        option = status_column.option(int(status))  # type: ignore[arg-type]
        if option is None or option.state != 1:
            raise invalid_status(status, "LeadState.Qualified", "lead", lead_id)
        duplicate_detection = body.get("SuppressDuplicateDetection") is False
        caller = call.caller
        accounts = self.model.tables["account"]
        contacts = self.model.tables["contact"]
        opportunities = self.model.tables["opportunity"]
        created: list[dict] = []
        with self.store.atomic():
            lead = self.store.get(leads, lead_id)
            if lead is None:
                raise record_not_found("lead", lead_id)
            if lead.get("statecode") != 0:
                raise DataverseError(400, "0x80040519", "The lead is already closed.")
            account_id = contact_id = opportunity_id = None
            lead_ref = f"/leads({lead_id})"
            if create_account and lead.get("companyname"):
                account_body = {
                    dst: lead.get(src)
                    for src, dst in LEAD_TO_ACCOUNT.items()
                    if lead.get(src) is not None
                }
                account_body["originatingleadid@odata.bind"] = lead_ref
                account_id = self.writer.create(
                    accounts, account_body, caller, duplicate_detection=duplicate_detection
                )
                created.append(
                    {"@odata.type": "#Microsoft.Dynamics.CRM.account", "accountid": account_id}
                )
            if create_contact:
                contact_body = {c: lead.get(c) for c in LEAD_TO_CONTACT if lead.get(c) is not None}
                for boolean in ("donotemail", "donotbulkemail", "donotphone", "donotpostalmail"):
                    if boolean in contact_body:
                        contact_body[boolean] = bool(contact_body[boolean])
                contact_body["originatingleadid@odata.bind"] = lead_ref
                parent = account_id or lead.get("parentaccountid")
                if parent:
                    contact_body["parentcustomerid_account@odata.bind"] = f"/accounts({parent})"
                contact_id = self.writer.create(
                    contacts, contact_body, caller, duplicate_detection=duplicate_detection
                )
                created.append(
                    {"@odata.type": "#Microsoft.Dynamics.CRM.contact", "contactid": contact_id}
                )
            if create_opportunity:
                opp_body: dict = {
                    "name": lead.get("subject") or lead.get("fullname") or "Opportunity",
                    "originatingleadid@odata.bind": lead_ref,
                }
                if lead.get("description"):
                    opp_body["description"] = lead["description"]
                if lead.get("estimatedamount") is not None:
                    opp_body["estimatedvalue"] = lead["estimatedamount"]
                if lead.get("estimatedclosedate"):
                    opp_body["estimatedclosedate"] = lead["estimatedclosedate"]
                customer = body.get("OpportunityCustomerId")
                if customer is not None:
                    customer_table, customer_id = self._entity_ref(
                        customer, "OpportunityCustomerId"
                    )
                    if customer_table.logical not in ("account", "contact"):
                        raise bad_request("OpportunityCustomerId must be an account or a contact.")
                    opp_body[f"customerid_{customer_table.logical}@odata.bind"] = (
                        f"/{customer_table.entity_set}({customer_id})"
                    )
                elif account_id or lead.get("parentaccountid"):
                    opp_body["customerid_account@odata.bind"] = (
                        f"/accounts({account_id or lead['parentaccountid']})"
                    )
                elif contact_id or lead.get("parentcontactid"):
                    opp_body["customerid_contact@odata.bind"] = (
                        f"/contacts({contact_id or lead['parentcontactid']})"
                    )
                if account_id or lead.get("parentaccountid"):
                    opp_body["parentaccountid@odata.bind"] = (
                        f"/accounts({account_id or lead['parentaccountid']})"
                    )
                if contact_id or lead.get("parentcontactid"):
                    opp_body["parentcontactid@odata.bind"] = (
                        f"/contacts({contact_id or lead['parentcontactid']})"
                    )
                currency = body.get("OpportunityCurrencyId")
                if currency is not None:
                    currency_table, currency_id = self._entity_ref(
                        currency, "OpportunityCurrencyId"
                    )
                    opp_body["transactioncurrencyid@odata.bind"] = (
                        f"/{currency_table.entity_set}({currency_id})"
                    )
                opportunity_id = self.writer.create(opportunities, opp_body, caller)
                created.append(
                    {
                        "@odata.type": "#Microsoft.Dynamics.CRM.opportunity",
                        "opportunityid": opportunity_id,
                    }
                )
            changes: dict = {"statecode": 1, "statuscode": status}
            if account_id:
                changes["parentaccountid"] = account_id
            if contact_id:
                changes["parentcontactid"] = contact_id
            if opportunity_id:
                changes["qualifyingopportunityid"] = opportunity_id
            self.writer._touch(
                leads, lead_id, changes, caller, message="Update", submitted=list(changes)
            )
        return Answer(
            200,
            {
                "@odata.context": (
                    f"{call.base}/$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)"
                ),
                "value": created,
            },
        )

    # -- unbound ---------------------------------------------------------------------------------
    def unbound(self, call: Call, name: str) -> Answer:
        body = call.json()
        if not isinstance(body, dict):
            raise payload_error(
                "", "Microsoft.OData.ODataException: The payload must be a JSON object."
            )
        if name == "Merge":
            return self.merge(call, body)
        return self.close_opportunity(call, body, won=name == "WinOpportunity")

    def merge(self, call: Call, body: dict) -> Answer:
        target_table, target_id = self._entity_ref(body.get("Target"), "Target")
        sub_table, sub_id = self._entity_ref(body.get("Subordinate"), "Subordinate")
        checks = self._required(body, "PerformParentingChecks", bool)
        if target_table is not sub_table:
            raise bad_request(
                "Merge requires the target and the subordinate to be of the same entity type."
            )
        if target_table.logical not in MERGEABLE:
            raise bad_request(f"Merge is not supported for entity '{target_table.logical}'.")
        if target_id == sub_id:
            raise DataverseError(
                400,
                "0x80045305",
                "Merge cannot be performed on master and sub-entities that are identical.",
            )
        table = target_table
        caller = call.caller
        with self.store.atomic():
            target = self.store.get(table, target_id)
            sub = self.store.get(table, sub_id)
            if target is None:
                raise record_not_found(table.logical, target_id)
            if sub is None:
                raise record_not_found(table.logical, sub_id)
            if target.get("statecode") != 0 or sub.get("statecode") != 0:
                raise DataverseError(
                    400, "0x80045304", "Merge cannot be performed on entity that is inactive."
                )
            parent = PARENT_COLUMN[table.logical]
            if checks:
                target_parent, sub_parent = target.get(parent), sub.get(parent)
                if sub_parent is not None and target_parent is None:
                    raise DataverseError(
                        400, "0x80045317", "Merge warning: sub-entity might lose parenting."
                    )
                if sub_parent is not None and target_parent != sub_parent:
                    raise DataverseError(
                        400, "0x80045316", "Merge warning: sub-entity will be differently parented."
                    )
            content = body.get("UpdateContent")
            if isinstance(content, dict):
                content = {k: v for k, v in content.items() if k != "@odata.type" and k != table.pk}
                if content:
                    self.writer.update(table, target_id, content, caller)
            # Re-parent the subordinate's children to the target.
            for rel in self.model.collections.get(table.logical, {}).values():
                if rel.referencing_attribute == "masterid":
                    continue
                child = self.model.tables[rel.referencing_entity]
                column = child.columns[rel.referencing_attribute]
                where = f'"{column.logical}" = ?'
                params: list = [sub_id]
                if column.polymorphic:
                    where += f' AND "{column.logical}__type" = ?'
                    params.append(table.logical)
                for (child_id,) in self.store.query(
                    f'SELECT "{child.pk}" FROM "{child.sql_table}" WHERE {where}', params
                ):
                    if child is table and child_id in (sub_id, target_id):
                        continue
                    self.writer._touch(
                        child,
                        child_id,
                        {column.logical: target_id},
                        caller,
                        message="Update",
                        submitted=[column.logical],
                    )
            if table.logical == "lead":
                deactivate = {"statecode": 2, "statuscode": 7}
            else:
                deactivate = {"statecode": 1, "statuscode": 2}
            self.writer._touch(
                table,
                sub_id,
                {"merged": 1, "masterid": target_id, **deactivate},
                caller,
                message="Update",
                submitted=["merged", "masterid", "statecode", "statuscode"],
            )
        return Answer(204)

    def close_opportunity(self, call: Call, body: dict, *, won: bool) -> Answer:
        close = body.get("OpportunityClose")
        status = self._required(body, "Status", int)
        if not isinstance(close, dict):
            raise bad_request("The parameter 'OpportunityClose' is required.")
        ref = close.get("opportunityid@odata.bind")
        if not isinstance(ref, str):
            raise bad_request(
                "OpportunityClose must bind opportunityid@odata.bind to the opportunity."
            )
        table, opportunity_id = self.writer.parse_reference(ref)
        if table.logical != "opportunity":
            raise bad_request("opportunityid@odata.bind must reference an opportunity.")
        state = 1 if won else 2
        option = table.columns["statuscode"].option(int(status))  # type: ignore[arg-type]
        if option is None or option.state != state:
            label = "Won" if won else "Lost"
            raise DataverseError(
                400,
                "0x80040278",
                f"{status} is not a valid status code for state code OpportunityState.{label} on "
                f"opportunity with Id {opportunity_id}.",
            )
        with self.store.atomic():
            row = self.store.get(table, opportunity_id)
            if row is None:
                raise record_not_found("opportunity", opportunity_id)
            if row.get("statecode") != 0:
                raise DataverseError(400, "0x80040203", "The opportunity is already closed.")
            changes: dict = {"statecode": state, "statuscode": status}
            actual_end = close.get("actualend")
            changes["actualclosedate"] = (
                str(actual_end)[:10] if actual_end else self.writer_now_date()
            )
            revenue = close.get("actualrevenue")
            if won:
                changes["actualvalue"] = (
                    float(revenue)
                    if isinstance(revenue, (int, float))
                    else row.get("estimatedvalue")
                )
            self.writer._touch(
                table,
                opportunity_id,
                changes,
                call.caller,
                message="Update",
                submitted=list(changes),
            )
        return Answer(204)

    @staticmethod
    def writer_now_date() -> str:
        import datetime as dt

        return dt.datetime.now(dt.UTC).date().isoformat()

    # -- bound to an entity set ------------------------------------------------------------------
    def collection_bound(self, call: Call, table: Table, name: str) -> Answer:
        if name not in ("CreateMultiple", "UpdateMultiple", "UpsertMultiple"):
            raise segment_not_found(f"Microsoft.Dynamics.CRM.{name}")
        body = call.json(table.entity_set)
        targets = body.get("Targets") if isinstance(body, dict) else None
        if not isinstance(targets, list) or not targets:
            raise bad_request("The parameter 'Targets' is required.")
        cleaned = []
        for target in targets:
            if not isinstance(target, dict):
                raise payload_error(
                    table.entity_set, "Microsoft.OData.ODataException: Targets must be entities."
                )
            odata_type = target.get("@odata.type")
            if (
                odata_type is not None
                and str(odata_type).lstrip("#") != f"Microsoft.Dynamics.CRM.{table.logical}"
            ):
                raise bad_request(
                    f"All Targets must be of type Microsoft.Dynamics.CRM.{table.logical}."
                )
            cleaned.append({k: v for k, v in target.items() if k != "@odata.type"})
        ids: list[str] = []
        with self.store.atomic():
            for target in cleaned:
                odata_id = target.pop("@odata.id", None)
                record_id = None
                if isinstance(odata_id, str):
                    _, record_id = self.writer.parse_reference(odata_id)
                elif target.get(table.pk):
                    record_id = str(target[table.pk]).strip("{}").lower()
                if name == "CreateMultiple":
                    ids.append(self.writer.create(table, target, call.caller))
                elif name == "UpdateMultiple":
                    if not record_id:
                        raise bad_request(f"Each target of UpdateMultiple must include {table.pk}.")
                    target.pop(table.pk, None)
                    self.writer.update(table, record_id, target, call.caller)
                    ids.append(record_id)
                else:
                    if not record_id:
                        ids.append(self.writer.create(table, target, call.caller))
                        continue
                    target.pop(table.pk, None)
                    self.writer.upsert(
                        table, record_id, target, call.caller, if_match=None, if_none_match=None
                    )
                    ids.append(record_id)
        if name == "UpdateMultiple":
            return Answer(204)
        return Answer(
            200,
            {
                "@odata.context": f"{call.base}/$metadata#Microsoft.Dynamics.CRM.{name}Response",
                "Ids": ids,
            },
        )

    # -- functions --------------------------------------------------------------------------------
    def total_record_count(self, call: Call, key: str | None) -> Answer:
        """RetrieveTotalRecordCount(EntityNames=['contact']) — the sandbox's counts are live."""
        import re

        raw = key or ""
        if raw.startswith("EntityNames=@"):
            raw = "EntityNames=" + (call.args.get(raw.split("=", 1)[1]) or "")
        names = re.findall(r"'([^']*)'", raw)
        if not names:
            raise bad_request("The parameter 'EntityNames' is required.")
        keys, values = [], []
        for logical in names:
            table = self.model.tables.get(logical)
            if table is None:
                raise bad_request(f"The entity '{logical}' does not exist.")
            keys.append(logical)
            values.append(self.store.count(table))
        return Answer(
            200,
            {
                "@odata.context": (
                    f"{call.base}/$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse"
                ),
                "EntityRecordCountCollection": {
                    "Count": len(keys),
                    "IsReadOnly": False,
                    "Keys": keys,
                    "Values": values,
                },
            },
        )
