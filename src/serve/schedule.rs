//! When `sluice serve` runs a connector: its `[sync] frequency` as a schedule.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::executor::prepare::cron_schedule;
use crate::transform::connection::parse_duration;
use crate::transform::connector::{parse_interval, Connector, Frequency};

/// How long `realtime` waits between looks at a source that had nothing new.
pub const DEFAULT_POLL: Duration = Duration::from_secs(1);

/// A connector's schedule.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Only when triggered over the API.
    Manual,
    /// When a webhook arrives (or when triggered).
    Event,
    /// Back to back, waiting this long after a run that found nothing new.
    Realtime(Duration),
    /// Every so long after the last run started.
    Every(Duration),
    /// At the occurrences of a cron expression, in a zone.
    Cron(Box<cron::Schedule>, Tz),
}

impl Schedule {
    /// The schedule of a connector (checked already: an invalid frequency is manual).
    pub fn of(connector: &Connector) -> Schedule {
        let zone = connector.zone_or(None);
        match &connector.sync.frequency {
            Frequency::Named(name) => match name.as_str() {
                "manual" => Schedule::Manual,
                "event" => Schedule::Event,
                "realtime" => Schedule::Realtime(
                    connector
                        .sync
                        .poll
                        .as_deref()
                        .and_then(parse_duration)
                        .filter(|d| !d.is_zero())
                        .unwrap_or(DEFAULT_POLL),
                ),
                "hourly" => Schedule::Every(Duration::from_secs(3600)),
                "daily" => Schedule::Every(Duration::from_secs(86_400)),
                other => parse_interval(other).map_or(Schedule::Manual, |s| {
                    Schedule::Every(Duration::from_secs(s))
                }),
            },
            Frequency::Interval { interval } => parse_interval(interval)
                .map_or(Schedule::Manual, |s| {
                    Schedule::Every(Duration::from_secs(s))
                }),
            Frequency::Cron { cron } => {
                cron_schedule(cron).map_or(Schedule::Manual, |s| Schedule::Cron(Box::new(s), zone))
            }
        }
    }

    /// The next run after a run that started at `last` (none ever: `None`), seen at
    /// `now`. A run that a schedule owed while the server was down is due at once (once,
    /// however many occurrences were missed); `None` means: only when triggered.
    pub fn next(&self, last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Manual | Schedule::Event => None,
            Schedule::Realtime(_) => Some(now),
            Schedule::Every(every) => {
                let every = chrono::Duration::from_std(*every).ok()?;
                Some(last.map_or(now, |l| l + every))
            }
            Schedule::Cron(cron, zone) => match last {
                Some(l) => cron
                    .after(&l.with_timezone(zone))
                    .next()
                    .map(|t| t.with_timezone(&Utc)),
                None => cron
                    .after(&now.with_timezone(zone))
                    .next()
                    .map(|t| t.with_timezone(&Utc)),
            },
        }
    }

    /// How the schedule reads in `GET /connectors`.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Manual => "manual".into(),
            Schedule::Event => "event".into(),
            Schedule::Realtime(poll) => format!("realtime (poll {poll:?})"),
            Schedule::Every(every) => format!("every {every:?}"),
            Schedule::Cron(cron, zone) => format!("cron {} ({zone})", cron.source()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::transform::connector_parse::parse_connector;

    fn schedule(frequency: &str) -> Schedule {
        let text = format!(
            "name = 'n'\n[inbound]\ntype = 'ndjson'\n[outbound]\ntype = 'ndjson'\n[sync]\nfrequency = {frequency}\n"
        );
        Schedule::of(&parse_connector(&text, false).unwrap())
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn an_interval_runs_at_once_when_never_run_and_after_the_last_start_otherwise() {
        let s = schedule("'15m'");
        let now = at("2026-01-01T10:00:00Z");
        assert_eq!(s.next(None, now), Some(now));
        assert_eq!(
            s.next(Some(at("2026-01-01T09:50:00Z")), now),
            Some(at("2026-01-01T10:05:00Z"))
        );
        assert!(matches!(schedule("'hourly'"), Schedule::Every(d) if d.as_secs() == 3600));
        assert!(
            matches!(schedule("{ interval = '2h' }"), Schedule::Every(d) if d.as_secs() == 7200)
        );
    }

    #[test]
    fn a_missed_schedule_is_due_once_not_once_per_missed_occurrence() {
        let s = schedule("'15m'");
        let now = at("2026-01-02T10:00:00Z");
        // down for a day: the next run is due now (in the past is fine: due means run)
        let next = s.next(Some(at("2026-01-01T10:00:00Z")), now).unwrap();
        assert!(next <= now);
        let cron = schedule("{ cron = '0 2 * * *' }");
        let next = cron.next(Some(at("2025-12-30T02:00:00Z")), now).unwrap();
        assert_eq!(next, at("2025-12-31T02:00:00Z"));
        assert!(next <= now);
    }

    #[test]
    fn cron_follows_the_connector_zone() {
        let text = "name = 'n'\nzone = 'Europe/Berlin'\n[inbound]\ntype = 'ndjson'\n[outbound]\ntype = 'ndjson'\n[sync]\nfrequency = { cron = '0 2 * * *' }\n";
        let s = Schedule::of(&parse_connector(text, false).unwrap());
        let next = s.next(None, at("2026-01-01T00:30:00Z")).unwrap();
        assert_eq!(next, at("2026-01-01T01:00:00Z"));
    }

    #[test]
    fn manual_and_event_run_only_when_triggered() {
        let now = at("2026-01-01T10:00:00Z");
        assert_eq!(schedule("'manual'").next(Some(now), now), None);
        assert_eq!(schedule("'event'").next(None, now), None);
    }
}
