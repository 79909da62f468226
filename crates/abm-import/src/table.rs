//! Opening a CSV export the way users actually have them: a UTF-8 byte-order mark, comma, semicolon
//! or tab delimiters, ragged rows, and the occasional spreadsheet renamed `.csv`. Records carry the
//! line they start on so errors can point at it.

use crate::errors::ImportError;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// An open CSV file with its header row.
pub struct CsvTable {
    /// The file name as given, for error messages.
    pub file: String,
    pub headers: Vec<String>,
    pub reader: csv::Reader<BufReader<File>>,
    /// Total size, for progress.
    pub bytes: u64,
}

impl CsvTable {
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        let file = path.display().to_string();
        let io = |source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = File::open(path).map_err(io)?;
        let bytes = f.metadata().map_err(io)?.len();
        let mut head = [0u8; 4];
        let n = f.read(&mut head).map_err(io)?;
        if n >= 4 && head == [0x50, 0x4b, 0x03, 0x04] {
            return Err(ImportError::File {
                file,
                line: 1,
                reason: "this is a spreadsheet (.xlsx), not CSV: open it and save it as CSV (UTF-8)".into(),
            });
        }
        let bom = n >= 3 && head[..3] == [0xef, 0xbb, 0xbf];
        f.seek(SeekFrom::Start(if bom { 3 } else { 0 })).map_err(io)?;
        let mut buf = BufReader::with_capacity(1 << 20, f);
        let delimiter = sniff_delimiter(&mut buf).map_err(io)?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(buf);
        let headers: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
            Err(e) => {
                return Err(ImportError::File {
                    file,
                    line: 1,
                    reason: format!("cannot read the header row: {e}"),
                })
            }
        };
        if headers.iter().all(|h| h.is_empty()) {
            return Err(ImportError::File {
                file,
                line: 1,
                reason: "the file is empty or has no header row".into(),
            });
        }
        Ok(Self {
            file,
            headers,
            reader,
            bytes,
        })
    }

    /// The index of a column the file must have.
    pub fn required(&self, name: &str) -> Result<usize, ImportError> {
        self.find(&[name.to_string()]).ok_or_else(|| ImportError::File {
            file: self.file.clone(),
            line: 1,
            reason: format!("no {name} column (found: {})", self.headers.join(", ")),
        })
    }

    /// Each record with the line it starts on; a record the CSV reader cannot read is an error
    /// naming its line.
    pub fn rows(&mut self) -> impl Iterator<Item = Result<(u64, csv::StringRecord), ImportError>> + '_ {
        let file = self.file.clone();
        self.reader.records().map(move |rec| {
            let rec = rec.map_err(|e| unreadable(&file, e))?;
            Ok((rec.position().map(|p| p.line()).unwrap_or(0), rec))
        })
    }

    /// Read the next record into `rec` (reusing its buffers) and give the line it starts on;
    /// None at the end. A record the CSV reader cannot read is an error naming its line.
    pub fn read_record(&mut self, rec: &mut csv::StringRecord) -> Result<Option<u64>, ImportError> {
        if !self.reader.read_record(rec).map_err(|e| unreadable(&self.file, e))? {
            return Ok(None);
        }
        Ok(Some(rec.position().map(|p| p.line()).unwrap_or(0)))
    }

    /// Index of the first header matching any of `names` (case and spacing ignored).
    pub fn find(&self, names: &[String]) -> Option<usize> {
        names.iter().find_map(|n| {
            let want = header_key(n);
            self.headers.iter().position(|h| header_key(h) == want)
        })
    }
}

/// A record the CSV reader could not read, at its line.
fn unreadable(file: &str, e: csv::Error) -> ImportError {
    ImportError::File {
        file: file.to_string(),
        line: e.position().map(|p| p.line()).unwrap_or(0),
        reason: e.to_string(),
    }
}

/// Headers compare without case, spaces, underscores or punctuation.
pub fn header_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// Pick the delimiter that splits the header line into the most fields.
fn sniff_delimiter<R: BufRead>(r: &mut R) -> std::io::Result<u8> {
    let buf = r.fill_buf()?;
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = &buf[..end];
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    Ok([b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| (count(*d), *d == b','))
        .unwrap_or(b','))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn bom_and_semicolons() {
        let f = file("\u{feff}Account ID;Account Name\n1;Acme\n".as_bytes());
        let t = CsvTable::open(f.path()).unwrap();
        assert_eq!(t.headers, vec!["Account ID", "Account Name"]);
        assert_eq!(t.find(&["account_id".into()]), Some(0));
    }

    #[test]
    fn spreadsheet_renamed_csv_is_refused() {
        let f = file(b"PK\x03\x04rest-of-zip");
        let err = CsvTable::open(f.path()).err().unwrap().to_string();
        assert!(err.contains(".xlsx"), "{err}");
    }

    #[test]
    fn empty_file_is_refused() {
        let f = file(b"");
        assert!(CsvTable::open(f.path()).is_err());
    }
}
