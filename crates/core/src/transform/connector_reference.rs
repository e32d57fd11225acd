//! The connector format as data: every key with its type, default, allowed values, doc and
//! an example. `sluice check` validates against these tables (allowed values, known keys for
//! did-you-mean) and `docs/connectors.md` is generated from them, so the two cannot drift.

/// The values of `[sync] direction`.
pub const DIRECTIONS: &[&str] = &["inbound", "outbound", "bidirectional"];

/// The named values of `[sync] frequency` (besides `{ interval }` and `{ cron }`).
pub const NAMED_FREQUENCIES: &[&str] = &["manual", "realtime", "event", "hourly", "daily"];

/// The values of `[sync] conflict`.
pub const CONFLICT_RULES: &[&str] = &[
    "fentu_wins",
    "external_wins",
    "most_recent",
    "manual_review",
];

/// The field types of `[objects.<type>.fields]`.
pub const FIELD_TYPES: &[&str] = &[
    "string", "number", "boolean", "date", "datetime", "array", "object", "any",
];

/// One key of the connector format.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// The table it belongs to: `""` (top level), `inbound`/`outbound` (written `side`),
    /// `sync`, `mappings`, `objects.<type>.fields`.
    pub table: &'static str,
    /// The key.
    pub key: &'static str,
    /// Its TOML type.
    pub ty: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// The default when absent (empty when none).
    pub default: &'static str,
    /// The allowed values, when the set is closed.
    pub allowed: &'static [&'static str],
    /// What it means.
    pub doc: &'static str,
    /// A TOML line showing it.
    pub example: &'static str,
}

const fn key(
    table: &'static str,
    key: &'static str,
    ty: &'static str,
    doc: &'static str,
    example: &'static str,
) -> KeySpec {
    KeySpec {
        table,
        key,
        ty,
        required: false,
        default: "",
        allowed: &[],
        doc,
        example,
    }
}

impl KeySpec {
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn default(mut self, default: &'static str) -> Self {
        self.default = default;
        self
    }

    const fn allowed(mut self, allowed: &'static [&'static str]) -> Self {
        self.allowed = allowed;
        self
    }
}

