//! The sources a run reads from: a file (NDJSON, or CSV by extension), stdin, a Connect
//! Object of the store, and the dead letters of earlier runs. [`open_source`] picks one
//! from the connector and the options.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::connections::dead_letters::read_dead_letters;
use crate::connections::resume::{head_hash, verify_input};
use crate::diagnostics::{codes, Diag};
use crate::seams::{ReadSettings, Reading, Source};
use crate::store::sync::Checkpoint;
use crate::store::Store;
use crate::transform::connector::Connector;
use crate::transform::source::{CsvSource, Raw, ValueSource};

use crate::io_diag;

/// A file: NDJSON read in parallel from a byte offset, or CSV (by the `.csv` extension)
/// from a line. Resumable; its identity is its size and the bytes before the position.
pub struct FileSource {
    path: String,
    key: String,
    file: File,
    csv: bool,
    /// A partition's byte range: its start, and the offset just past its end.
    range: Option<(u64, u64)>,
}

impl FileSource {
    /// Opens `path`.
    pub fn open(path: &str) -> Result<FileSource, Diag> {
        let file = File::open(path).map_err(|e| io_diag(&format!("cannot open {path}"), e))?;
        let key = std::fs::canonicalize(path)
            .map_err(|e| io_diag(&format!("cannot open {path}"), e))?
            .display()
            .to_string();
        Ok(FileSource {
            path: path.to_string(),
            key,
            file,
            csv: Path::new(path)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")),
            range: None,
        })
    }

    /// Only the byte range of partition `part` (NDJSON): its lines, under the key
    /// `<input>#part<part>`.
    pub fn open_range(path: &str, part: i64, range: (u64, u64)) -> Result<FileSource, Diag> {
        let mut source = FileSource::open(path)?;
        source.key = format!("{}#part{part}", source.key);
        source.range = Some(range);
        Ok(source)
    }
}

impl Source for FileSource {
    fn key(&self) -> &str {
        &self.key
    }

    fn resumable(&self) -> bool {
        true
    }

    fn size(&self) -> Option<u64> {
        self.file.metadata().ok().map(|m| m.len())
    }

    fn verify(&self, checkpoint: &Checkpoint) -> Result<(), Diag> {
        verify_input(checkpoint, &self.path, &self.file)
    }

    fn identify(&self, checkpoint: &mut Checkpoint) -> Result<(), Diag> {
        checkpoint.input_size = self.size().unwrap_or(0);
        checkpoint.head_hash = head_hash(&self.file, checkpoint.byte_offset)
            .map_err(|e| io_diag("cannot read the input", e))?;
        Ok(())
    }

    fn grows(&self) -> bool {
        !self.csv && self.range.is_none()
    }

    fn open(
        &mut self,
        resume: Option<&Checkpoint>,
        settings: &ReadSettings,
    ) -> Result<Reading, Diag> {
        let mut file = self
            .file
            .try_clone()
            .map_err(|e| io_diag(&format!("cannot open {}", self.path), e))?;
        if self.csv {
            let skip = resume.map_or(0, |c| c.line);
            return Ok(Reading::Records(Box::new(
                CsvSource::new(BufReader::new(file), settings.schema.clone(), skip)
                    .with_limits(settings.limits),
            )));
        }
        let offset = resume.map_or(self.range.map_or(0, |r| r.0), |c| c.byte_offset);
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| io_diag(&format!("cannot seek in {}", self.path), e))?;
        let reader: Box<dyn Read + Send> = match self.range {
            Some((_, end)) => Box::new(file.take(end.saturating_sub(offset))),
            None => Box::new(file),
        };
        Ok(Reading::Lines {
            reader: BufReader::with_capacity(256 * 1024, reader),
            hold_tail: self.range.is_none(),
        })
    }
}

/// Standard input: NDJSON, read once (not resumable).
pub struct StdinSource;

impl Source for StdinSource {
    fn key(&self) -> &str {
        "-"
    }

    fn open(&mut self, _: Option<&Checkpoint>, _: &ReadSettings) -> Result<Reading, Diag> {
        Ok(Reading::Lines {
            reader: BufReader::new(Box::new(std::io::stdin()) as Box<dyn Read + Send>),
            hold_tail: false,
        })
    }
}

