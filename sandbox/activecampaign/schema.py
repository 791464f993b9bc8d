"""The sandbox's SQLite tables.

One database holds several AC accounts ("tenants" here, so that the word "account" stays free
for AC's own accounts = companies, §4). Every row carries its tenant; every list query is
`WHERE tenant = ? …` over an index that starts with the tenant, so no request scans a table.
Timestamps are epoch seconds (REAL where sub-second order matters); formatting happens on the
way out (formats.AccountTime). Ids come from one sequence per table shared by all tenants:
real AC ids are per account, but clients may only compare them, never count on their values.
"""

from __future__ import annotations

from sandbox.store import Database

DDL = """
CREATE TABLE IF NOT EXISTS tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    api_key TEXT NOT NULL UNIQUE,
    created REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    email_key TEXT,                 -- lower-cased e-mail, NULL for phone-only contacts
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    cdate INTEGER NOT NULL,
    udate INTEGER NOT NULL,
    ip TEXT NOT NULL DEFAULT '0',
    sentcnt INTEGER NOT NULL DEFAULT 0,
    bounced_hard INTEGER NOT NULL DEFAULT 0,
    bounced_soft INTEGER NOT NULL DEFAULT 0,
    bounced_date INTEGER,
    hash TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS contacts_email ON contacts(tenant, email_key);
CREATE INDEX IF NOT EXISTS contacts_tenant_id ON contacts(tenant, id);
CREATE INDEX IF NOT EXISTS contacts_udate ON contacts(tenant, udate);
CREATE INDEX IF NOT EXISTS contacts_cdate ON contacts(tenant, cdate);

CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name TEXT NOT NULL,
    stringid TEXT NOT NULL,
    sender_url TEXT NOT NULL DEFAULT '',
    sender_reminder TEXT NOT NULL DEFAULT '',
    cdate INTEGER NOT NULL,
    udate INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS lists_tenant ON lists(tenant, id);

CREATE TABLE IF NOT EXISTS contact_lists (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    contact INTEGER NOT NULL,
    list INTEGER NOT NULL,
    status INTEGER NOT NULL,        -- 0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced (§2.6)
    sourceid INTEGER NOT NULL DEFAULT 0,
    form INTEGER,
    sdate INTEGER,
    udate INTEGER,
    unsubdate INTEGER,
    UNIQUE (contact, list)
);
CREATE INDEX IF NOT EXISTS contact_lists_list ON contact_lists(list, status, contact);

CREATE TABLE IF NOT EXISTS fields (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    type TEXT NOT NULL,
    descript TEXT,
    perstag TEXT NOT NULL,
    defval TEXT,
    isrequired INTEGER NOT NULL DEFAULT 0,
    visible INTEGER NOT NULL DEFAULT 1,
    show_in_list INTEGER NOT NULL DEFAULT 0,
    rows_ INTEGER NOT NULL DEFAULT 0,
    cols INTEGER NOT NULL DEFAULT 0,
    service TEXT NOT NULL DEFAULT '',
    ordernum INTEGER NOT NULL DEFAULT 0,
    cdate INTEGER NOT NULL,
    udate INTEGER NOT NULL,
    UNIQUE (tenant, title_key)
);
CREATE INDEX IF NOT EXISTS fields_perstag ON fields(tenant, perstag);

CREATE TABLE IF NOT EXISTS field_options (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    field INTEGER NOT NULL,
    label TEXT NOT NULL,
    value TEXT NOT NULL,
    orderid INTEGER NOT NULL DEFAULT 0,
    isdefault INTEGER NOT NULL DEFAULT 0,
    cdate INTEGER NOT NULL,
    udate INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS field_options_field ON field_options(field, orderid);

CREATE TABLE IF NOT EXISTS field_rels (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    field INTEGER NOT NULL,
    relid INTEGER NOT NULL,
    dorder INTEGER NOT NULL DEFAULT 0,
    cdate INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS field_rels_field ON field_rels(field);

CREATE TABLE IF NOT EXISTS field_values (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    contact INTEGER NOT NULL,
    field INTEGER NOT NULL,
    value TEXT,
    cdate INTEGER NOT NULL,
    udate INTEGER NOT NULL,
    UNIQUE (contact, field)
);
CREATE INDEX IF NOT EXISTS field_values_field ON field_values(tenant, field, value);
CREATE INDEX IF NOT EXISTS field_values_tenant ON field_values(tenant, id);

CREATE TABLE IF NOT EXISTS tags (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    tag TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_type TEXT NOT NULL DEFAULT 'contact',
    description TEXT NOT NULL DEFAULT '',
    cdate INTEGER NOT NULL,
    udate INTEGER,                  -- NULL until the tag is edited (updated_timestamp = cdate)
    UNIQUE (tenant, tag_key)
);

CREATE TABLE IF NOT EXISTS contact_tags (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    contact INTEGER NOT NULL,
    tag INTEGER NOT NULL,
    cdate INTEGER NOT NULL,
    UNIQUE (contact, tag)
);
CREATE INDEX IF NOT EXISTS contact_tags_tag ON contact_tags(tag, contact);

CREATE TABLE IF NOT EXISTS companies (          -- AC "accounts" (§4)
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    account_url TEXT,
    owner INTEGER NOT NULL DEFAULT 1,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    UNIQUE (tenant, name_key)
);
CREATE INDEX IF NOT EXISTS companies_tenant ON companies(tenant, id);

CREATE TABLE IF NOT EXISTS account_field_meta (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    label TEXT NOT NULL,
    type TEXT NOT NULL,
    options TEXT,                   -- JSON list or NULL
    default_value TEXT,
    default_currency TEXT,
    is_form_visible INTEGER NOT NULL DEFAULT 1,
    is_required INTEGER NOT NULL DEFAULT 0,
    display_order INTEGER NOT NULL DEFAULT 1,
    personalization TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS account_field_data (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    account INTEGER NOT NULL,
    field INTEGER NOT NULL,
    value TEXT,                     -- JSON of the value as sent (string, number or list)
    currency TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    UNIQUE (account, field)
);
CREATE INDEX IF NOT EXISTS account_field_data_tenant ON account_field_data(tenant, id);

CREATE TABLE IF NOT EXISTS account_contacts (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    account INTEGER NOT NULL,
    contact INTEGER NOT NULL UNIQUE,   -- one account per contact (§4.3)
    job_title TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS account_contacts_account ON account_contacts(account, id);
CREATE INDEX IF NOT EXISTS account_contacts_tenant ON account_contacts(tenant, id);

CREATE TABLE IF NOT EXISTS co_schemas (
    id TEXT PRIMARY KEY,
    tenant INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    slug TEXT NOT NULL,
    document TEXT NOT NULL,         -- JSON: labels, description, fields, relationships, icons
    created REAL NOT NULL,
    updated REAL NOT NULL,
    UNIQUE (tenant, slug)
);

CREATE TABLE IF NOT EXISTS co_records (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant INTEGER NOT NULL,
    schema_id TEXT NOT NULL,
    external_id TEXT,
    fields TEXT NOT NULL,           -- JSON object field id -> value
    relationships TEXT NOT NULL,    -- JSON object relationship id -> [ids as strings]
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS co_records_schema ON co_records(schema_id, seq);
CREATE INDEX IF NOT EXISTS co_records_external ON co_records(schema_id, external_id);

CREATE TABLE IF NOT EXISTS co_record_links (
    record_seq INTEGER NOT NULL,
    relationship TEXT NOT NULL,
    target TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS co_record_links_target ON co_record_links(relationship, target);
CREATE INDEX IF NOT EXISTS co_record_links_record ON co_record_links(record_seq);

CREATE TABLE IF NOT EXISTS automations (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name TEXT NOT NULL,
    status INTEGER NOT NULL,        -- 1 active, 2 inactive (see automations.py)
    start_type TEXT NOT NULL DEFAULT 'subscribe',
    multientry INTEGER NOT NULL DEFAULT 0,
    entered INTEGER NOT NULL DEFAULT 0,
    exited INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 3,
    cdate INTEGER NOT NULL,
    mdate INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS contact_automations (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    contact INTEGER NOT NULL,
    automation INTEGER NOT NULL,
    status INTEGER NOT NULL,        -- 1 in progress, 2 completed
    adddate INTEGER NOT NULL,
    remdate INTEGER,
    lastdate INTEGER,
    lastblock INTEGER NOT NULL DEFAULT 0,
    completed_elements INTEGER NOT NULL DEFAULT 0,
    total_elements INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS contact_automations_contact ON contact_automations(contact, id);
CREATE INDEX IF NOT EXISTS contact_automations_tenant ON contact_automations(tenant, id);
CREATE INDEX IF NOT EXISTS contact_automations_automation
    ON contact_automations(automation, contact);

CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'single',
    status INTEGER NOT NULL DEFAULT 0,
    seriesid INTEGER NOT NULL DEFAULT 0,
    cdate INTEGER NOT NULL,
    mdate INTEGER NOT NULL,
    sdate INTEGER,
    ldate INTEGER,
    send_amt INTEGER NOT NULL DEFAULT 0,
    total_amt INTEGER NOT NULL DEFAULT 0,
    opens INTEGER NOT NULL DEFAULT 0,
    uniqueopens INTEGER NOT NULL DEFAULT 0,
    linkclicks INTEGER NOT NULL DEFAULT 0,
    uniquelinkclicks INTEGER NOT NULL DEFAULT 0,
    subscriberclicks INTEGER NOT NULL DEFAULT 0,
    forwards INTEGER NOT NULL DEFAULT 0,
    uniqueforwards INTEGER NOT NULL DEFAULT 0,
    hardbounces INTEGER NOT NULL DEFAULT 0,
    softbounces INTEGER NOT NULL DEFAULT 0,
    unsubscribes INTEGER NOT NULL DEFAULT 0,
    replies INTEGER NOT NULL DEFAULT 0,
    uniquereplies INTEGER NOT NULL DEFAULT 0,
    socialshares INTEGER NOT NULL DEFAULT 0,
    can_split_content INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS campaigns_tenant ON campaigns(tenant, id);

CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    fromname TEXT NOT NULL DEFAULT '',
    fromemail TEXT NOT NULL DEFAULT '',
    reply2 TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    preheader_text TEXT NOT NULL DEFAULT '',
    html TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT 'mime',
    cdate INTEGER NOT NULL,
    mdate INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_tenant ON messages(tenant, id);

CREATE TABLE IF NOT EXISTS campaign_messages (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    campaign INTEGER NOT NULL,
    message INTEGER NOT NULL,
    UNIQUE (campaign, message)
);

CREATE TABLE IF NOT EXISTS campaign_links (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    campaign INTEGER NOT NULL,
    message INTEGER NOT NULL,
    link TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    tracked INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS campaign_links_campaign ON campaign_links(campaign, id);

CREATE TABLE IF NOT EXISTS send_logs (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    contact INTEGER NOT NULL,
    campaign INTEGER NOT NULL,
    message INTEGER NOT NULL,
    tstamp INTEGER NOT NULL,
    opens INTEGER NOT NULL DEFAULT 0,
    clicks INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS send_logs_contact ON send_logs(contact, campaign);

CREATE TABLE IF NOT EXISTS activities (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    contact INTEGER NOT NULL,
    tstamp INTEGER NOT NULL,
    reference_type TEXT NOT NULL,
    reference_id INTEGER NOT NULL,
    reference_action TEXT NOT NULL DEFAULT '',
    model_name TEXT NOT NULL,
    json_data TEXT
);
CREATE INDEX IF NOT EXISTS activities_contact ON activities(contact, tstamp);
CREATE INDEX IF NOT EXISTS activities_tenant ON activities(tenant, tstamp);

CREATE TABLE IF NOT EXISTS forms (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name TEXT NOT NULL,
    cdate INTEGER NOT NULL,
    udate INTEGER,                  -- NULL: never edited since cdate
    list INTEGER                    -- the list its subscribe-to-list action adds to, if any
);

CREATE TABLE IF NOT EXISTS deals (  -- read-only in the sandbox: seeded, never written by the API
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    contact INTEGER,
    account INTEGER,
    pipeline INTEGER NOT NULL DEFAULT 1,   -- AC's deal "group"
    stage INTEGER NOT NULL DEFAULT 1,
    owner INTEGER NOT NULL DEFAULT 1,
    value INTEGER NOT NULL DEFAULT 0,      -- cents
    currency TEXT NOT NULL DEFAULT 'usd',
    percent INTEGER NOT NULL DEFAULT 0,
    status INTEGER NOT NULL DEFAULT 0,     -- 0 open, 1 won, 2 lost
    win_probability INTEGER,
    cdate INTEGER NOT NULL,
    mdate INTEGER NOT NULL,
    edate INTEGER
);
CREATE INDEX IF NOT EXISTS deals_tenant ON deals(tenant, id);
CREATE INDEX IF NOT EXISTS deals_contact ON deals(contact, id);

CREATE TABLE IF NOT EXISTS segments (   -- read-only in the sandbox, like deals
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name TEXT NOT NULL,
    logic TEXT NOT NULL DEFAULT 'and',
    hidden INTEGER NOT NULL DEFAULT 0,
    seriesid INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_tenant ON segments(tenant, id);

CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,           -- JSON list
    sources TEXT NOT NULL,          -- JSON list
    listid INTEGER NOT NULL DEFAULT 0,
    cdate INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0   -- set when the receiver answered 410 (§10.2)
);
CREATE INDEX IF NOT EXISTS webhooks_tenant ON webhooks(tenant, id);

CREATE TABLE IF NOT EXISTS imports (
    batch_id TEXT PRIMARY KEY,
    tenant INTEGER NOT NULL,
    status TEXT NOT NULL,           -- outstanding, completed
    payload TEXT NOT NULL,
    contacts INTEGER NOT NULL,
    success TEXT NOT NULL DEFAULT '[]',
    failure TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    completed REAL
);
CREATE INDEX IF NOT EXISTS imports_tenant ON imports(tenant, status, created);
"""


# Columns added after the first release: a sandbox state file written before them gets them on
# start (CREATE TABLE IF NOT EXISTS leaves an existing table as it was).
ADDED_COLUMNS = {
    "tags": {"udate": "INTEGER"},
    "forms": {"udate": "INTEGER", "list": "INTEGER"},
}


def schema_ensure(db: Database) -> None:
    db.script(DDL)
    for table, columns in ADDED_COLUMNS.items():
        present = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
        for column, declaration in columns.items():
            if column not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
