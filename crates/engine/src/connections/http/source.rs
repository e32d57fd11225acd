//! A REST/OData source: pages of records fetched with GET, OData query options, paging by
//! next link, `$skip`, page number or cursor, records taken from a JSON path. Its position
//! (the page, the records of it processed, the watermark) rides in the checkpoint, so a
//! killed run resumes at the page it was on, and the next run after a finished one asks only
//! for what changed since the high-water mark (less an overlap).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::connections::http::client::Client;
use crate::connections::http::watermark;
use crate::connections::queued::{self, Queued};
use crate::diagnostics::{codes, Diag};
use crate::seams::{ReadSettings, Reading, Source};
use crate::store::sync::Checkpoint;
use crate::transform::connection::Connection;
use crate::transform::connector::Side;
use crate::transform::source::{InputRecord, Raw};

/// Where a source stands: the checkpoint's `cursor`, as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cursor {
    /// The page to read next (its URL), or none when the pass ended.
    pub page: Option<String>,
    /// Records of that page already processed.
    pub skip: u64,
    /// The watermark this pass started from (none: a full pass).
    pub since: Option<String>,
    /// The highest watermark value among the records processed.
    pub high: Option<String>,
}

/// One page as read: where it is and what follows it.
struct Page {
    url: String,
    /// Records of it skipped when it was read (a resumed page).
    skipped: u64,
    first_line: u64,
    /// The running high-water mark after each of its records.
    highs: Vec<Option<String>>,
    next: Option<String>,
}

/// The pages read and not yet behind a checkpoint, shared by the source (which writes
/// checkpoints) and its reader.
#[derive(Default)]
struct PageLog {
    start: Cursor,
    pages: VecDeque<Page>,
}

impl PageLog {
    /// The cursor after line `line`; pages wholly before it are dropped.
    fn cursor_at(&mut self, line: u64) -> Cursor {
        while self
            .pages
            .front()
            .is_some_and(|p| p.first_line + (p.highs.len() as u64) <= line && self.pages.len() > 1)
        {
            self.pages.pop_front();
        }
        let since = self.start.since.clone();
        for (i, page) in self.pages.iter().enumerate() {
            let read = line.saturating_sub(page.first_line - 1);
            if line < page.first_line || read > page.highs.len() as u64 {
                continue;
            }
            let high = match read {
                0 => None,
                n => page.highs.get(n as usize - 1).cloned().flatten(),
            }
            .or_else(|| self.start.high.clone());
            return match read == page.highs.len() as u64 {
                true => Cursor {
                    page: self.after(i),
                    skip: 0,
                    since,
                    high,
                },
                false => Cursor {
                    page: Some(page.url.clone()),
                    skip: page.skipped + read,
                    since,
                    high,
                },
            };
        }
        self.start.clone()
    }

    /// The page to read after page `i` of the log: its next, or — past empty pages already
    /// read — theirs (a pass whose last page was empty is over, not waiting on that page).
    fn after(&self, i: usize) -> Option<String> {
        let mut next = self.pages.get(i)?.next.clone();
        for page in self.pages.iter().skip(i + 1) {
            if next.as_deref() != Some(page.url.as_str()) || !page.highs.is_empty() {
                break;
            }
            next = page.next.clone();
        }
        next
    }
}

/// A REST/OData inbound side.
pub struct HttpSource {
    client: Arc<Client>,
    connection: Connection,
    entity: String,
    filter: Option<String>,
    key: String,
    log: Arc<Mutex<PageLog>>,
    /// A partition's pages: the first page's index (from 0) and the index past its last.
    pages: Option<(u64, u64)>,
}

impl HttpSource {
    /// Only pages `start..end` (indexes from 0) of `skip` or `page` paging, as partition
    /// `part`: its key is `<key>#part<part>`, and it reads them whole (no watermark).
    pub fn with_pages(mut self, part: i64, (start, end): (u64, u64)) -> HttpSource {
        self.key = format!("{}#part{part}", self.key);
        self.pages = Some((start, end));
        self
    }

