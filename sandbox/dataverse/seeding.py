"""Fill the sandbox with the shared demo people (sandbox.seed): accounts from the people's
companies, contacts linked to them, leads, opportunities on contacts, and a few users.

Rows go in with executemany inside one transaction, with versions and change-log entries
assigned in bulk, so 100,000 people take seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sandbox import seed as demo

from .schema import Table

TOPICS = [
    "the platform",
    "an annual plan",
    "a pilot",
    "onboarding",
    "integrations",
    "training",
    "support upgrade",
    "pricing",
]
STAGE_STEPS = {0: "1-Qualify", 1: "2-Develop", 2: "3-Propose", 3: "4-Close"}
USER_TITLES = [
    "Account Manager",
    "Sales Representative",
    "Sales Manager",
    "Inside Sales",
    "Business Development",
]


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Seeder:
    def __init__(self, app, count: int) -> None:
        self.app = app
        self.store = app.store
        self.tables = app.model.tables
        self.count = count
        self.version = self.store.current_version()
        # Deterministic per (count, state): the same seed on an empty sandbox gives the same
        # ids; seeding again adds new rows instead of colliding with the first ones.
        self.rng = random.Random(f"{count}:{self.version}")  # noqa: S311 - demo data
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.changelog: list[tuple] = []
        self._defaults: dict[str, dict] = {}
        self._money: dict[str, bool] = {}

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _times(self) -> tuple[str, str]:
        created = self.now - dt.timedelta(seconds=self.rng.randrange(2, 730 * 86400))
        age = (self.now - created).total_seconds()
        modified = created + dt.timedelta(
            seconds=self.rng.randrange(0, max(1, int(min(age, 60 * 86400))))
        )
        return _iso(created), _iso(modified)

    def _row(self, table: Table, values: dict, owner: str | None) -> dict:
        created, modified = self._times()
        self.version += 1
        if table.logical not in self._defaults:
            self._defaults[table.logical] = {
                c.logical: c.default for c in table.stored_columns() if c.default is not None
            }
            self._money[table.logical] = table.has_money()
        row = dict(self._defaults[table.logical])
        row.update(
            {
                "createdon": created,
                "modifiedon": modified,
                "createdby": self.app.system_user_id,
                "modifiedby": owner or self.app.system_user_id,
                "versionnumber": self.version,
            }
        )
        if "ownerid" in table.columns:
            owner = owner or self.app.system_user_id
            row.update(
                {
                    "ownerid": owner,
                    "ownerid__type": "systemuser",
                    "owninguser": owner,
                    "owningbusinessunit": self.app.business_unit_id,
                }
            )
        if self._money[table.logical]:
            row["transactioncurrencyid"] = self.app.currency_id
        row.update(values)
        self.app.writer.compose(table, {}, row)
        self.changelog.append((self.version, table.logical, row[table.pk], "create", modified))
        return row

    def _insert(self, table: Table, rows: list[dict]) -> None:
        if not rows:
            return
        names = sorted({k for r in rows for k in r})
        self.store.insert_many(table, names, [tuple(r.get(n) for n in names) for r in rows])

    def run(self) -> dict[str, int]:
        persons = demo.people(self.count)
        in_dynamics = [p for p in persons if p.in_dynamics]
        contacts_people = [p for p in in_dynamics if p.dynamics_kind == "contact"]
        leads_people = [p for p in in_dynamics if p.dynamics_kind == "lead"]
        users = self._users()
        user_ids = [u["systemuserid"] for u in users] + [
            r[0]
            for r in self.store.query(
                "SELECT systemuserid FROM dv_systemuser WHERE applicationid IS NULL "
                "AND accessmode = 0 AND isdisabled = 0"
            )
        ] or [self.app.system_user_id]

        def owner() -> str:
            return self.rng.choice(user_ids)

        accounts: dict[int, dict] = {}
        for person in contacts_people:
            company = person.company
            if company.index in accounts:
                continue
            accounts[company.index] = self._row(
                self.tables["account"],
                {
                    "accountid": self._id(),
                    "name": company.name,
                    "websiteurl": company.website,
                    "telephone1": company.phone,
                    "emailaddress1": f"info@{company.domain}",
                    "address1_city": company.city,
                    "address1_country": company.country,
                    "numberofemployees": company.employees,
                    "revenue": float(company.revenue),
                    "industrycode": self.rng.randrange(1, 34),
                },
                owner(),
            )
        contacts: dict[int, dict] = {}
        for person in contacts_people:
            account = accounts[person.company.index]
            contacts[person.index] = self._row(
                self.tables["contact"],
                {
                    "contactid": self._id(),
                    "firstname": person.first_name,
                    "lastname": person.last_name,
                    "emailaddress1": person.email,
                    "telephone1": person.phone,
                    "jobtitle": person.job_title,
                    "parentcustomerid": account["accountid"],
                    "parentcustomerid__type": "account",
                    "address1_city": person.company.city,
                    "address1_country": person.company.country,
                },
                account["ownerid"],
            )
        leads = []
        for person in leads_people:
            leads.append(
                self._row(
                    self.tables["lead"],
                    {
                        "leadid": self._id(),
                        "firstname": person.first_name,
                        "lastname": person.last_name,
                        "emailaddress1": person.email,
                        "telephone1": person.phone,
                        "jobtitle": person.job_title,
                        "companyname": person.company.name,
                        "websiteurl": person.company.website,
                        "subject": f"Interested in {self.rng.choice(TOPICS)}",
                        "leadsourcecode": person.lead_source,
                        "leadqualitycode": self.rng.choice([1, 2, 2, 3]),
                        "statuscode": self.rng.choice([1, 1, 2]),
                        "address1_city": person.company.city,
                        "address1_country": person.company.country,
                    },
                    owner(),
                )
            )
        opportunities = []
        for opp in demo.opportunities(persons):
            contact = contacts.get(opp.person.index)
            if contact is None:
                continue
            opportunities.append(
                self._row(
                    self.tables["opportunity"],
                    {
                        "opportunityid": self._id(),
                        "name": opp.name,
                        "estimatedvalue": float(opp.estimated_value),
                        "estimatedclosedate": opp.estimated_close,
                        "closeprobability": opp.close_probability,
                        "salesstage": opp.stage,
                        "stepname": STAGE_STEPS[opp.stage],
                        "customerid": contact["contactid"],
                        "customerid__type": "contact",
                        "parentcontactid": contact["contactid"],
                        "parentaccountid": contact["parentcustomerid"],
                        "isrevenuesystemcalculated": 0,
                    },
                    contact["ownerid"],
                )
            )
        with self.store.atomic() as conn:
            self._insert(self.tables["systemuser"], users)
            self._insert(self.tables["account"], list(accounts.values()))
            self._insert(self.tables["contact"], list(contacts.values()))
            self._insert(self.tables["lead"], leads)
            self._insert(self.tables["opportunity"], opportunities)
            conn.executemany(
                "INSERT INTO dv_changelog (version, entity, id, op, at) VALUES (?, ?, ?, ?, ?)",
                self.changelog,
            )
        return {
            "systemusers": len(users),
            "accounts": len(accounts),
            "contacts": len(contacts),
            "leads": len(leads),
            "opportunities": len(opportunities),
        }

    def _users(self) -> list[dict]:
        table = self.tables["systemuser"]
        existing = self.store.query(
            "SELECT COUNT(*) FROM dv_systemuser WHERE applicationid IS NULL AND accessmode = 0"
        )[0][0]
        wanted = max(3, min(25, self.count // 2000 + 3)) - int(existing) + 1
        users = []
        for i in range(max(0, wanted)):
            first = self.rng.choice(demo.FIRST_NAMES)
            last = self.rng.choice(demo.LAST_NAMES)
            slug = demo._slug(first) + "." + demo._slug(last)
            users.append(
                self._row(
                    table,
                    {
                        "systemuserid": self._id(),
                        "firstname": first,
                        "lastname": last,
                        "internalemailaddress": f"{slug}{i}@contoso.example",
                        "domainname": f"{slug}{i}@contoso.example",
                        "title": self.rng.choice(USER_TITLES),
                        "isdisabled": 1 if i % 11 == 10 else 0,
                        "accessmode": 0,
                        "businessunitid": self.app.business_unit_id,
                        "azureactivedirectoryobjectid": self._id(),
                    },
                    None,
                )
            )
        return users
