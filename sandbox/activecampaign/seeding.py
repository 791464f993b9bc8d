"""Realistic demo data for one AC account, from sandbox.seed's shared people.

Only the people `in_activecampaign` become contacts (same names and e-mails as in the
Dataverse sandbox). Around them: lists, forms, custom fields with options and values (a
dropdown "Lead source", a listbox "Interests", a date "Birthday", a text "D365 Id"), tags,
accounts with custom fields and account-contact links with job titles, automations (active
and inactive) with enrolments, campaigns with messages and links, sends/opens/clicks, the
activity rows all of these leave, and a few deals and segments (read-only in the API).
Everything goes in with executemany in one transaction, so 100,000 people take seconds.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3

from sandbox.seed import LEAD_SOURCES, people
from sandbox.store import Database

DAY = 86400
INTERESTS = ["Webinars", "Newsletter", "Product updates", "Events", "Case studies"]
TAGS = ["Customer", "Prospect", "Newsletter", "Webinar attendee", "VIP"]
INDUSTRIES = ["Software", "Manufacturing", "Retail", "Finance", "Healthcare", "Education"]
AUTOMATIONS = [
    # name, status (1 active, 2 inactive), trigger, steps, run more than once
    ("Welcome series", 1, "subscribe", 4, 0),
    ("Lead nurture", 1, "tag_add", 6, 0),
    ("Webinar follow-up", 1, "tag_add", 3, 1),
    ("Re-engagement (paused)", 2, "date_based", 5, 0),
    ("Old onboarding (inactive)", 2, "subscribe", 3, 0),
]
CAMPAIGNS = [
    # name, subject, status (5 sent, 0 draft), days ago sent
    ("Spring newsletter", "What's new this spring", 5, 60),
    ("Product launch", "Meet the new platform", 5, 30),
    ("Webinar invitation", "Join our live webinar", 5, 10),
    ("Customer survey (draft)", "Tell us how we are doing", 0, None),
]
DEALS = [
    # title, value in dollars, stage, status (0 open, 1 won, 2 lost), win probability
    ("Annual licence renewal", 12_000, 3, 0, 60),
    ("Platform upgrade", 45_000, 2, 0, 35),
    ("Onboarding services", 8_000, 4, 1, 100),
    ("Support contract", 15_000, 1, 0, 20),
    ("Pilot project", 5_000, 2, 2, 0),
    ("Enterprise expansion", 90_000, 1, 0, None),
]
SEGMENTS = [
    # name, logic, hidden, index of the automation it belongs to (None: a list segment)
    ("Engaged in the last 30 days", "and", 0, None),
    ("VIP customers", "or", 0, None),
    ("Segment of Welcome series", "and", 1, 0),
]


class Ids:
    """Explicit ids per table, continuing after what the database already holds."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._next: dict[str, int] = {}

    def take(self, table: str) -> int:
        if table not in self._next:
            self._next[table] = self._conn.execute(
                f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"  # noqa: S608 - constant names
            ).fetchone()[0]
        value = self._next[table]
        self._next[table] = value + 1
        return value