/// Every stored record of a Connect Object (an inbound side of `type = "store"`).
pub struct StoreObjectSource {
    key: String,
    object: String,
    store: PathBuf,
}

impl Source for StoreObjectSource {
    fn key(&self) -> &str {
        &self.key
    }

    fn open(&mut self, _: Option<&Checkpoint>, _: &ReadSettings) -> Result<Reading, Diag> {
        let store = Store::open_existing(&self.store).map_err(|e| e.to_diag())?;
        let records = store
            .dump(&self.object)
            .map_err(|e| e.to_diag())?
            .into_iter()
            .enumerate()
            .map(|(i, o)| (None, i as u64 + 1, Ok(o.data.clone()), Raw::Value(o.data)))
            .collect();
        Ok(Reading::Records(Box::new(ValueSource::new(records))))
    }
}

/// The dead letters of earlier runs, each retried under the input and line it came from.
pub struct DeadLetterSource {
    path: PathBuf,
}

impl DeadLetterSource {
    /// The letters in the file at `path`.
    pub fn new(path: &Path) -> Self {
        DeadLetterSource {
            path: path.to_path_buf(),
        }
    }
}

impl Source for DeadLetterSource {
    fn key(&self) -> &str {
        "dead letters"
    }

    fn open(&mut self, _: Option<&Checkpoint>, settings: &ReadSettings) -> Result<Reading, Diag> {
        let letters = read_dead_letters(&self.path, &settings.limits)
            .map_err(|e| io_diag(&format!("cannot read {}", self.path.display()), e))?;
        Ok(Reading::Records(Box::new(ValueSource::new(letters))))
    }
}

/// The source of a run: the dead letters with `retry`, else `--input` (a file, or `-` for
/// stdin), else the inbound side's REST/OData connection, else the inbound object when the
/// inbound side is the store. `stop` cuts a remote source's retry waits short.
pub fn open_source(
    connector: &Connector,
    input: Option<&str>,
    store: &Path,
    retry: Option<&Path>,
    stop: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Result<Box<dyn Source>, Diag> {
    open_source_part(connector, input, store, retry, stop, None)
}

/// [`open_source`], or with `part` only that partition of the `--input` file.
pub fn open_source_part(
    connector: &Connector,
    input: Option<&str>,
    store: &Path,
    retry: Option<&Path>,
    stop: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
    part: Option<(i64, (u64, u64))>,
) -> Result<Box<dyn Source>, Diag> {
    // only an API source has requests to stop
    #[cfg(not(feature = "http"))]
    let _ = stop;
    if let Some(letters) = retry {
        return Ok(Box::new(DeadLetterSource::new(letters)));
    }
    if let (Some((part, range)), Some(path)) = (part, input) {
        return Ok(Box::new(FileSource::open_range(path, part, range)?));
    }
    match input {
        Some("-") => Ok(Box::new(StdinSource)),
        Some(path) => Ok(Box::new(FileSource::open(path)?)),
        #[cfg(feature = "http")]
        None if connector.inbound.connection.is_some() => {
            let side = &connector.inbound;
            let client = crate::connections::http::client_of("inbound", side, stop)?;
            let connection = side
                .connection
                .as_ref()
                .map_or_else(Default::default, Clone::clone);
            let source =
                crate::connections::http::source::HttpSource::new(side, &connection, client);
            Ok(Box::new(match part {
                Some((part, pages)) => source.with_pages(part, pages),
                None => source,
            }))
        }
        None if connector.inbound.system == "store" => {
            let object = connector.inbound.object.clone().ok_or_else(|| {
                Diag::new(
                    codes::E603_CONNECTOR_MISSING,
                    "a store inbound side needs `object`",
                )
            })?;
            Ok(Box::new(StoreObjectSource {
                key: format!("store:{object}"),
                object,
                store: store.to_path_buf(),
            }))
        }
        None => Err(Diag::new(
            codes::E608_NO_INPUT,
            format!(
                "no input: give --input FILE or - (inbound type is `{}`)",
                connector.inbound.system
            ),
        )),
    }
}