    /// The source of an inbound side with a `connection`.
    pub fn new(side: &Side, connection: &Connection, client: Arc<Client>) -> HttpSource {
        let entity = side.entity.clone().unwrap_or_default();
        HttpSource {
            key: format!("http:{}", client.url(&entity)),
            client,
            connection: connection.clone(),
            entity,
            filter: side.query_filter.clone(),
            log: Arc::default(),
            pages: None,
        }
    }

    /// The first page of a full pass, fetched once (no retries beyond the connection's):
    /// its URL with credentials hidden and its records' JSON texts. What Sluice Studio's
    /// *Test connection* shows.
    pub fn first_page_records(&self) -> Result<(String, Vec<String>), Diag> {
        let url = self.first_page(None)?;
        let fetcher = Fetcher {
            client: Arc::clone(&self.client),
            connection: self.connection.clone(),
            pages_left: Some(1),
        };
        let (url, records, _) = fetcher.page(url)?;
        Ok((self.client.redact(&url), records))
    }

    /// The first page's URL of a pass from `since` (a full pass when none).
    fn first_page(&self, since: Option<&str>) -> Result<String, Diag> {
        let c = &self.connection;
        let mut url = url::Url::parse(&self.client.url(&self.entity)).map_err(|e| {
            Diag::new(
                codes::E610_INVALID_SETTING,
                format!("inbound.connection.url: {e}"),
            )
        })?;
        {
            let mut q = url.query_pairs_mut();
            let watermark_filter = match (&c.watermark, &c.watermark_param, since) {
                (Some(field), None, Some(since)) => Some(format!("{field} ge '{since}'")),
                _ => None,
            };
            let filter = match (&self.filter, watermark_filter) {
                (Some(f), Some(w)) => Some(format!("({f}) and {w}")),
                (f, w) => f.clone().or(w),
            };
            if let Some(filter) = filter {
                q.append_pair("$filter", &filter);
            }
            if let (Some(param), Some(since)) = (&c.watermark_param, since) {
                q.append_pair(param, since);
            }
            if let Some(select) = &c.select {
                q.append_pair("$select", select);
            }
            if let Some(orderby) = &c.orderby {
                q.append_pair("$orderby", orderby);
            }
            for (k, v) in &c.query {
                q.append_pair(k, v);
            }
            let size = c.page_size.unwrap_or(100).to_string();
            match c.paging.as_str() {
                "skip" => {
                    let first =
                        self.pages.map_or(0, |(start, _)| start) * c.page_size.unwrap_or(100);
                    q.append_pair(c.page_size_param.as_deref().unwrap_or("$top"), &size);
                    q.append_pair(
                        c.skip_param.as_deref().unwrap_or("$skip"),
                        &first.to_string(),
                    );
                }
                "page" => {
                    let first = self.pages.map_or(0, |(start, _)| start) + 1;
                    q.append_pair(c.page_size_param.as_deref().unwrap_or("limit"), &size);
                    q.append_pair(
                        c.page_param.as_deref().unwrap_or("page"),
                        &first.to_string(),
                    );
                }
                "cursor" => {
                    q.append_pair(c.page_size_param.as_deref().unwrap_or("limit"), &size);
                }
                _ => {
                    if let Some(param) = &c.page_size_param {
                        q.append_pair(param, &size);
                    }
                }
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        Ok(spaces_as_percent20(url))
    }
}

impl HttpSource {
    /// The index (from 0) of the page at `url`, for `skip` and `page` paging.
    fn page_index(&self, url: &str) -> Option<u64> {
        let c = &self.connection;
        let url = url::Url::parse(url).ok()?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse::<u64>().ok())
        };
        match c.paging.as_str() {
            "skip" => Some(
                param(c.skip_param.as_deref().unwrap_or("$skip"))?
                    / c.page_size.unwrap_or(100).max(1),
            ),
            "page" => Some(param(c.page_param.as_deref().unwrap_or("page"))?.saturating_sub(1)),
            _ => None,
        }
    }
}

impl Source for HttpSource {
    fn key(&self) -> &str {
        &self.key
    }

    fn resumable(&self) -> bool {
        true
    }

    fn identify(&self, checkpoint: &mut Checkpoint) -> Result<(), Diag> {
        let cursor = match self.log.lock() {
            Ok(mut log) => log.cursor_at(checkpoint.line),
            Err(_) => return Err(Diag::new(codes::E705_STORE_FAILED, "page log poisoned")),
        };
        checkpoint.keep_cursor(&cursor);
        Ok(())
    }

