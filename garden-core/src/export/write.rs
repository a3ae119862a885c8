//! Writing an export's files: atomically, hashed as written, named safely.

#[allow(unused_imports)]
use super::*;

/// One output file of an export and whether anything was written to it yet.
pub(super) struct Part {
    pub(super) file: crate::fsutil::AtomicFile,
    pub(super) first: bool,
}

impl Part {
    pub(crate) fn create(target: &Path) -> Result<Part> {
        Ok(Part { file: crate::fsutil::AtomicFile::create(target, 64 << 10)?, first: true })
    }
}


pub(super) struct FileSink {
    pub(super) format: Format,
    pub(super) train: Part,
    pub(super) validation: Option<Part>,
}

impl FileSink {
    pub(crate) fn put(format: Format, part: &mut Part, bytes: &[u8]) -> Result<()> {
        if format.is_array() {
            part.file.put(if part.first { b"[\n" } else { b",\n" })?;
        }
        part.first = false;
        part.file.put(bytes)?;
        if !format.is_array() {
            part.file.put(b"\n")?;
        }
        Ok(())
    }

    pub(crate) fn close(format: Format, part: &mut Part) -> Result<String> {
        if format.is_array() {
            part.file.put(if part.first { b"[]\n" } else { b"\n]\n" })?;
        }
        part.file.finish()
    }
}

impl Sink for FileSink {
    fn write(&mut self, bytes: &[u8], validation: bool) -> Result<()> {
        let file = match (&mut self.validation, validation) {
            (Some(v), true) => v,
            _ => &mut self.train,
        };
        Self::put(self.format, file, bytes)
    }
}

/// Letters, digits, `-` and `_` only (it is a key in dataset_info.json and a file name).
pub fn sanitize_name(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    cleaned.trim_matches('_').chars().take(80).collect()
}

/// Writes `value` as pretty JSON to `path` atomically.
pub(super) fn write_json_atomically(path: &Path, value: &Value) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::Task(e.to_string()))?;
    bytes.push(b'\n');
    crate::fsutil::write_atomically(path, &bytes)
}
