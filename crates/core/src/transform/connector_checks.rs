//! A connector checked as a whole (`sluice check` reports every problem at once): its
//! settings, schedules, conflict rule, objects and the way back of a bidirectional one. What
//! only the sync engine asks (the side types it knows, cron schedules) is the engine's.

use super::connector::{
    parse_interval, webhook_key, Conflict, Connector, ConnectorProblem, Frequency,
    MIN_WEBHOOK_SECRET,
};
use super::connector_file::ConnectorFile;
use super::connector_reference::{DIRECTIONS, FIELD_TYPES, NAMED_FREQUENCIES};
use crate::diagnostics::{codes, did_you_mean, one_of, Diag};
use crate::value::TypeSet;

impl Connector {
    /// Every problem that is not a formula's own (formulas are checked when compiled).
    pub fn validate(&self, file: &ConnectorFile) -> Vec<ConnectorProblem> {
        let mut problems = Vec::new();
        let mut push = |diag: Diag, needle: &str| {
            problems.push(ConnectorProblem {
                diag,
                line: file.line_of(needle),
                rendered: None,
                formula: None,
            })
        };
        if self.name.trim().is_empty() {
            push(
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    "the connector `name` is empty",
                ),
                "name",
            );
        }
        for (label, side) in [("inbound", &self.inbound), ("outbound", &self.outbound)] {
            let reached = [
                side.connection.is_some().then_some("connection"),
                side.table.is_some().then_some("table"),
                side.stream.is_some().then_some("stream"),
            ];
            let ways: Vec<&str> = reached.into_iter().flatten().collect();
            if ways.len() > 1 {
                push(
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!(
                            "the {label} side has {}: a side is one system",
                            ways.iter()
                                .map(|w| format!("a [{label}.{w}]"))
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    ),
                    &format!("[{label}.{}]", ways.last().copied().unwrap_or_default()),
                );
            }
            if let Some(stream) = &side.stream {
                let place = format!("[{label}.stream]");
                match &stream.url {
                    url if !url.is_literal() => {}
                    url => match super::stream::Broker::of(&url.0) {
                        Some(broker) => {
                            for problem in broker.problems(stream, label) {
                                push(Diag::new(codes::E603_CONNECTOR_MISSING, problem), &place);
                            }
                        }
                        None => push(
                            Diag::new(
                                codes::E610_INVALID_SETTING,
                                format!(
                                    "{label}.stream.url: `{}` is not a broker's URL: `nats://`, `amqp://`, `amqps://` or `mqtt://`",
                                    crate::diagnostics::redact::without_password(&url.0)
                                ),
                            ),
                            &place,
                        ),
                    },
                }
            }
            let Some(table) = &side.table else {
                continue;
            };
            if table.name_parts().is_none() {
                push(
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!(
                            "{label}.table.name: `{}` is not `table` or `schema.table`",
                            table.name
                        ),
                    ),
                    "name",
                );
            }
            if table.key.trim().is_empty()
                || table
                    .watermark
                    .as_deref()
                    .is_some_and(|w| w.trim().is_empty())
            {
                push(
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!(
                            "{label}.table: `key` and `watermark` name columns and cannot be empty"
                        ),
                    ),
                    "key",
                );
            }
        }
        for (label, side) in [("inbound", &self.inbound), ("outbound", &self.outbound)] {
            let Some(connection) = &side.connection else {
                continue;
            };
            for (diag, key) in connection.problems(label) {
                push(diag, key);
            }
            for needed in connection.needed_credentials() {
                if !side.credentials.contains_key(*needed) {
                    push(
                        Diag::new(
                            codes::E603_CONNECTOR_MISSING,
                            format!(
                                "{label}.connection: auth = \"{}\" needs `{label}.credentials.{needed}`",
                                connection.auth
                            ),
                        ),
                        "auth",
                    );
                }
            }
        }
        if let Some(zone) = &self.zone {
            if zone.parse::<chrono_tz::Tz>().is_err() {
                let zones = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
                push(
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!("unknown time zone `{zone}`"),
                    )
                    .help(
                        did_you_mean(zone, zones)
                            .map(|z| format!("did you mean `{z}`?"))
                            .unwrap_or_else(|| "an IANA name such as Europe/Berlin, or UTC".into()),
                    ),
                    "zone",
                );
            }
        }
        if !DIRECTIONS.contains(&self.sync.direction.as_str()) {
            push(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("unknown direction `{}`", self.sync.direction),
                )
                .help(one_of(&self.sync.direction, DIRECTIONS)),
                "direction",
            );
        }
        if let Some(diag) = self.time_field_problem() {
            let needle = if self.sync.updated_at.is_some() {
                "updated_at"
            } else {
                "most_recent"
            };
            push(diag, needle);
        }
        match &self.sync.frequency {
            Frequency::Named(n)
                if !NAMED_FREQUENCIES.contains(&n.as_str()) && parse_interval(n).is_none() =>
            {
                push(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("unknown frequency `{n}`"),
                )
                    .help(
                        "manual, realtime, event, hourly, daily, an interval such as \"15m\", or { cron = \"0 2 * * *\" }",
                    ),
                    "frequency",
                )
            }
            Frequency::Interval { interval } if parse_interval(interval).is_none() => push(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("interval `{interval}` does not parse"),
                )
                .help("a whole number and a unit: 30s, 15m, 2h, 1d"),
                "interval",
            ),
            _ => {}
        }
        if let Some(poll) = &self.sync.poll {
            if crate::transform::connection::parse_duration(poll).is_none_or(|d| d.is_zero()) {
                push(
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!("poll `{poll}` is not a duration"),
                    )
                    .help("a number and a unit: 250ms, 5s, 1m"),
                    "poll",
                );
            }
        }
        if let Some(lease) = &self.sync.lease {
            if crate::transform::connection::parse_duration(lease).is_none_or(|d| d.is_zero()) {
                push(
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!("lease `{lease}` is not a duration"),
                    )
                    .help("a number and a unit: 250ms, 30s, 2m"),
                    "lease",
                );
            }
        }
        if self.sync.partitions == Some(0) {
            push(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    "partitions = 0: a partitioned run needs at least one partition",
                ),
                "partitions",
            );
        }
        if let Some(tolerance) = &self.sync.webhook_tolerance {
            if crate::transform::connection::parse_duration(tolerance).is_none_or(|d| d.is_zero()) {
                push(
                    Diag::new(
                        codes::E610_INVALID_SETTING,
                        format!("webhook_tolerance `{tolerance}` is not a duration"),
                    )
                    .help("a number and a unit: 30s, 5m"),
                    "webhook_tolerance",
                );
            }
        }
        if let Some(secret) = &self.sync.webhook_secret {
            // An unresolvable reference is reported where it is used (a hook answers 500 and
            // logs it); a resolved one must be long enough.
            if let Ok(value) = secret.resolve("sync.webhook_secret") {
                if webhook_key(&value).len() < MIN_WEBHOOK_SECRET {
                    push(
                        Diag::new(
                            codes::E620_WEAK_WEBHOOK_SECRET,
                            format!(
                                "sync.webhook_secret is shorter than {MIN_WEBHOOK_SECRET} bytes (white space trimmed)"
                            ),
                        )
                        .help("use at least 16 random bytes, e.g. the output of `openssl rand -base64 32`"),
                        "webhook_secret",
                    );
                }
            }
        }
        if self.outbound.path.is_some() && self.back_of.is_none() {
            push(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    "`path` is a file to read: only the inbound side has one",
                )
                .help("write mapped records to a file with `sluice run --output FILE`"),
                "path",
            );
        }
        for diag in self.bidirectional_problems() {
            push(diag, "[reverse]");
        }
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.mappings.iter().enumerate() {
            let mut push = |diag: Diag| {
                problems.push(ConnectorProblem {
                    diag,
                    line: file.mapping_line(i),
                    rendered: None,
                    formula: None,
                })
            };
            if m.target.trim().is_empty() {
                push(Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    format!("mappings[{i}] has an empty target"),
                ));
            }
            let sources = [m.field.is_some(), m.raw.is_some(), m.formula.is_some()]
                .iter()
                .filter(|s| **s)
                .count();
            if sources != 1 {
                push(Diag::new(
                    codes::E604_MAPPING_SOURCE,
                    format!(
                        "mappings[{i}] `{}` has {sources} of field/raw/formula, needs exactly one",
                        m.target
                    ),
                ));
            }
            if !seen.insert(m.target.as_str()) {
                push(Diag::new(
                    codes::E609_DUPLICATE_TARGET,
                    format!("mappings[{i}]: target `{}` is mapped twice", m.target),
                ));
            }
        }
        let mut push = |diag: Diag, needle: &str| {
            problems.push(ConnectorProblem {
                diag,
                line: file.line_of(needle),
                rendered: None,
                formula: None,
            })
        };
        for (object, schema) in &self.objects {
            for (field, ty) in &schema.fields {
                if !FIELD_TYPES.contains(&ty.as_str()) || TypeSet::from_name(ty).is_none() {
                    push(
                        Diag::new(
                            codes::E605_SCHEMA_TYPE,
                            format!("objects.{object}: field `{field}` has unknown type `{ty}`"),
                        )
                        .help(one_of(ty, FIELD_TYPES)),
                        &format!("\"{ty}\""),
                    );
                }
            }
        }
        if self.outbound.active
            && self.outbound.system == "store"
            && self.outbound.primary_key.is_none()
        {
            push(
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    "a store-bound outbound side needs `primary_key`",
                ),
                "[outbound]",
            );
        }
        problems
    }

    /// `most_recent` without the time it compares, or `[sync] updated_at` naming a field no
    /// mapping writes: the rule would compare run times, not change times.
    fn time_field_problem(&self) -> Option<Diag> {
        if self.back_of.is_some() {
            return None;
        }
        let field = self.sync.time_field();
        if self.mappings.iter().any(|m| m.target == field) {
            return None;
        }
        let targets: Vec<&str> = self.mappings.iter().map(|m| m.target.as_str()).collect();
        let close = did_you_mean(field, targets.iter().copied())
            .map(|t| format!("did you mean `{t}`? "))
            .unwrap_or_default();
        match (&self.sync.updated_at, self.sync.conflict) {
            (Some(named), _) => Some(
                Diag::new(
                    codes::E610_INVALID_SETTING,
                    format!("[sync] updated_at names `{named}`, which no mapping writes"),
                )
                .help(format!(
                    "{close}name the mapping target that holds the time each record changed"
                )),
            ),
            (None, Conflict::MostRecent) => Some(
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    "conflict = \"most_recent\" needs the time each record changed, and no mapping writes `updated_at`",
                )
                .help(format!(
                    "{close}map the source's change time to `updated_at` ([[mappings]] target = \"updated_at\", field = \"UpdateDate\"), \
                     or name the target that holds it: [sync] updated_at = \"lastChange\"; \
                     without one every record would count as changed at the time of the run"
                )),
            ),
            (None, _) => None,
        }
    }

    /// Whether records flow both ways.
    pub fn is_bidirectional(&self) -> bool {
        self.sync.direction == "bidirectional"
    }

    /// What a bidirectional connector lacks: a `[reverse]` table with a key and mappings,
    /// a store-bound outbound side (the objects the way back reads); and a `[reverse]`
    /// table on a connector that is not bidirectional.
    fn bidirectional_problems(&self) -> Vec<Diag> {
        let missing = |what: &str| {
            Diag::new(
                codes::E603_CONNECTOR_MISSING,
                format!("a bidirectional connector needs {what}"),
            )
        };
        let Some(reverse) = &self.reverse else {
            return match self.is_bidirectional() {
                true => vec![missing("a `[reverse]` table (primary_key and mappings)")
                    .help("[reverse] maps the stored object back to the inbound system; see docs/serve.md")],
                false => Vec::new(),
            };
        };
        if !self.is_bidirectional() {
            return vec![Diag::new(
                codes::E610_INVALID_SETTING,
                "`[reverse]` is read only when `[sync] direction = \"bidirectional\"`",
            )];
        }
        let mut problems = Vec::new();
        if reverse.mappings.is_empty() {
            problems.push(missing("`[[reverse.mappings]]`"));
        }
        if !reverse
            .mappings
            .iter()
            .any(|m| m.target == reverse.primary_key)
        {
            problems.push(missing(&format!(
                "a reverse mapping with target `{}` (its primary_key)",
                reverse.primary_key
            )));
        }
        if self.outbound.connection.is_some()
            || self.outbound.object.is_none()
            || self.outbound.primary_key.is_none()
        {
            problems.push(missing(
                "a store-bound outbound side (`object` and `primary_key`, no connection)",
            ));
        }
        if self.inbound.connection.is_none() && self.inbound.path.is_none() {
            problems.push(missing(
                "an inbound side it can write back to (`path` or a `[inbound.connection]`)",
            ));
        }
        problems
    }
}