/// The tables of the format, in the order the reference presents them, with their doc.
pub const TABLES: &[(&str, &str)] = &[
    ("", "The top level of the file: the connector's identity and its conditions."),
    (
        "side",
        "`[inbound]` (where records come from) and `[outbound]` (where mapped records go) take \
         the same keys.",
    ),
    ("side.credentials", "`[inbound.credentials]` / `[outbound.credentials]`: any keys, each a text value, an `env:VAR` or `file:PATH` reference (resolved when a run starts, never printed; `sluice export` shows literal values as `***`), or `secret:NAME`: a value kept in the run's store sealed with `SLUICE_SECRET_KEY` (ChaCha20-Poly1305, bound to the connector, the side and the name, and kept with the origin of the side's `url`: a run to another origin refuses it, E606), which Sluice Studio puts there when a mapping author types a credential in, and which is never shown again."),
    ("side.connection", "`[inbound.connection]` / `[outbound.connection]`: the side is a REST or OData system reached over HTTP (see the examples under *Connections* above). Without `--input`, an inbound side with a connection reads its pages; without `--output`, an outbound side with one writes each record to it. Credentials go in the side's `[credentials]`: `user`/`password` (basic, session), `company_db` (SAP B1 session), `api_key`, `client_id`/`client_secret` (OAuth 2.0), `client_cert`/`client_key` (PEM, a client certificate for mTLS, with any auth) and `ca_cert` (PEM, the CA to trust instead of the system's roots); `file:PATH` reads a value from a file. A request that times out, loses its connection or is answered 408, 429 or 5xx is retried (`retries`, waiting `backoff` doubled each time with jitter, or what `Retry-After` says, at most `max_backoff`); when the tries run out the run stops with E614 and the next run goes on from the last checkpoint."),
    ("side.table", "`[inbound.table]` / `[outbound.table]`: the side is a PostgreSQL, MariaDB or MySQL table (see *Connection kinds*). Without `--input`, an inbound side with a table reads its rows — incrementally when it names a `watermark` (the rows after the last one read, ordered by the watermark and then the key, so rows with equal watermarks are never skipped; rows whose watermark is NULL are not read), else the whole table on every run — each row as the database writes it as JSON (numerics exact; a PostgreSQL `timestamptz` with its offset, a MariaDB `TIMESTAMP` in UTC, a `DATETIME` as a local date and time). Without `--output`, an outbound side with a table upserts the mapped records by `key` (which needs a unique index), writing the mapped columns; a row the database refuses (a value that does not fit its column, a constraint) is a dead letter (E615), a database that fails stops the run (E614) and the next run goes on from the last checkpoint."),
    ("side.stream", "`[inbound.stream]` / `[outbound.stream]`: the side is a message stream on the broker its `url` names — NATS JetStream (`nats://`), RabbitMQ (`amqp://`, `amqps://`) or MQTT (`mqtt://`); each is a connection kind of its own (see *Connection kinds*). Without `--input`, an inbound side with a stream reads it: each message is a record (JSON), or many (an NDJSON body); a message is acknowledged only once the records it carried are committed in the store with the checkpoint, so a run killed at any point gets it again, and one already committed whose acknowledgement the kill lost is recognized (NATS: its stream sequence, at or before the checkpoint's; RabbitMQ and MQTT: its id, among those of the last two commits kept with the checkpoint) and skipped. A run reads until the broker has nothing for it; a `realtime` connector under `sluice serve`, or `sluice run --follow`, follows the stream instead, storing each message as it arrives. Without `--output`, an outbound side with a stream publishes each record and waits for the broker's confirmation (a JetStream ack, a RabbitMQ publisher confirm, an MQTT PUBACK) before the batch commits."),
    ("store", "`[store]`: where the connector's runs keep their state and objects, when not in `sluice.db` beside them."),
    ("sync", "`[sync]`: direction, frequency and the conflict rule of store-bound runs. `sluice serve` runs a connector by its frequency (docs/serve.md)."),
    ("reverse", "`[reverse]`: the way back of a bidirectional connector: the stored object (the outbound side's `object`) mapped to records of the inbound system, which are written to the inbound side's connection or appended to its `path`. Takes `primary_key`, `conditions` and `[[reverse.mappings]]` (the same keys as `[[mappings]]`). Records that Sluice wrote to a side are not read back from it as changes (origin tracking, docs/serve.md)."),
    (
        "mappings",
        "`[[mappings]]`, one table per output field, in output order; each has a `target` and \
         exactly one of `field`, `raw`, `formula`.",
    ),
    (
        "objects.<type>.fields",
        "`[objects.<type>.fields]`: an optional schema of a Connect Object, field name → type. \
         With a schema for the inbound object, formulas are checked statically (unknown \
         fields are E104) and input values are checked against their declared type.",
    ),
];

