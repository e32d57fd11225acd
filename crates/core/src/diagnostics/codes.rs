//! The one registry of error codes. Grouped by range; a released code never changes meaning
//! and is never reused.
//!
//! | range | area |
//! |-------|------|
//! | E001–E099 | syntax (lexing, parsing, limits on formula text) |
//! | E101–E199 | types |
//! | E201–E299 | functions (resolution, arity, literal arguments) |
//! | E301–E399 | runtime errors while evaluating a formula |
//! | E501–E599 | input: records, files and command-line values |
//! | E601–E699 | connector files and runs |
//! | E701–E799 | the Connect Object store |
//! | E801–E899 | `sluice serve` and its HTTP API |

/// An error code with its title and its explanation page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code {
    /// The stable code, `E` + 3 digits.
    pub id: &'static str,
    /// A one-line title.
    pub title: &'static str,
    /// The page `sluice explain` prints.
    pub explanation: &'static str,
}

macro_rules! codes {
    ($($name:ident = $id:literal, $title:literal, $explanation:literal;)*) => {
        $(
            #[doc = $title]
            pub const $name: Code = Code { id: $id, title: $title, explanation: $explanation };
        )*
        /// Every code, in order.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

codes! {
    E001_UNEXPECTED_CHAR = "E001", "unexpected character",
        "A character that starts no token of the formula language, such as `#`, `;` or `@`.\n\nStrings are written in single quotes ('text'), fields as data('Name') or $Name.";
    E002_UNTERMINATED_STRING = "E002", "unterminated string",
        "A string literal has no closing quote.\n\nIn single-quoted strings a quote is doubled: 'it''s'. In double-quoted strings it is escaped: \"say \\\"hi\\\"\".";
    E003_INVALID_ESCAPE = "E003", "invalid escape in string",
        "Double-quoted strings accept the escapes \\n \\t \\r \\\\ \\\" and \\'. Any other backslash sequence is an error.\n\nSingle-quoted strings have no escapes besides the doubled quote.";
    E004_UNEXPECTED_TOKEN = "E004", "unexpected token",
        "The parser found a token where it cannot stand. The message lists what could stand there.\n\nCommon causes: a missing comma between arguments, an unbalanced parenthesis, or two comparisons chained (`a = b = c`; comparisons do not associate: use `and`).";
    E005_UNEXPECTED_END = "E005", "unexpected end of formula",
        "The formula ended while an expression, an argument or a closing bracket was still needed.";
    E006_NUMBER_OUT_OF_RANGE = "E006", "number literal out of range",
        "Numbers are exact decimals with at most 28 significant digits (rust_decimal). A literal outside that range cannot be represented exactly and is rejected.";
    E007_MIXED_COLLECTION = "E007", "array literal mixes items and key => value pairs",
        "`[1, 2]` is an array and `['k' => 1]` is an object. One literal cannot be both: either every entry is `key => value` or none is.";
    E008_TOO_DEEP = "E008", "formula nests too deeply",
        "The syntax tree nests deeper than the depth limit (128 by default). Deep nesting usually comes from generated formulas; split the logic into several mappings.";
    E009_TOO_LONG = "E009", "formula too long",
        "The formula text is longer than the length limit (64 KiB by default).";
    E010_EMPTY = "E010", "empty formula",
        "The formula has no expression. Write at least a literal, e.g. null.";
    E101_OPERATOR_TYPE = "E101", "operator applied to a value of the wrong type",
        "An operator is applied to operands whose types can never work, for example `'a' * 2` (arithmetic needs numbers) or `'a' + 'b'` (join text with `&` or concat()).\n\nOperands whose type is not known at compile time (fields without a schema are `any`) are checked at run time instead (E301).";
    E102_ARGUMENT_TYPE = "E102", "argument of the wrong type",
        "A function argument has a type the function never accepts, for example `upper(42)`. `sluice functions NAME` shows the parameter types.";
    E103_CONDITION_NOT_BOOLEAN = "E103", "condition is never boolean",
        "A condition (a connector condition, or the test of if/ifs/and/or/not) has a type that can never be boolean, such as a string or a number. Compare it: `data('Qty') > 0`.";
    E104_UNKNOWN_FIELD = "E104", "unknown field",
        "The Connect Object declares a schema and the field read is not in it. Check the spelling (the hint suggests the closest declared field) or add the field to `[objects.<type>.fields]`.";
    E201_UNKNOWN_FUNCTION = "E201", "unknown function",
        "No function has this name. Names are case-insensitive; the hint suggests the closest one. `sluice functions` lists them all.";
    E202_ARITY = "E202", "wrong number of arguments",
        "The function was called with too few or too many arguments. `sluice functions NAME` shows its parameters; optional ones are marked with `?`.";
    E203_INVALID_REGEX = "E203", "invalid regular expression",
        "A literal pattern given to regexmatch, regexextract or regexreplace does not compile (Rust `regex` syntax). Literal patterns are compiled once, when the formula is checked.";
    E204_INVALID_OPTION = "E204", "invalid option literal",
        "A literal option argument is not one of the accepted values: a rounding mode, a date unit, a hash algorithm or a time zone name.";
    E205_HOST_FUNCTION_NAME = "E205", "host function cannot be registered",
        "A program embedding Sluice registered a function whose name is not an identifier, is already taken by a library or registered function, or whose optional parameters come before required ones.";
    E301_TYPE_MISMATCH = "E301", "type mismatch at run time",
        "A value of type `any` (typically a field without a schema) turned out to have a type the operation does not accept, for example a string field multiplied by a number.\n\nCatch it with iferror(x, fallback) or try(x), or convert first: number(data('Qty')).";
    E302_DIVISION_BY_ZERO = "E302", "division by zero",
        "A division or modulo by zero. Guard it: if(data('Qty') = 0, null, data('Total') / data('Qty')).";
    E303_OVERFLOW = "E303", "arithmetic overflow",
        "The result of an arithmetic operation does not fit in an exact decimal (28 significant digits). Values never wrap around.";
    E304_NUMBER_PARSE = "E304", "text is not a number",
        "number() or parsenumber() was given text that is not a number. Use tonumber(x, default) to get a default instead of an error.";
    E305_DATE = "E305", "invalid date",
        "Text could not be read as a date with the given formats, or date parts do not form a valid date (such as month 13).";
    E306_INVALID_ARGUMENT = "E306", "invalid argument value",
        "An argument has the right type but a value the function cannot use, for example a negative repeat count or a non-integer array index.";
    E307_LOOKUP = "E307", "lookup failed",
        "A lookup into the Connect Object store failed (the store is missing, corrupt or locked).";
    E308_NOT_A_DATE = "E308", "value is not a date",
        "A date function was given a value that is neither a date nor a datetime, or text that is not ISO 8601. Parse text first with parsedate(text, format).";
    E309_INVALID_PATTERN = "E309", "invalid regular expression at run time",
        "A pattern computed at run time (not a literal) does not compile, or compiles to more than the regex size limit.";
    E310_TOO_LARGE = "E310", "result too large",
        "A function would produce a string or an array beyond the resource limits (16 MiB of text, 1 000 000 elements), for example repeat('x', 1e9).";
    E311_STEP_LIMIT = "E311", "evaluation step limit exceeded",
        "Evaluating the formula for this record took more steps than the limit (1 000 000 by default; `--limit steps=N`). Formulas have no loops, so this takes a very large generated formula or huge arrays.";
    E312_JIT = "E312", "JIT compilation failed",
        "Cranelift could not compile the transform for this machine. Run with --engine interp; please report the formula.";
    E313_HOST_FUNCTION = "E313", "host function failed",
        "A function the program embedding Sluice registered returned an error (or panicked) for these arguments; the message is the host's.";
    E501_RECORD_JSON = "E501", "record is not valid JSON",
        "The record given with --record (or read from a file) is not valid JSON. The message gives the line and column.";
    E502_RECORD_NOT_OBJECT = "E502", "record is not a JSON object",
        "A record must be a JSON object: {\"field\": value, ...}.";
    E503_RECORD_NUMBER = "E503", "number in record out of range",
        "A number in the record has more than 28 significant digits or is outside the decimal range, so it cannot be read exactly.";
    E504_INVALID_NOW = "E504", "invalid --now value",
        "--now takes an RFC 3339 instant such as 2024-05-01T12:00:00Z or 2024-05-01T12:00:00+02:00.";
    E505_UNKNOWN_TIMEZONE = "E505", "unknown time zone",
        "Time zones are IANA names such as Europe/Berlin or America/New_York (chrono-tz), or UTC.";
    E506_READ_FILE = "E506", "cannot read file",
        "A file named on the command line could not be read. The message gives the operating system's reason.";
    E507_INPUT_LINE = "E507", "invalid input line",
        "A line of an NDJSON input is not a JSON object (or not valid UTF-8). The message names the line number. `sluice objects load` loads nothing when any line is bad.";
    E508_RECORD_TOO_LARGE = "E508", "input record too large",
        "An input record (one NDJSON line) is longer than the limit (16 MiB by default; `--limit record_bytes=N`). It goes to the dead letters unparsed.";
    E509_JSON_TOO_DEEP = "E509", "input record nests too deeply",
        "An input record nests arrays and objects deeper than the limit (128 by default, which is also the parser's own bound; `--limit json_depth=N`).";
    E510_INVALID_LIMIT = "E510", "invalid --limit",
        "--limit takes NAME=VALUE with a whole number: formula_bytes, depth, string_bytes, array_len, regex_bytes, steps, record_bytes, json_depth.";
    E511_SCHEMA_MISMATCH = "E511", "input value does not match its declared type",
        "The connector declares the field's type in [objects.<type>.fields] and the input record holds a value of another type, such as \"101\" (text) for a number field. The record goes to the dead letters with this code; it is never read as null.\n\nText in ISO 8601 is read as a date (`2024-05-01`) for a `date` field and as an instant for a `datetime` field (a date alone is that day's midnight in the run's zone); numbers are not read from text: fix the source, or declare the field `string` and convert with number().";
    E601_CONNECTOR_SYNTAX = "E601", "connector file does not parse",
        "The connector file is not valid TOML (or JSON, for .json files), or a value has the wrong type. The message gives the line and column.";
    E602_CONNECTOR_UNKNOWN_KEY = "E602", "unknown key in connector",
        "The connector has a key that is not part of the connector format (`docs/connectors.md` lists every key), often a misspelling. The hint suggests the closest known key.";
    E603_CONNECTOR_MISSING = "E603", "required connector setting missing",
        "A required setting is absent: the connector `name`, the `type` of a side, a mapping `target`, or the `primary_key` of a store-bound outbound side.";
    E604_MAPPING_SOURCE = "E604", "mapping needs exactly one of field, raw or formula",
        "Each [[mappings]] entry copies a source `field`, writes a static `raw` value, or computes a `formula`: exactly one of the three.";
    E605_SCHEMA_TYPE = "E605", "unknown type in object schema",
        "Field types in [objects.<type>.fields] are string, number, boolean, date, datetime, array, object or any.";
    E606_CREDENTIAL = "E606", "credential not available",
        "A credential given as env:VAR names an environment variable that is not set. Credentials are resolved when the run starts and are never printed.";
    E607_PRIMARY_KEY = "E607", "mapped record has no primary key",
        "A store-bound run upserts by the outbound `primary_key`; this record's mapped value for it is null or missing. The record goes to the dead letters.";
    E608_NO_INPUT = "E608", "no input for the run",
        "Give --input FILE (NDJSON, or CSV by extension) or - for stdin, or make the inbound side `type = \"store\"` to read its Connect Object from the store.";
    E609_DUPLICATE_TARGET = "E609", "two mappings write the same target",
        "Every mapping target must be unique: an output record holds exactly the mapping targets, in mapping order.";
    E610_INVALID_SETTING = "E610", "invalid connector setting",
        "A setting has a value outside its allowed set (system type, direction, frequency, conflict rule) or an interval that does not parse.";
    E611_CONNECTOR_CHANGED = "E611", "connector changed during an interrupted run",
        "A run over this input was interrupted (a crash, kill -9 or a stop) and the connector file has changed since. Resuming would map one half of the input with the old version and the other half with the new one. Run the connector as it was to finish, or run with --from-start to read the whole input again with the new version (its dead letters are replaced). A run that finished is not affected: the next run reads the new records with the new version.";
    E612_INPUT_CHANGED = "E612", "input changed since the checkpoint",
        "The checkpoint of this connector over this input records the input's size and a hash of the bytes before its position. The input is now shorter, or those bytes differ: it was truncated, replaced or rewritten, and resuming would start in the middle of some other line. Run with --from-start to read it again from its start. Appending to the input is fine: a growing file resumes where it stopped.";
    E613_STOPPED = "E613", "run stopped by a signal",
        "SIGTERM or SIGINT (Ctrl-C) stopped the run: the records read so far were processed and committed with the checkpoint, and the run was recorded as stopped (a stop while a REST request waited to be retried commits nothing of the batch in hand: the checkpoint stays at the last commit). Run the same command to resume where it stopped. The exit code is 143 for SIGTERM and 130 for SIGINT.";
    E614_REMOTE_UNREACHABLE = "E614", "remote system unreachable",
        "A REST/OData system did not answer usefully: the connection failed or timed out, or it answered 429 or 5xx, on every try (the connection's `retries`, waiting `backoff` doubled each time with jitter, or as long as `Retry-After` says, up to `max_backoff`). The run stops; what was committed stays, with the checkpoint, and the next run goes on from there (a catch-up sync). A TLS failure (a certificate the client does not trust, a refused handshake) is reported at once, not retried: check the side's `ca_cert` or client certificate.";
    E615_REMOTE_REJECTED = "E615", "remote system rejected a record",
        "The outbound system answered a write with a 4xx status (other than 401, 408 and 429). The record goes to the dead letters with the status and the start of the answer's body; the run goes on. Fix the record or the mapping and run with --retry-dead-letters.";
    E616_REMOTE_AUTH = "E616", "authentication with the remote system failed",
        "The remote system refused the credentials: the session login or the OAuth 2.0 token request failed, or requests were still answered 401/403 after logging in again. Check the side's [credentials] (the message never shows them) and `auth`.";
    E617_REMOTE_RESPONSE = "E617", "unexpected answer from the remote system",
        "A page of the source is not JSON, or holds no array at the connection's `records` path, or a lookup's answer has no records array. The message names the URL (without credentials) and what was found.";
    E618_AMBIGUOUS_MATCH = "E618", "match keys find more than one remote record",
        "An upsert looks the record up by its `match_keys` and the remote system returned several records: writing to one of them would be a guess. The record goes to the dead letters; make the match keys unique (add a key) or clean up the duplicates.";
    E619_FOREIGN_ORIGIN = "E619", "request to another origin refused",
        "A REST/OData system answered with a link (a next page, a cursor URL) to another scheme, host or port than the connection's `url`, or from https to http. Sluice sends a connection's credentials (API key, basic auth, OAuth token, session cookie) only to the origin of its `url`, and makes no request elsewhere: a link that leads away would hand the credentials to another host, or make Sluice a way into a network it can reach (SSRF). The run stops after committing what it read. If the system really serves pages from another origin, name it in the connection's `allowed_origins` (e.g. `[\"https://cdn.example.com\"]`); that origin is then trusted with the credentials too.";
    E620_WEAK_WEBHOOK_SECRET = "E620", "webhook secret too short",
        "A connector's `[sync] webhook_secret` is shorter than 16 bytes once surrounding white space is trimmed (an empty `env:` variable, a file holding only a newline). A short secret can be guessed, and an empty one would let anyone sign: `sluice check` refuses it and `sluice serve` does not serve the connector. Use at least 16 random bytes, e.g. `openssl rand -base64 32`, or a Standard Webhooks secret (`whsec_` followed by base64).";
    E621_SECRET_KEY = "E621", "no key to seal the store's secrets",
        "Sluice keeps the secrets it obtains (an OAuth 2.0 refresh token) in the store sealed with a key of yours (ChaCha20-Poly1305), never in clear: a copy of the store without the key reveals none. Set `SLUICE_SECRET_KEY` to 32 random bytes in base64 (`openssl rand -base64 32`), or to `env:VAR` or `file:PATH` naming where they are; keep it out of the store's directory and backups.";
    E622_SECRET_UNSEALED = "E622", "a secret in the store cannot be opened",
        "A secret kept in the store does not open with the key `SLUICE_SECRET_KEY` gives: the key changed, or the store was copied from another installation, or the sealed value was altered. Sluice never uses a secret it cannot verify. Set the key it was sealed with, or obtain the secret again (`sluice auth login CONNECTOR`).";
    E701_STORE_NOT_FOUND = "E701", "store not found",
        "The store file named with --store does not exist. Create one by loading objects: sluice objects load TYPE FILE --store DB.";
    E702_STORE_CORRUPT = "E702", "store is corrupt or not a Sluice store",
        "The store file is not an SQLite database, is damaged, or was not created by Sluice. Restore it from a backup or load the objects into a new store.";
    E703_STORE_LOCKED = "E703", "store is locked",
        "Another process holds a lock on the store (a running sync, an open SQLite shell) for longer than the busy timeout. Retry when it has finished.";
    E704_STORE_FULL = "E704", "store disk full",
        "The disk holding the store is full. Nothing of the failed write was kept; free space and run the command again.";
    E705_STORE_FAILED = "E705", "store operation failed",
        "The store reported an error that is not one of the specific cases (I/O error, permission denied, read-only file). The message gives SQLite's reason.";
    E706_UNKNOWN_OBJECT_TYPE = "E706", "no objects of that type in the store",
        "The store holds no Connect Object of the type named. `sluice objects list` shows the types it holds, with their counts; the hint suggests the closest one.";
    E707_LEASE_LOST = "E707", "partition lease lost",
        "A worker of a partitioned run (`--partitions`) held a partition's lease too long without committing (it was paused, or its connection to PostgreSQL was cut), and another worker took the partition over. Its last batch was rolled back, not written: the partition goes on from its checkpoint under the other worker, so nothing is written twice. Give a longer `--lease` when batches take longer than it.";
    E708_RUN_LOCK_LOST = "E708", "run lock lost",
        "The run's lock on its connector in a PostgreSQL store was lost while it ran (its session was ended: an idle-session timeout, a proxy, a failover, `pg_terminate_backend`), and another run may have taken the connector over. Every commit checks the lock's fencing token in the same transaction, so this run stopped at its next commit and wrote nothing after the loss; the other run goes on alone. Run the command again once no other run of the connector is going.";
    E709_EDIT_REFUSED = "E709", "an edited record was refused",
        "A record a person edited (in Sluice Studio's review queue or dead letters) was not taken: it is not a JSON object, or it changes the key of the record the review is about (an edit fixes a record; it cannot move it to another key). Nothing was written; the review or letter stays as it was.";
    E801_UNKNOWN_CONNECTOR = "E801", "no such connector is served",
        "The HTTP API of `sluice serve` was asked about a connector (`/connectors/<name>`, `/hooks/<name>`) that it does not serve. `GET /connectors` lists the names; a file that does not pass `sluice check` is not served (its problems are in the server's log and on its web page).";
    E802_CONNECTOR_INACTIVE = "E802", "connector is inactive",
        "The connector's inbound side is `active = false`: `sluice serve` neither schedules nor starts its runs. Set `active = true` in its file; the server reloads it within a second or two, no restart needed.";
    E803_LISTEN = "E803", "cannot listen on the address",
        "`sluice serve --listen ADDR:PORT` could not bind the address: another process has the port, the address is not one of this machine's, or a port below 1024 needs privileges. Give another port, or 127.0.0.1:0 for any free one (the server prints the one it got).";
    E804_WEBHOOK_REFUSED = "E804", "webhook not authenticated",
        "A `POST /hooks/<name>` carried no valid signature. Webhooks are signed as Standard Webhooks says: `webhook-id` (a unique delivery id), `webhook-timestamp` (Unix seconds, within `[sync] webhook_tolerance` of the server's clock, 5 minutes by default) and `webhook-signature: v1,<base64 HMAC-SHA256 of `id.timestamp.body`>` made with the connector's `[sync] webhook_secret` (a `whsec_` secret is the base64 of the key). Several space-separated signatures are accepted, for rotating secrets. A connector with `legacy_signature = true` also takes `X-Sluice-Signature: sha256=<hex HMAC of the body>` or `Authorization: Bearer <secret>`. A connector without a `webhook_secret` takes no webhooks.";
    E805_API_UNAUTHENTICATED = "E805", "API request not authenticated",
        "The HTTP API of `sluice serve` holds tokens (`sluice token list`) and the request carried none, or one that is unknown or revoked. Send `Authorization: Bearer <token>`; create a token with `sluice token create NAME --role read|operate|admin`. The web page asks for a token once and keeps a session cookie. `/healthz` needs no token, nor `/metrics` when the server runs with `--open-metrics`.";
    E806_API_FORBIDDEN = "E806", "the token's role does not allow this",
        "Tokens have roles: `read` sees status, metrics and runs; `operate` also starts runs; `admin` also sees connector files and dead-letter contents (raw records). Ask for a token with the role the request needs.";
    E807_REQUEST_REFUSED = "E807", "request from a foreign host or origin refused",
        "The request's `Host` header names a host the server does not answer to (a DNS-rebinding page), or a state-changing request came from another site (`Origin` or `Sec-Fetch-Site: cross-site`: a cross-site request forgery). The server answers to loopback names and to the hosts of `--public-url` and `--allowed-host`; give those when it is reached by another name.";
    E808_WEBHOOK_REPLAYED = "E808", "webhook delivery already received",
        "A webhook with this `webhook-id` was received before: it is answered 200 and its records are not ingested again. A sender that retries a delivery must keep its id; a new event needs a new id.";
    E809_SPOOL_FULL = "E809", "webhook spool full",
        "The records of a connector's webhooks waiting for their run take more than `--spool-quota` bytes: the hook is answered 507 and nothing of it is kept. The sender should retry later; the connector's runs empty the spool as they read it. A connector that keeps failing keeps its spool: fix it, or raise the quota.";
    E811_TOKEN_NAME = "E811", "token name taken or unknown",
        "`sluice token create NAME` names a token that exists (revoke it first, or choose another name), or `sluice token revoke NAME` names none (`sluice token list` shows them).";
    E810_INSECURE_LISTEN = "E810", "API open beyond this machine without authentication",
        "`sluice serve --listen` names an address other machines can reach, and the store holds no API token: anyone on the network could read dead letters (raw customer records) and start runs. Create a token first (`sluice token create NAME --role admin --store DB`), or listen on 127.0.0.1, or, knowingly, pass `--insecure-no-auth`.";
    E812_RUN_PANICKED = "E812", "a run stopped on an internal error",
        "A run under `sluice serve` met a bug (a panic in Sluice or in a function it called) and stopped. What it committed stands, as after a crash: the next run resumes from its last checkpoint. The run is recorded as failed with the panic's message, the connector is free for its next run (it is retried with the usual back-off), and the server goes on. Please report the message.";
}

/// Looks a code up by its id (`E101`, case-insensitive).
pub fn lookup(id: &str) -> Option<Code> {
    ALL.iter().copied().find(|c| c.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for c in ALL {
            assert!(seen.insert(c.id), "duplicate code {}", c.id);
            assert_eq!(c.id.len(), 4);
            assert!(c.id.starts_with('E'));
            assert!(c.id[1..].chars().all(|ch| ch.is_ascii_digit()));
            assert!(!c.explanation.is_empty());
        }
    }
}