def seed_account(db: Database, tenant: int, count: int, *, now: int) -> None:
    rng = random.Random(23)  # noqa: S311 - demo data
    persons = [p for p in people(count) if p.in_activecampaign]
    with db.transaction() as conn:
        ids = Ids(conn)
        activities: list[tuple] = []

        def activity(contact, tstamp, ref_type, ref_id, action, model, data=None):
            activities.append(
                (
                    ids.take("activities"),
                    tenant,
                    contact,
                    tstamp,
                    ref_type,
                    ref_id,
                    action,
                    model,
                    json.dumps(data) if data else None,
                )
            )

        # Lists and forms.
        master, newsletter = ids.take("lists"), ids.take("lists")
        conn.executemany(
            "INSERT INTO lists (id, tenant, name, stringid, sender_url, sender_reminder, cdate, "
            "udate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    master,
                    tenant,
                    "Master Contact List",
                    "master-contact-list",
                    "https://www.example.com",
                    "You signed up on our website.",
                    now - 800 * DAY,
                    now - 800 * DAY,
                ),
                (
                    newsletter,
                    tenant,
                    "Newsletter",
                    "newsletter",
                    "https://www.example.com",
                    "You asked for our newsletter.",
                    now - 700 * DAY,
                    now - 700 * DAY,
                ),
            ],
        )
        signup_form, webinar_form = ids.take("forms"), ids.take("forms")
        conn.executemany(
            "INSERT INTO forms (id, tenant, name, cdate, udate, list) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (signup_form, tenant, "Website signup", now - 700 * DAY, now - 650 * DAY, master),
                (webinar_form, tenant, "Webinar registration", now - 90 * DAY, None, newsletter),
            ],
        )

        # Custom contact fields, options, relations to all lists.
        field_ids = {}
        field_rows = []
        for order, (title, kind, perstag) in enumerate(
            [
                ("Lead source", "dropdown", "LEAD_SOURCE"),
                ("Interests", "listbox", "INTERESTS"),
                ("Birthday", "date", "BIRTHDAY"),
                ("D365 Id", "text", "D365_ID"),
            ],
            start=1,
        ):
            field_ids[title] = ids.take("fields")
            field_rows.append(
                (
                    field_ids[title],
                    tenant,
                    title,
                    title.lower(),
                    kind,
                    "",
                    perstag,
                    "",
                    order,
                    now - 600 * DAY,
                    now - 600 * DAY,
                )
            )
        conn.executemany(
            "INSERT INTO fields (id, tenant, title, title_key, type, descript, perstag, defval, "
            "ordernum, cdate, udate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            field_rows,
        )
        options = [
            (ids.take("field_options"), tenant, field_ids["Lead source"], label, label, i, 0)
            for i, label in enumerate(LEAD_SOURCES.values(), start=1)
        ] + [
            (ids.take("field_options"), tenant, field_ids["Interests"], label, label, i, 0)
            for i, label in enumerate(INTERESTS, start=1)
        ]
        conn.executemany(
            "INSERT INTO field_options (id, tenant, field, label, value, orderid, isdefault, "
            "cdate, udate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*o, now - 600 * DAY, now - 600 * DAY) for o in options],
        )
        conn.executemany(
            "INSERT INTO field_rels (id, tenant, field, relid, dorder, cdate) "
            "VALUES (?, ?, ?, 0, 0, ?)",
            [(ids.take("field_rels"), tenant, fid, now - 600 * DAY) for fid in field_ids.values()],
        )

        # Tags.
        tag_ids = {name: ids.take("tags") for name in TAGS}
        conn.executemany(
            "INSERT INTO tags (id, tenant, tag, tag_key, tag_type, description, cdate) "
            "VALUES (?, ?, ?, ?, 'contact', '', ?)",
            [(tid, tenant, name, name.lower(), now - 500 * DAY) for name, tid in tag_ids.items()],
        )

        # Accounts (companies) and their custom fields.
        meta = {}
        meta_rows = []
        for order, (label, kind, opts, currency) in enumerate(
            [
                ("Industry", "dropdown", INDUSTRIES, None),
                ("Employees", "number", None, None),
                ("Annual revenue", "currency", None, "USD"),
            ],
            start=1,
        ):
            meta[label] = ids.take("account_field_meta")
            meta_rows.append(
                (
                    meta[label],
                    tenant,
                    label,
                    kind,
                    json.dumps(opts) if opts else None,
                    currency,
                    order,
                    now - 400 * DAY,
                    now - 400 * DAY,
                )
            )
        conn.executemany(
            "INSERT INTO account_field_meta (id, tenant, label, type, options, default_currency, "
            "display_order, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            meta_rows,
        )
        company_ids: dict[int, int] = {}
        company_rows, data_rows = [], []
        for person in persons:
            company = person.company
            if company.index in company_ids:
                continue
            cid = ids.take("companies")
            company_ids[company.index] = cid
            created = now - rng.randrange(100, 900) * DAY
            company_rows.append(
                (
                    cid,
                    tenant,
                    company.name,
                    company.name.lower(),
                    company.website,
                    created,
                    created + rng.randrange(0, 90) * DAY,
                )
            )
            for label, value, currency in (
                ("Industry", rng.choice(INDUSTRIES), None),
                ("Employees", company.employees, None),
                ("Annual revenue", company.revenue * 100, "USD"),  # cents (§4.2)
            ):
                data_rows.append(
                    (
                        ids.take("account_field_data"),
                        tenant,
                        cid,
                        meta[label],
                        json.dumps(value),
                        currency,
                        created,
                        created,
                    )
                )
        conn.executemany(
            "INSERT INTO companies (id, tenant, name, name_key, account_url, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            company_rows,
        )
        conn.executemany(
            "INSERT INTO account_field_data (id, tenant, account, field, value, currency, "
            "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            data_rows,
        )

        # Automations and campaigns (with one message and two links each).
        automation_ids = []
        for name, status, trigger, steps, multi in AUTOMATIONS:
            aid = ids.take("automations")
            automation_ids.append((aid, status, steps))
            conn.execute(
                "INSERT INTO automations (id, tenant, name, status, start_type, multientry, steps, "
                "cdate, mdate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (aid, tenant, name, status, trigger, multi, steps, now - 300 * DAY, now - 20 * DAY),
            )
        sent_campaigns = []
        for name, subject, status, days_ago in CAMPAIGNS:
            campaign_id, message_id = ids.take("campaigns"), ids.take("messages")
            sent_at = now - days_ago * DAY if days_ago else None
            conn.execute(
                "INSERT INTO campaigns (id, tenant, name, type, status, cdate, mdate, sdate, "
                "ldate) VALUES (?, ?, ?, 'single', ?, ?, ?, ?, ?)",
                (
                    campaign_id,
                    tenant,
                    name,
                    status,
                    (sent_at or now) - 5 * DAY,
                    (sent_at or now) - DAY,
                    sent_at,
                    sent_at,
                ),
            )
            conn.execute(
                "INSERT INTO messages (id, tenant, name, fromname, fromemail, reply2, subject, "
                "preheader_text, html, text, format, cdate, mdate) "
                "VALUES (?, ?, ?, 'Marketing team', 'news@example.com', 'hello@example.com', ?, "
                "'', ?, ?, 'mime', ?, ?)",
                (
                    message_id,
                    tenant,
                    name,
                    subject,
                    f"<h1>{subject}</h1><p>Hello %FIRSTNAME%,</p>",
                    f"{subject}\n\nHello %FIRSTNAME%,",
                    (sent_at or now) - 5 * DAY,
                    (sent_at or now) - 5 * DAY,
                ),
            )
            conn.execute(
                "INSERT INTO campaign_messages (id, tenant, campaign, message) VALUES (?, ?, ?, ?)",
                (ids.take("campaign_messages"), tenant, campaign_id, message_id),
            )
            links = []
            for url, label in (
                ("https://www.example.com/offer", "Offer"),
                ("https://www.example.com/blog", "Blog"),
            ):
                link_id = ids.take("campaign_links")
                links.append((link_id, url))
                conn.execute(
                    "INSERT INTO campaign_links (id, tenant, campaign, message, link, name, "
                    "tracked) VALUES (?, ?, ?, ?, ?, ?, 1)",
                    (link_id, tenant, campaign_id, message_id, url, label),
                )
            if sent_at:
                sent_campaigns.append((campaign_id, message_id, sent_at, links))

        # Contacts and everything hanging off them.
        contact_rows, value_rows, list_rows, tag_rows = [], [], [], []
        link_rows, enrol_rows, log_rows = [], [], []
        stats = {
            c[0]: dict.fromkeys(("sent", "opens", "uopens", "clicks", "uclicks"), 0)
            for c in sent_campaigns
        }
        automation_counts = {a[0]: 0 for a in automation_ids}
        for person in persons:
            cid = ids.take("contacts")
            cdate = now - rng.randrange(1, 730) * DAY - rng.randrange(DAY)
            udate = cdate + rng.randrange(0, max(1, now - cdate))
            email = person.email
            contact_rows.append(
                (
                    cid,
                    tenant,
                    email,
                    email.lower(),
                    person.first_name,
                    person.last_name,
                    person.phone,
                    cdate,
                    udate,
                    hashlib.md5(email.encode()).hexdigest(),  # noqa: S324 - not security
                )
            )

            def later(start: int = cdate) -> int:
                return start + rng.randrange(0, max(1, now - start))

            value_rows.append(
                (
                    ids.take("field_values"),
                    tenant,
                    cid,
                    field_ids["Lead source"],
                    LEAD_SOURCES[person.lead_source],
                    cdate,
                    cdate,
                )
            )
            if rng.random() < 0.5:
                picked = rng.sample(INTERESTS, rng.randrange(1, 4))
                value_rows.append(
                    (
                        ids.take("field_values"),
                        tenant,
                        cid,
                        field_ids["Interests"],
                        "||" + "||".join(picked) + "||",
                        cdate,
                        udate,
                    )
                )
            if rng.random() < 0.35:
                year, month, day = (
                    rng.randrange(1955, 2003),
                    rng.randrange(1, 13),
                    rng.randrange(1, 29),
                )
                birthday = f"{year}-{month:02d}-{day:02d}"
                value_rows.append(
                    (
                        ids.take("field_values"),
                        tenant,
                        cid,
                        field_ids["Birthday"],
                        birthday,
                        cdate,
                        udate,
                    )
                )
            unsubscribed = rng.random() < 0.03
            form = signup_form if rng.random() < 0.2 else None
            list_rows.append(
                (
                    ids.take("contact_lists"),
                    tenant,
                    cid,
                    master,
                    2 if unsubscribed else 1,
                    form,
                    cdate,
                    udate,
                    udate if unsubscribed else None,
                )
            )
            if form:
                activity(
                    cid, cdate, "Form", form, "submit", "form", {"formid": form, "listid": master}
                )
            if rng.random() < 0.4:
                list_rows.append(
                    (
                        ids.take("contact_lists"),
                        tenant,
                        cid,
                        newsletter,
                        1,
                        None,
                        cdate,
                        cdate,
                        None,
                    )
                )
            for name in rng.sample(TAGS, rng.choice([0, 1, 1, 2])):
                ct_id, when = ids.take("contact_tags"), later()
                tag_rows.append((ct_id, tenant, cid, tag_ids[name], when))
                activity(cid, when, "SubscriberTag", ct_id, "add", "contactTag")
            link_rows.append(
                (
                    ids.take("account_contacts"),
                    tenant,
                    company_ids[person.company.index],
                    cid,
                    person.job_title,
                    cdate,
                    cdate,
                )
            )
            if rng.random() < 0.2:
                aid, status, steps = rng.choice([a for a in automation_ids if a[1] == 1])
                eid, when = ids.take("contact_automations"), later()
                done = rng.random() < 0.5
                enrol_rows.append(
                    (
                        eid,
                        tenant,
                        cid,
                        aid,
                        2 if done else 1,
                        when,
                        when + DAY if done else None,
                        when + DAY if done else when,
                        steps if done else 1,
                        steps if done else 0,
                        steps,
                    )
                )
                automation_counts[aid] += 1
                activity(cid, when, "SubscriberSeries", eid, "start", "contactAutomation")
            if unsubscribed:
                continue
            for campaign_id, message_id, sent_at, links in sent_campaigns:
                if sent_at < cdate or rng.random() > 0.6:
                    continue
                log_id = ids.take("send_logs")
                opened = rng.random() < 0.4
                clicked = opened and rng.random() < 0.35
                log_rows.append(
                    (
                        log_id,
                        tenant,
                        cid,
                        campaign_id,
                        message_id,
                        sent_at,
                        1 if opened else 0,
                        1 if clicked else 0,
                    )
                )
                info = {"campaignid": campaign_id, "messageid": message_id}
                activity(cid, sent_at, "CampaignLog", log_id, "sent", "log", info)
                counts = stats[campaign_id]
                counts["sent"] += 1
                if opened:
                    counts["opens"] += 1
                    counts["uopens"] += 1
                    activity(
                        cid,
                        sent_at + rng.randrange(60, 3 * DAY),
                        "CampaignLog",
                        log_id,
                        "open",
                        "log",
                        info,
                    )
                if clicked:
                    link_id, url = rng.choice(links)
                    counts["clicks"] += 1
                    counts["uclicks"] += 1
                    activity(
                        cid,
                        sent_at + rng.randrange(3 * DAY, 4 * DAY),
                        "LinkData",
                        link_id,
                        "click",
                        "linkData",
                        {**info, "url": url},
                    )
        conn.executemany(
            "INSERT INTO contacts (id, tenant, email, email_key, first_name, last_name, phone, "
            "cdate, udate, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            contact_rows,
        )
        conn.executemany(
            "INSERT INTO field_values (id, tenant, contact, field, value, cdate, udate) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            value_rows,
        )
        conn.executemany(
            "INSERT INTO contact_lists (id, tenant, contact, list, status, form, sdate, udate, "
            "unsubdate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list_rows,
        )
        conn.executemany(
            "INSERT INTO contact_tags (id, tenant, contact, tag, cdate) VALUES (?, ?, ?, ?, ?)",
            tag_rows,
        )
        conn.executemany(
            "INSERT INTO account_contacts (id, tenant, account, contact, job_title, created, "
            "updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
            link_rows,
        )
        conn.executemany(
            "INSERT INTO contact_automations (id, tenant, contact, automation, status, adddate, "
            "remdate, lastdate, lastblock, completed_elements, total_elements) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            enrol_rows,
        )
        conn.executemany(
            "INSERT INTO send_logs (id, tenant, contact, campaign, message, tstamp, opens, clicks)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            log_rows,
        )
        conn.executemany(
            "INSERT INTO activities (id, tenant, contact, tstamp, reference_type, reference_id, "
            "reference_action, model_name, json_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            activities,
        )
        sent_counts: dict[int, int] = {}
        for row in log_rows:
            sent_counts[row[2]] = sent_counts.get(row[2], 0) + 1
        conn.executemany(
            "UPDATE contacts SET sentcnt = ? WHERE id = ?",
            [(n, contact_id) for contact_id, n in sent_counts.items()],
        )
        conn.executemany(
            "UPDATE campaigns SET send_amt = ?, total_amt = ?, opens = ?, uniqueopens = ?, "
            "linkclicks = ?, uniquelinkclicks = ?, subscriberclicks = ? WHERE id = ?",
            [
                (
                    s["sent"],
                    s["sent"],
                    s["opens"],
                    s["uopens"],
                    s["clicks"],
                    s["uclicks"],
                    s["uclicks"],
                    cid,
                )
                for cid, s in stats.items()
            ],
        )
        conn.executemany(
            "UPDATE automations SET entered = ? WHERE id = ?",
            [(n, aid) for aid, n in automation_counts.items()],
        )

        # Deals on a few contacts spread over the account, and segments: fixed values, no
        # random draws, so that the rows above come out the same with or without them.
        step = max(1, len(contact_rows) // len(DEALS))
        owners = [
            (row[0], company_ids[p.company.index])
            for row, p in zip(contact_rows, persons, strict=True)
        ]
        deal_rows = []
        for i, (title, dollars, stage, status, chance) in enumerate(DEALS):
            if i * step >= len(owners):
                break
            contact, account = owners[i * step]
            cdate = now - (120 - 15 * i) * DAY
            mdate = cdate + (3 + 4 * i) * DAY
            deal_rows.append(
                (
                    ids.take("deals"),
                    tenant,
                    title,
                    f"{title} for the account of contact {contact}.",
                    contact,
                    account,
                    1 + stage // 3,
                    stage,
                    dollars * 100,
                    chance or 0,
                    status,
                    chance,
                    cdate,
                    mdate,
                    mdate if status else None,
                )
            )
        conn.executemany(
            "INSERT INTO deals (id, tenant, title, description, contact, account, pipeline, "
            "stage, value, percent, status, win_probability, cdate, mdate, edate) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            deal_rows,
        )
        conn.executemany(
            "INSERT INTO segments (id, tenant, name, logic, hidden, seriesid, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    ids.take("segments"),
                    tenant,
                    name,
                    logic,
                    hidden,
                    automation_ids[series][0] if series is not None else 0,
                    now - (300 - 40 * i) * DAY,
                    now - (30 - 10 * i) * DAY,
                )
                for i, (name, logic, hidden, series) in enumerate(SEGMENTS)
            ],
        )