/// Every key of the connector format.
pub const KEYS: &[KeySpec] = &[
    key("", "name", "string", "The connector's unique name; runs, checkpoints and metrics are kept under it.", r#"name = "SAP-to-FSM Customer Sync""#).required(),
    key("", "description", "string", "Free text.", r#"description = "Business partners into FSM customers""#),
    key("", "conditions", "array of strings", "Formulas that must all hold (be true) for a record to sync; null counts as false.", r#"conditions = ["data('CardType') = 'C'"]"#).default("[]"),
    key("", "zone", "string", "The IANA time zone of the connector's runs (today(), dates without an offset, most_recent on date-only values); `--tz` overrides it.", r#"zone = "Europe/Berlin""#).default("UTC"),
    key("", "store", "table", "The store of the connector's runs (see [store]); `--store` overrides it, and it overrides `SLUICE_STORE`.", r#"[store]"#),
    key("", "inbound", "table", "Where records come from (see [inbound] and [outbound]).", r#"[inbound]"#).required(),
    key("", "outbound", "table", "Where mapped records go (see [inbound] and [outbound]).", r#"[outbound]"#).required(),
    key("", "sync", "table", "Direction, frequency and conflict rule (see [sync]).", r#"[sync]"#).default("{}"),
    key("", "mappings", "array of tables", "The output fields (see [[mappings]]).", r#"[[mappings]]"#).default("[]"),
    key("", "reverse", "table", "The way back of a bidirectional connector (see [reverse]).", r#"[reverse]"#),
    key("", "objects", "table", "Schemas of Connect Objects (see [objects.<type>.fields]).", r#"[objects.sap_businesspartner.fields]"#).default("{}"),
    key("side", "type", "string", "The system on this side: one of the named systems (SAP B1, Fentu-FSM, Salesforce, Acumatica, Shopware, ABAS-ERP, HRlab, Window Maker, Internal Connect, Jsonblob Shopware), `ndjson` or `csv` (files or streams, `--input`), `store` (the Connect Object store), or a name of your own. How the side is reached is its connection kind (see *Connection kinds*): a file, a `[connection]`, or the store. A name close to a known one is taken for a misspelling (E610).", r#"type = "SAP B1""#).required(),
    key("side", "active", "boolean", "Whether this side syncs; an inactive outbound side makes every run a dry run.", "active = true").default("true"),
    key("side", "object", "string", "The Connect Object type of this side's records: the schema applied to inbound records, the type written by a store-bound outbound side.", r#"object = "fsmcustomer""#),
    key("side", "entity", "string", "The entity (table, endpoint) in the remote system.", r#"entity = "BusinessPartners""#),
    key("side", "query_filter", "string", "A filter passed to the source system.", r#"query_filter = "CardType eq 'C'""#),
    key("side", "primary_key", "string", "The mapping target that keys upserts into the store; required for a store-bound active outbound side. A record whose key is null, an array or an object is a dead letter (E607).", r#"primary_key = "erp_id""#),
    key("side", "path", "string", "Inbound only: the file runs read when no `--input` is given (NDJSON, or CSV by extension), relative to the connector file; what `sluice serve` reads. A bidirectional connector appends its way back to it.", r#"path = "data/business_partners.ndjson""#),
    key("side", "connection", "table", "How this side reaches a REST or OData system (see below).", r#"[inbound.connection]"#),
    key("side", "table", "table", "The SQL table this side reads or writes (see below).", r#"[inbound.table]"#),
    key("side", "stream", "table", "The message stream this side reads or writes (see below).", r#"[inbound.stream]"#),
    key("side.stream", "url", "string", "The broker, whose scheme says which: `nats://host:4222`, `amqp://user:password@host:5672/vhost` (`%2f` for the default vhost; `amqps://` with TLS) or `mqtt://[user:password@]host:1883`; a literal, `env:VAR` or `file:PATH`.", r#"url = "nats://127.0.0.1:4222""#).required(),
    key("side.stream", "stream", "string", "NATS: the JetStream stream; made, capturing `subject` (or `<stream>.>`), when it does not exist. Required on NATS.", r#"stream = "ORDERS""#),
    key("side.stream", "subject", "string", "NATS, inbound: the subjects read (a filter; default all of the stream's). Outbound: the subject each record is published to (required).", r#"subject = "orders.created""#),
    key("side.stream", "queue", "string", "RabbitMQ, inbound: the queue consumed (declared durable when it does not exist; required). Outbound: the queue published to through the default exchange (declared durable when it does not exist), when no `exchange` is given.", r#"queue = "fsm.orders""#),
    key("side.stream", "exchange", "string", "RabbitMQ, outbound: the exchange each record is published to (it must exist, and a queue must be bound for the record's routing key: a record no queue takes is an error).", r#"exchange = "dispatch""#),
    key("side.stream", "routing_key", "string", "RabbitMQ, outbound: the routing key each record is published with to `exchange`.", r#"routing_key = "work_orders.new""#).default("\"\""),
    key("side.stream", "topic", "string", "MQTT: inbound, the topic filter subscribed to at QoS 1 (`+` and `#` wildcards); outbound, the topic each record is published to at QoS 1. Required on MQTT.", r#"topic = "plant/+/meter""#),
    key("side.stream", "consumer", "string", "Inbound: NATS, the durable pull consumer; RabbitMQ, the consumer tag (with the worker's name); MQTT, the client id of the persistent session (default `sluice-<connector name>`, characters other than letters, digits, `-` and `_` as `_`).", r#"consumer = "fsm-orders""#),
    key("side.stream", "ack_wait", "string", "NATS, inbound: how long a delivered message may go unacknowledged before the broker delivers it again (to this worker or another sharing the consumer): longer than a commit takes; a killed worker's messages come back after it.", r#"ack_wait = "30s""#).default("30s"),
    key("side.stream", "shared", "boolean", "Inbound, NATS and RabbitMQ: workers share the consumer (or the queue) — `sluice run` or `sluice serve` on several machines, each without the connector's run lock, the broker handing each message to one of them; a worker that dies has its unacknowledged messages delivered to the others (NATS: after `ack_wait`; RabbitMQ: as soon as its connection drops). MQTT has no such queue: refused. Each worker keeps no cursor (another's uncommitted message may come to it with a lower sequence), so a message delivered again is written again: the sink must upsert by key (the store, a table, a REST upsert).", "shared = true").default("false"),
    key("side.stream", "batch", "integer", "Messages taken at a time; a consumer holds at most four times as many unacknowledged (or two commits' worth; MQTT: the broker's in-flight window), so a slow store slows consumption instead of growing memory.", "batch = 256").default("256"),
    key("side.table", "url", "string", "The database: a `postgres://` URL (`?sslmode=require` for TLS) or a `mysql://` (`mariadb://`) one, as a literal (`sluice export` hides its password), `env:VAR` or `file:PATH`.", r#"url = "env:ERP_DB""#).required(),
    key("side.table", "name", "string", "The table, optionally schema-qualified; quoted as an identifier, so its case is kept.", r#"name = "staging.customers""#).required(),
    key("side.table", "key", "string", "The key column: the order of a full read, the tie-break of an incremental one, the conflict target of an upsert (a unique index).", r#"key = "id""#).required(),
    key("side.table", "watermark", "string", "Read incrementally by this column (a timestamp or a growing number): each run reads the rows after the last one read.", r#"watermark = "updated_at""#),
    key("side.table", "batch", "integer", "Rows per query, and records per upsert statement.", "batch = 1000").default("1000"),
    key("side", "credentials", "table", "Credentials of this side (see below).", r#"credentials = { user = "env:SAP_USER", password = "env:SAP_PASSWORD" }"#).default("{}"),
    key("side.connection", "url", "string", "The service root; entity paths are under it.", r#"url = "https://sap.example.com:50000/b1s/v1""#).required(),
    key("side.connection", "auth", "string", "How requests authenticate: an API key, basic, OAuth 2.0 client credentials (the token is cached and fetched again a minute before it expires, or when a request is answered 401), or a session login (POST `login_path` with `CompanyDB`/`UserName`/`Password`, keep the session cookie, log in again on 401, as SAP Business One's Service Layer wants).", r#"auth = "session""#).default("none").allowed(super::connection::AUTH_METHODS),
    key("side.connection", "login_path", "string", "Session login: the path POSTed to.", r#"login_path = "Login""#).default("Login"),
    key("side.connection", "token_url", "string", "OAuth 2.0: the token endpoint (a full URL, or a path under `url`); required with `auth = \"oauth2\"` and `\"oauth2_code\"`.", r#"token_url = "https://login.example.com/oauth/token""#),
    key("side.connection", "authorize_url", "string", "OAuth 2.0 authorization code (`auth = \"oauth2_code\"`): the provider's consent page, where `sluice auth login` sends the user (a full URL, or a path under `url`). The code comes back to a loopback redirect (`http://127.0.0.1:PORT/callback`, RFC 8252) with PKCE (S256); the tokens are kept in the store sealed with `SLUICE_SECRET_KEY`, refreshed a minute before they expire and on a 401, a rotated refresh token saved at once.", r#"authorize_url = "https://login.example.com/oauth/authorize""#),
    key("side.connection", "scope", "string", "OAuth 2.0: the scope asked for.", r#"scope = "fsm.write""#),
    key("side.connection", "api_key_header", "string", "API key: the header carrying it.", r#"api_key_header = "X-API-Key""#).default("X-API-Key"),
    key("side.connection", "api_key_query", "string", "API key: a query parameter carrying it instead of a header (it is never shown in messages).", r#"api_key_query = "api_key""#),
    key("side.connection", "records", "string", "Where the records are in an answer: a dotted path, `.` for an answer that is the array itself. Pages of a source, lookups of an upserting sink.", r#"records = "data.items""#).default("value"),
    key("side.connection", "paging", "string", "Source: how pages follow each other: `next_link` (OData `@odata.nextLink` or `odata.nextLink`, relative links resolved under `url`; the page size is asked for with `Prefer: odata.maxpagesize`), `skip` (`$top`/`$skip` until a short page), `page` (a page number from 1 until a short page), `cursor` (the next cursor from the answer until there is none), `none` (one request).", r#"paging = "skip""#).default("next_link").allowed(super::connection::PAGING),
    key("side.connection", "page_size", "integer", "Source: records per page asked for.", "page_size = 500").default("100"),
    key("side.connection", "page_size_param", "string", "Source: the parameter carrying the page size (`$top` for skip paging, `limit` for page and cursor paging, none for next links).", r#"page_size_param = "per_page""#),
    key("side.connection", "skip_param", "string", "Source, skip paging: the parameter carrying the offset.", r#"skip_param = "offset""#).default("$skip"),
    key("side.connection", "page_param", "string", "Source, page or cursor paging: the parameter carrying the page number or the cursor (`page` / `cursor`).", r#"page_param = "cursor""#),
    key("side.connection", "cursor_path", "string", "Source, cursor paging: where the next cursor is in an answer.", r#"cursor_path = "meta.next""#).default("next_cursor"),
    key("side.connection", "next_link_path", "string", "Source, next-link paging: where the next page's link is, when not `@odata.nextLink` / `odata.nextLink`.", r#"next_link_path = "links.next""#),
    key("side.connection", "select", "string", "Source: OData `$select`.", r#"select = "CardCode,CardName,UpdateDate""#),
    key("side.connection", "orderby", "string", "Source: OData `$orderby` (give one for `skip` paging, so that pages do not shift).", r#"orderby = "CardCode""#),
    key("side.connection", "query", "table", "Extra query parameters of every request.", r#"query = { company = "DE01" }"#).default("{}"),
    key("side.connection", "watermark", "string", "Source: the field whose highest value read is where the next run starts (incremental sync). It is committed with the checkpoint; a run after a finished one asks for records whose field is at least the watermark less `overlap` (OData: `<field> ge '<value>'` added to `query_filter` with `and`). Instants and dates compare by time, numbers by value. `--from-start` makes a full sync.", r#"watermark = "UpdateDate""#),
    key("side.connection", "watermark_param", "string", "Source: send the watermark as this query parameter instead of a `$filter` clause.", r#"watermark_param = "modified_since""#),
    key("side.connection", "overlap", "string", "Source: how far before the watermark the next run starts (records changed while the last run read are read again; the upsert makes that harmless). Whole days for date-only watermarks.", r#"overlap = "5m""#).default("0s"),
    key("side.connection", "timeout", "string", "Each request's time limit (250ms, 30s, 2m).", r#"timeout = "30s""#).default("30s"),
    key("side.connection", "retries", "integer", "Retries of a request that timed out, lost its connection or was answered 408, 429 or 5xx — a page, a lookup, a write, a batch, a token request or a login alike — each after `Retry-After` (seconds or an HTTP date, at most `max_backoff`) when the answer gives one. A certificate the client does not trust is not retried (E614 at once), nor 400, 401, 403, 404 or 422; SIGTERM while a request waits stops the run (E613, exit 143).", "retries = 5").default("5"),
    key("side.connection", "backoff", "string", "The wait before the first retry; it doubles for each next one, less up to half at random (jitter).", r#"backoff = "500ms""#).default("500ms"),
    key("side.connection", "max_backoff", "string", "The longest wait between tries, `Retry-After` included.", r#"max_backoff = "30s""#).default("30s"),
    key("side.connection", "write", "string", "Sink: how a record is written. `upsert` looks the record up by `match_keys` (a GET with them as parameters, or an OData `$filter` with `lookup = \"odata\"`), then PATCHes the one found at `path` (`{id}` is its `id_field`) or POSTs a new one to the entity; the lookup is made again before a retry, so a create whose answer was lost is not made twice. `put` / `patch` send the record to `path` (the key in the URL; idempotent). `post` creates; with `idempotency_header` a retried POST carries the same key. A 4xx answer makes the record a dead letter (E615) with the status and the start of the answer; the run goes on.", r#"write = "upsert""#).default("upsert").allowed(super::connection::WRITE_METHODS),
    key("side.connection", "path", "string", "Sink: the path of one record under `url`, `{field}` placeholders filled from the mapped record, each value percent-encoded as one RFC 3986 path segment (`a b` → `a%20b`, `/` → `%2F`; a value `.` or `..` makes the record a dead letter, E607), `{id}` from the remote record an upsert found. Default: `<entity>/{id}` for upsert, `<entity>/{<primary_key>}` for put and patch.", r#"path = "customers/by-erp/{erp_id}""#),
    key("side.connection", "match_keys", "array of strings", "Sink, upsert: the mapped fields that find the remote record (an ERP id, an email); default the side's `primary_key`. A record missing one is a dead letter (E607); several remote matches are E618.", r#"match_keys = ["erp_id", "email"]"#).default("[primary_key]"),
    key("side.connection", "lookup", "string", "Sink, upsert: how the lookup asks for the match keys.", r#"lookup = "odata""#).default("params").allowed(super::connection::LOOKUP_STYLES),
    key("side.connection", "id_field", "string", "Sink, upsert: the remote record's own id in a lookup's answer.", r#"id_field = "id""#).default("id"),
    key("side.connection", "batch_path", "string", "Sink: a batch endpoint under `url` that takes a JSON array of records and upserts them by key. A 2xx answer that is an array of per-record results with a `status` refuses those with a 4xx status; a 4xx for the whole batch sends its records one by one, so that only the bad ones become dead letters.", r#"batch_path = "customers/batch""#),
    key("side.connection", "batch_size", "integer", "Sink: records per batch request.", "batch_size = 100").default("100"),
    key("side.connection", "idempotency_header", "string", "Sink: every write carries this header with a SHA-256 of the entity and the record, so a server that honours it applies a retried write once.", r#"idempotency_header = "Idempotency-Key""#),
    key("side.connection", "concurrency", "integer", "Sink: requests in flight at once, over keep-alive connections.", "concurrency = 4").default("4"),
    key("side.connection", "token_auth", "string", "OAuth 2.0: how the client authenticates at `token_url`: `client_secret_post` puts `client_id` and `client_secret` in the form; `client_secret_basic` sends them as HTTP Basic (RFC 6749 2.3.1, which every server must support).", r#"token_auth = "client_secret_basic""#).default("client_secret_post").allowed(super::connection::TOKEN_AUTH),
    key("side.connection", "allowed_origins", "array of strings", "Other origins (scheme, host and port) that links in the system's answers may lead to. Sluice makes requests only to the origin of `url` and attaches the credentials only there: a next link or cursor URL to another origin, or from https to http, stops the run with E619 after committing what it read (a page naming another host would otherwise receive the API key, token or session cookie, or use Sluice to reach hosts in its network). An origin listed here is trusted like `url`.", r#"allowed_origins = ["https://files.example.com"]"#).default("[]"),
    key("sync", "poll", "string", "`frequency = \"realtime\"`: how long `sluice serve` waits between looks at the source (a growing file, an API) when the last look found nothing new.", r#"poll = "2s""#).default("1s"),
    key("sync", "webhook_secret", "string", "The secret of `POST /hooks/<name>` under `sluice serve`, at least 16 bytes once trimmed (E620): a request is signed as Standard Webhooks says (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`; a `whsec_` secret is the base64 of the key). A literal (hidden by `sluice export`), `env:VAR` or `file:PATH`. Without it the connector takes no webhooks.", r#"webhook_secret = "env:HOOK_SECRET""#),
    key("sync", "webhook_tolerance", "string", "How far a webhook's `webhook-timestamp` may be from the server's clock; an older delivery is refused (E804), and delivery ids are remembered for twice as long, so a replay is never ingested (E808).", r#"webhook_tolerance = "5m""#).default("5m"),
    key("sync", "legacy_signature", "boolean", "Also take the older webhook credentials: `X-Sluice-Signature: sha256=<hex HMAC-SHA256 of the body>` or `Authorization: Bearer <secret>`. Neither carries a timestamp or a delivery id, so a captured request can be replayed: turn it on only while senders move to Standard Webhooks.", "legacy_signature = true").default("false"),
    key("reverse", "primary_key", "string", "The key of the inbound system's records: the reverse mapping target that keys writes to it, and the field that keys records read from it.", r#"primary_key = "CardCode""#).required(),
    key("reverse", "conditions", "array of strings", "Formulas over the stored record that must all hold for it to be sent back.", r#"conditions = ["not isblank(data('name'))"]"#).default("[]"),
    key("reverse", "mappings", "array of tables", "The fields of the records sent back, like `[[mappings]]`.", r#"[[reverse.mappings]]"#).default("[]"),
    key("store", "url", "string", "An SQLite file, or a PostgreSQL database `postgres://user@host/db` (a password in it is shown as `***` by `sluice export`); `env:VAR` reads it from the environment when a run starts.", r#"url = "env:DATABASE_URL""#).required(),
    key("sync", "partitions", "integer", "Every run of the connector (`sluice run`, and each of `sluice serve`'s) is one worker of a partitioned run: the input file is cut into this many partitions (a paged API: partitions of this many pages), which every worker on the same PostgreSQL store claims one at a time under a lease, so several machines share one sync and a worker that dies has its partition finished by another. Needs a PostgreSQL store (E610 otherwise); `--partitions` overrides it.", "partitions = 8"),
    key("sync", "lease", "string", "How long a worker's claim on a partition lasts without a commit; a worker that dies loses its claim after it. `--lease` overrides it.", r#"lease = "30s""#).default("30s"),
    key("sync", "direction", "string", "Which way records flow.", r#"direction = "inbound""#).default("inbound").allowed(DIRECTIONS),
    key("sync", "frequency", "string or table", "When `sluice serve` runs the connector: `manual` (only when triggered), `realtime` (follows the source, see `poll`), `event` (when a webhook arrives), `hourly`, `daily`, an interval (`\"15m\"` or `{ interval = \"15m\" }`: a whole number and s, m, h or d) or `{ cron = \"0 2 * * *\" }` (five fields: minute hour day month weekday, in the connector's zone).", r#"frequency = { interval = "15m" }"#).default("manual").allowed(NAMED_FREQUENCIES),
    key("sync", "conflict", "string", "How an incoming record meets a stored one with the same primary key: external_wins replaces it; fentu_wins keeps it (only new keys are added); most_recent keeps the one changed later, by the time in `[sync] updated_at`'s field (a date-only value is that day's midnight in the run's zone); a record that loses is counted as `lost` and listed by `sluice review list --lost`; manual_review queues a differing record for `sluice review`.", r#"conflict = "external_wins""#).default("external_wins").allowed(CONFLICT_RULES),
    key("sync", "updated_at", "string", "The mapping target holding the time each record last changed (an RFC 3339 instant, or a date: midnight in the run's zone). `most_recent` compares it; every rule stores it as the stored record's time. `check` refuses a `most_recent` connector whose mappings write no such field, and a name no mapping writes.", r#"updated_at = "lastChange""#).default("updated_at"),
    key("mappings", "target", "string", "The output field; unique among the mappings.", r#"target = "erp_id""#).required(),
    key("mappings", "field", "string", "Copy this source field; a path such as `Address.City` or `Lines[0].Qty` is allowed.", r#"field = "CardCode""#),
    key("mappings", "raw", "any TOML value", "A static value.", r#"raw = "SAP""#),
    key("mappings", "formula", "string", "A formula computing the value. Write it in a TOML literal string ('...' or '''...''') when it holds double quotes or backslashes.", r#"formula = "proper(trim(data('CardName')))""#),
    key("objects.<type>.fields", "<field>", "string", "The type of one field.", r#"CardCode = "string""#).allowed(FIELD_TYPES),
];

/// The keys of one table (`side` for both sides), for did-you-mean.
pub fn keys_of(table: &str) -> impl Iterator<Item = &'static str> + '_ {
    KEYS.iter().filter(move |k| k.table == table).map(|k| k.key)
}

/// The spec of a key.
pub fn spec(table: &str, key: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.table == table && k.key == key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::transform::connector_parse::parse_connector;

    fn examples_of(table: &str) -> String {
        KEYS.iter()
            .filter(|k| k.table == table && !k.example.starts_with('['))
            .map(|k| format!("{}\n", k.example))
            .collect()
    }

    /// Every key the reference documents is one the parser accepts.
    #[test]
    fn every_documented_key_parses() {
        let mapping = examples_of("mappings").replace(
            "raw = \"SAP\"\nformula",
            "\n[[mappings]]\ntarget = \"b\"\nformula",
        );
        let text = format!(
            "{}\n[store]\n{}\n[inbound]\n{}\n[inbound.connection]\n{}\n[outbound]\n{}\n[sync]\n{}\n[reverse]\n{}\n[[mappings]]\n{}\n[objects.x.fields]\n{}",
            examples_of(""),
            examples_of("store"),
            examples_of("side"),
            examples_of("side.connection"),
            examples_of("side"),
            examples_of("sync"),
            examples_of("reverse"),
            mapping.replace("field = \"CardCode\"\n", "field = \"CardCode\"\n[[mappings]]\ntarget = \"a\"\n"),
            examples_of("objects.<type>.fields"),
        );
        if let Err(p) = parse_connector(&text, false) {
            panic!("{}\n{text}", p.diag.message);
        }
    }

    /// Every key the parser accepts is documented: the parser's own list of expected keys
    /// for an unknown key, table by table.
    #[test]
    fn every_accepted_key_is_documented() {
        let base = "name = 'n'\n[inbound]\ntype = 'ndjson'\n[outbound]\ntype = 'ndjson'\n";
        for (table, text) in [
            ("", format!("zzz = 1\n{base}")),
            ("side", base.replace("[outbound]", "zzz = 1\n[outbound]")),
            ("sync", format!("{base}[sync]\nzzz = 1\n")),
            ("store", format!("{base}[store]\nurl = 'x'\nzzz = 1\n")),
            (
                "reverse",
                format!("{base}[reverse]\nprimary_key = 'x'\nzzz = 1\n"),
            ),
            (
                "side.connection",
                format!("{base}[outbound.connection]\nurl = 'http://x'\nzzz = 1\n"),
            ),
            (
                "mappings",
                format!("{base}[[mappings]]\ntarget = 'a'\nzzz = 1\n"),
            ),
        ] {
            let message = parse_connector(&text, false).unwrap_err().diag.message;
            assert!(message.contains("zzz"), "{message}");
            let err = toml::from_str::<crate::transform::connector::Connector>(&text)
                .unwrap_err()
                .message()
                .to_string();
            let expected = err.split("expected").nth(1).unwrap();
            for key in expected.split('`').skip(1).step_by(2) {
                assert!(
                    keys_of(table).any(|k| k == key),
                    "`{key}` of table `{table}` is not in the reference"
                );
            }
        }
    }
}