    fn open(
        &mut self,
        resume: Option<&Checkpoint>,
        settings: &ReadSettings,
    ) -> Result<Reading, Diag> {
        let saved: Option<Cursor> =
            Checkpoint::cursor_of(resume).map(|c: Cursor| match self.pages {
                // A partition is read whole: no incremental pass over it.
                Some(_) => Cursor { high: None, ..c },
                None => c,
            });
        let start = match saved {
            Some(cursor @ Cursor { page: Some(_), .. }) => cursor,
            Some(Cursor { high, .. }) => {
                let since = high
                    .as_deref()
                    .map(|h| watermark::minus(h, self.connection.overlap()));
                Cursor {
                    page: Some(self.first_page(since.as_deref())?),
                    skip: 0,
                    since,
                    high,
                }
            }
            None => Cursor {
                page: Some(self.first_page(None)?),
                ..Cursor::default()
            },
        };
        if let Ok(mut log) = self.log.lock() {
            *log = PageLog {
                start: start.clone(),
                pages: VecDeque::new(),
            };
        }
        let fetcher = Fetcher {
            client: Arc::clone(&self.client),
            connection: self.connection.clone(),
            pages_left: self.pages.map(|(_, end)| {
                let first = start.page.as_deref().and_then(|u| self.page_index(u));
                first.map_or(0, |first| end.saturating_sub(first))
            }),
        };
        let (pages, rx) = std::sync::mpsc::sync_channel(PREFETCH);
        let first = start.page.clone();
        // Detached: a run that stops early leaves it blocked on its send or its request.
        std::thread::spawn(move || fetcher.run(first, &pages));
        Ok(Reading::Records(Box::new(PageReader {
            connection: self.connection.clone(),
            log: Arc::clone(&self.log),
            pages: rx,
            skip: start.skip,
            high: start.high,
            queued: Queued::new(
                resume.map_or(0, |c| c.line),
                settings.limits,
                settings.transform.input_fields.clone().map(|mut fields| {
                    if let Some(field) = &self.connection.watermark {
                        fields.push(Arc::from(field.as_str()));
                    }
                    fields
                }),
            ),
        })))
    }
}

/// Pages fetched ahead of the records being processed.
const PREFETCH: usize = 2;

/// One page as fetched: its URL, its records' JSON texts, the next page's URL.
type Fetched = Result<(String, Vec<String>, Option<String>), Diag>;

/// Fetches the pages one after another on a thread of its own, so that the next page is
/// on its way while the records of this one are processed.
struct Fetcher {
    client: Arc<Client>,
    connection: Connection,
    /// For a partition: how many pages it still has.
    pages_left: Option<u64>,
}

impl Fetcher {
    /// Fetches from `next` until the last page, an error, or the reader is gone.
    fn run(mut self, mut next: Option<String>, pages: &std::sync::mpsc::SyncSender<Fetched>) {
        while let Some(url) = next.take() {
            match &mut self.pages_left {
                Some(0) => return,
                Some(left) => *left -= 1,
                None => {}
            }
            let page = self.page(url);
            next = page.as_ref().ok().and_then(|(_, _, next)| next.clone());
            let failed = page.is_err();
            if pages.send(page).is_err() || failed {
                return;
            }
        }
    }

    /// One page: GET, check, cut out the records, find what follows.
    fn page(&self, url: String) -> Fetched {
        let c = &self.connection;
        let mut headers = Vec::new();
        if c.paging == "next_link" {
            let size = c.page_size.unwrap_or(100);
            headers.push(("Prefer", format!("odata.maxpagesize={size}")));
        }
        let reply = self.client.send("GET", &url, None, &headers)?;
        let shown = self.client.redact(&url);
        if !reply.ok() {
            return Err(Diag::new(
                codes::E614_REMOTE_UNREACHABLE,
                format!(
                    "GET {shown}: HTTP {} {}",
                    reply.status,
                    self.client.redact(&reply.excerpt())
                ),
            ));
        }
        let bad =
            |what: String| Diag::new(codes::E617_REMOTE_RESPONSE, format!("GET {shown}: {what}"));
        let page: &RawValue = serde_json::from_slice(&reply.body)
            .map_err(|e| bad(format!("the answer is not JSON ({e})")))?;
        let path = c.records.as_deref().unwrap_or("value");
        let records: Vec<&RawValue> = at_path(page, path)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .ok_or_else(|| bad(format!("no array of records at `{path}`")))?;
        let next = self.next_page(&url, page, records.len() as u64)?;
        let records = records.into_iter().map(|r| r.get().to_string()).collect();
        Ok((url, records, next))
    }

    /// The URL of the page after `url`, from what the page said and held.
    fn next_page(&self, url: &str, page: &RawValue, count: u64) -> Result<Option<String>, Diag> {
        let c = &self.connection;
        let size = c.page_size.unwrap_or(100);
        let text_at = |path: &str| {
            at_path(page, path).and_then(|raw| {
                serde_json::from_str::<Option<String>>(raw.get())
                    .ok()
                    .flatten()
            })
        };
        let set = |param: &str, value: String| -> Result<Option<String>, Diag> {
            let mut parsed = url::Url::parse(url)
                .map_err(|e| Diag::new(codes::E617_REMOTE_RESPONSE, format!("not a URL ({e})")))?;
            crate::connections::http::set_query_param(&mut parsed, param, Some(&value));
            Ok(Some(spaces_as_percent20(parsed)))
        };
        let number = |param: &str| -> u64 {
            url::Url::parse(url)
                .ok()
                .and_then(|u| {
                    u.query_pairs()
                        .find(|(k, _)| k == param)
                        .and_then(|(_, v)| v.parse().ok())
                })
                .unwrap_or(0)
        };
        match c.paging.as_str() {
            "next_link" => {
                let link = match &c.next_link_path {
                    Some(path) => text_at(path),
                    None => text_at("@odata.nextLink").or_else(|| text_at("odata.nextLink")),
                };
                Ok(link.map(|l| self.client.strip_credentials(&self.resolve(url, &l))))
            }
            "skip" if count > 0 && count >= size => {
                let param = c.skip_param.as_deref().unwrap_or("$skip");
                set(param, (number(param) + count).to_string())
            }
            "page" if count > 0 && count >= size => {
                let param = c.page_param.as_deref().unwrap_or("page");
                set(param, (number(param).max(1) + 1).to_string())
            }
            "cursor" => match text_at(c.cursor_path.as_deref().unwrap_or("next_cursor")) {
                Some(cursor) if !cursor.is_empty() && count > 0 => {
                    set(c.page_param.as_deref().unwrap_or("cursor"), cursor)
                }
                _ => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// A next link as a full URL: absolute as it is, `/path` on the same host, anything
    /// else under the service root (SAP B1 gives `BusinessPartners?$skip=20`); characters a
    /// URI may not hold (spaces, quotes) percent-encoded, as servers that write them raw mean.
    fn resolve(&self, current: &str, link: &str) -> String {
        let full = if link.starts_with("http://") || link.starts_with("https://") {
            link.to_string()
        } else {
            match url::Url::parse(current) {
                Ok(base) if link.starts_with('/') => base
                    .join(link)
                    .map_or_else(|_| link.to_string(), |u| u.to_string()),
                _ => self.client.url(link),
            }
        };
        url::Url::parse(&full).map_or(full, |u| u.to_string())
    }
}

/// A URL with its query's spaces as `%20` and `$` as itself: the query is written as a form
/// would be (`+` for a space, a literal `+` as `%2B`, `$` as `%24`), which strict OData
/// servers (Microsoft Graph) refuse in `$filter`; every `+` of such a query is a space, and
/// `$` may stand in a query as it is (RFC 3986).
fn spaces_as_percent20(mut url: url::Url) -> String {
    if let Some(query) = url
        .query()
        .map(|q| q.replace('+', "%20").replace("%24", "$"))
    {
        url.set_query(Some(&query));
    }
    url.to_string()
}

/// The value at a dotted path of a JSON document (`value`, `data.items`; `.` is the whole
/// document). A key that itself holds dots (`@odata.nextLink`) is found before a shorter one.
fn at_path<'a>(doc: &'a RawValue, path: &str) -> Option<&'a RawValue> {
    if path.is_empty() || path == "." {
        return Some(doc);
    }
    let object: std::collections::HashMap<String, &RawValue> =
        serde_json::from_str(doc.get()).ok()?;
    if let Some(value) = object.get(path) {
        return Some(value);
    }
    path.match_indices('.').rev().find_map(|(at, _)| {
        let head = path.get(..at)?;
        let rest = path.get(at + 1..)?;
        at_path(object.get(head)?, rest)
    })
}

/// Hands out the records of the fetched pages one by one, parsed, keeping the page log and
/// the high-water mark.
struct PageReader {
    connection: Connection,
    log: Arc<Mutex<PageLog>>,
    pages: std::sync::mpsc::Receiver<Fetched>,
    skip: u64,
    high: Option<String>,
    queued: Queued,
}

impl PageReader {
    /// Takes the next page into the queue; `false` after the last one.
    fn fetch(&mut self) -> Result<bool, Diag> {
        let Ok(page) = self.pages.recv() else {
            return Ok(false);
        };
        let (url, records, next) = page?;
        let skipped = std::mem::take(&mut self.skip);
        let first_line = self.queued.line + 1;
        let mut highs = Vec::new();
        for text in records.iter().skip(skipped as usize) {
            let parsed = self.queued.push(text.as_bytes());
            if let (Some(field), Some(record)) = (&self.connection.watermark, parsed) {
                if let Some(v) = record.get_key(field).and_then(watermark::text_of) {
                    if watermark::later(&v, self.high.as_deref()) {
                        self.high = Some(v);
                    }
                }
            }
            highs.push(self.high.clone());
        }
        if let Ok(mut log) = self.log.lock() {
            log.pages.push_back(Page {
                url,
                skipped,
                first_line,
                highs,
                next,
            });
        }
        Ok(true)
    }
}

impl crate::transform::source::RecordSource for PageReader {
    fn next_record(&mut self) -> Option<std::io::Result<InputRecord>> {
        queued::next(self, |r| &mut r.queued, PageReader::fetch)
    }

    fn last_raw(&self) -> Raw {
        self.queued.last_raw()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn paths_find_keys_with_dots_before_nested_ones() {
        let doc =
            raw(r#"{"@odata.nextLink": "A", "odata": {"nextLink": "B"}, "body": {"items": [1]}}"#);
        assert_eq!(at_path(&doc, "@odata.nextLink").unwrap().get(), r#""A""#);
        assert_eq!(at_path(&doc, "odata.nextLink").unwrap().get(), r#""B""#);
        assert_eq!(at_path(&doc, "body.items").unwrap().get(), "[1]");
        assert_eq!(at_path(&doc, ".").unwrap().get(), doc.get());
        assert!(at_path(&doc, "body.nothing").is_none());
    }

    fn page(url: &str, first_line: u64, skipped: u64, n: usize, next: Option<&str>) -> Page {
        Page {
            url: url.into(),
            skipped,
            first_line,
            highs: (0..n).map(|i| Some(format!("{url}{i}"))).collect(),
            next: next.map(str::to_string),
        }
    }

    #[test]
    fn the_cursor_names_the_page_and_the_records_of_it_processed() {
        let mut log = PageLog {
            start: Cursor {
                page: Some("p1".into()),
                skip: 3,
                since: Some("s".into()),
                high: Some("h".into()),
            },
            pages: VecDeque::from([
                page("p1", 11, 3, 7, Some("p2")),
                page("p2", 18, 0, 10, Some("p3")),
                page("p3", 28, 0, 0, None),
            ]),
        };
        assert_eq!(
            log.cursor_at(10),
            log.start.clone(),
            "nothing processed yet"
        );
        let mid = log.cursor_at(12);
        assert_eq!((mid.page.as_deref(), mid.skip), (Some("p1"), 5));
        assert_eq!(mid.high.as_deref(), Some("p11"));
        let end_of_first = log.cursor_at(17);
        assert_eq!(
            (end_of_first.page.as_deref(), end_of_first.skip),
            (Some("p2"), 0)
        );
        let done = log.cursor_at(27);
        assert_eq!(done.page, None, "the pass is over: the last page was empty");
        assert_eq!(done.high.as_deref(), Some("p29"));
        assert_eq!(done.since.as_deref(), Some("s"));
    }
}
