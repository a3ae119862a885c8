//! The safetensors format, read and written tensor by tensor (never a whole model in memory).
//!
//! A file is an 8-byte little-endian header length, a JSON header mapping each tensor name to
//! `{dtype, shape, data_offsets: [begin, end]}` (offsets relative to the end of the header), an
//! optional `__metadata__` string map, then the raw little-endian data.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The largest header accepted: 16 MB holds the header of any real model shard many times over.
const MAX_HEADER: u64 = 16 * 1024 * 1024;

/// Element types. Only the floating-point ones take part in LoRA arithmetic; the others are copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F16,
    BF16,
    /// Any other type (integers, F64, F8…): carried through unchanged.
    Other(String, usize),
}

impl Dtype {
    pub fn parse(s: &str) -> Option<Dtype> {
        Some(match s {
            "F32" => Dtype::F32,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            "F64" | "I64" | "U64" => Dtype::Other(s.to_string(), 8),
            "I32" | "U32" => Dtype::Other(s.to_string(), 4),
            "I16" | "U16" => Dtype::Other(s.to_string(), 2),
            "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => Dtype::Other(s.to_string(), 1),
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::BF16 => "BF16",
            Dtype::Other(s, _) => s,
        }
    }

    pub fn size(&self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::BF16 => 2,
            Dtype::Other(_, n) => *n,
        }
    }

    pub fn is_float(&self) -> bool {
        matches!(self, Dtype::F32 | Dtype::F16 | Dtype::BF16)
    }
}

/// One tensor's entry in a file's header.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Absolute byte offset of the data in the file.
    pub start: u64,
    pub len: u64,
}

impl TensorInfo {
    pub fn numel(&self) -> usize {
        // Checked when the file was opened: the byte length fits, so the count does.
        self.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).unwrap_or(usize::MAX)
    }
}

/// An open safetensors file: its header parsed and checked, the data read on demand.
#[derive(Debug)]
pub struct SafeTensors {
    path: PathBuf,
    file: File,
    /// In data order.
    pub tensors: Vec<TensorInfo>,
    pub metadata: Map<String, Value>,
}

/// The tensor whose data_offsets cannot hold its dtype and shape, named with the sizes (the
/// crate's error does not say which).
fn which_tensor(header: &[u8]) -> Option<String> {
    let header: Map<String, Value> = serde_json::from_slice(header).ok()?;
    header.iter().filter(|(name, _)| *name != "__metadata__").find_map(|(name, entry)| {
        let dtype = Dtype::parse(entry.get("dtype")?.as_str()?)?;
        let bytes = entry.get("shape")?.as_array()?.iter().try_fold(dtype.size() as u64, |acc, d| acc.checked_mul(d.as_u64()?));
        let offsets = entry.get("data_offsets")?.as_array()?;
        let (begin, end) = (offsets.first()?.as_u64()?, offsets.get(1)?.as_u64()?);
        match bytes {
            None => Some(format!("tensor {name}: its shape is too large (its byte size overflows)")),
            Some(b) if end.checked_sub(begin) != Some(b) => {
                Some(format!("tensor {name}: data_offsets [{begin}, {end}] do not hold its {b} bytes"))
            }
            Some(_) => None,
        }
    })
}

/// The safetensors crate's refusal, in words.
fn explain(e: safetensors::SafeTensorError) -> String {
    use safetensors::SafeTensorError as E;
    match e {
        E::ValidationOverflow => "a tensor's shape is too large (its byte size overflows)".to_owned(),
        E::InvalidOffset(name) => format!("tensor {name}: its data_offsets overlap another tensor or leave a gap"),
        E::TensorInvalidInfo => "a tensor's data_offsets do not hold its dtype and shape".to_owned(),
        E::MetadataIncompleteBuffer => "the tensors do not cover the data exactly (the file is cut short or has extra bytes)".to_owned(),
        E::InvalidHeaderDeserialization(e) | E::JsonError(e) => format!("header is not a valid safetensors JSON object: {e}"),
        E::InvalidHeader(_) => "header is not UTF-8".to_owned(),
        E::HeaderTooLarge | E::HeaderTooSmall | E::InvalidHeaderLength => "its header length does not fit the file".to_owned(),
        other => other.to_string(),
    }
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Invalid {
        field: path.display().to_string(),
        message: format!("not a valid safetensors file: {}", message.into()),
    }
}

impl SafeTensors {
    /// Opens and checks the file with the `safetensors` crate (checked arithmetic: every entry's
    /// byte length matches its dtype and shape, the tensors cover the data exactly, none overlap)
    /// over a memory map, of which only the header is touched. Tensor data is read on demand,
    /// tensor by tensor.
    pub fn open(path: &Path) -> Result<SafeTensors> {
        // A FIFO would block the open, a device (or a link to /dev/zero) never ends: only regular
        // files are read.
        let meta = std::fs::metadata(path).map_err(|e| Error::io("reading", path, e))?;
        if !meta.is_file() {
            return Err(bad(path, "it is not a regular file"));
        }
        let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io("reading", path, e))?.len();
        let mut n = [0u8; 8];
        file.read_exact(&mut n).map_err(|_| bad(path, "shorter than its 8-byte header length"))?;
        let header_len = u64::from_le_bytes(n);
        if header_len > MAX_HEADER || 8 + header_len > file_len {
            return Err(bad(path, format!("header length {header_len} does not fit a {file_len}-byte file")));
        }
        // SAFETY: the map is read-only and private to this call; a file truncated by someone else
        // meanwhile could fault, as with any reader of a file that changes under it.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io("mapping", path, e))?;
        let (header_size, parsed) = safetensors::SafeTensors::read_metadata(&map).map_err(|e| {
            let header = map.get(8..8 + header_len as usize).unwrap_or_default();
            bad(path, which_tensor(header).unwrap_or_else(|| explain(e)))
        })?;
        let data_start = 8 + header_size as u64;
        let mut tensors = Vec::new();
        for (name, info) in parsed.tensors() {
            let dtype_s = info.dtype.to_string();
            let dtype = Dtype::parse(&dtype_s).ok_or_else(|| bad(path, format!("tensor {name}: unknown dtype '{dtype_s}'")))?;
            let (begin, end) = (info.data_offsets.0 as u64, info.data_offsets.1 as u64);
            tensors.push(TensorInfo { name, dtype, shape: info.shape.clone(), start: data_start + begin, len: end - begin });
        }
        tensors.sort_by(|x, y| (x.start, &x.name).cmp(&(y.start, &y.name)));
        let metadata = parsed
            .metadata()
            .as_ref()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
            .unwrap_or_default();
        Ok(SafeTensors { path: path.to_path_buf(), file, tensors, metadata })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The raw bytes of one tensor.
    pub fn read_raw(&self, t: &TensorInfo) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; t.len as usize];
        self.file.read_exact_at(&mut buf, t.start).map_err(|e| Error::io("reading", &self.path, e))?;
        Ok(buf)
    }

    /// One floating-point tensor as f32.
    pub fn read_f32(&self, t: &TensorInfo) -> Result<Vec<f32>> {
        if !t.dtype.is_float() {
            return Err(bad(&self.path, format!("tensor {} is {}, not a float", t.name, t.dtype.as_str())));
        }
        Ok(to_f32(&t.dtype, &self.read_raw(t)?))
    }

    /// Copies one tensor's bytes to `out` in bounded chunks.
    pub fn copy_raw(&self, t: &TensorInfo, out: &mut impl Write) -> Result<()> {
        let mut file = &self.file;
        file.seek(SeekFrom::Start(t.start)).map_err(|e| Error::io("reading", &self.path, e))?;
        let copied = std::io::copy(&mut file.take(t.len), out).map_err(|e| Error::io("copying from", &self.path, e))?;
        if copied != t.len {
            return Err(bad(&self.path, format!("tensor {} was cut short", t.name)));
        }
        Ok(())
    }
}

/// Little-endian bytes of `dtype` → f32.
pub fn to_f32(dtype: &Dtype, bytes: &[u8]) -> Vec<f32> {
    match dtype {
        Dtype::F32 => bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| half::bf16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32())
            .collect(),
        Dtype::Other(..) => Vec::new(),
    }
}

/// f32 → little-endian bytes of `dtype`, rounding to nearest even as torch does.
pub fn from_f32(dtype: &Dtype, values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * dtype.size());
    match dtype {
        Dtype::F32 => values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
        Dtype::F16 => values.iter().for_each(|v| out.extend_from_slice(&half::f16::from_f32(*v).to_bits().to_le_bytes())),
        Dtype::BF16 => values.iter().for_each(|v| out.extend_from_slice(&half::bf16::from_f32(*v).to_bits().to_le_bytes())),
        Dtype::Other(..) => {}
    }
    out
}

/// A tensor to be written: its header entry is known before any data is.
#[derive(Debug, Clone)]
pub struct Planned {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
}

impl Planned {
    fn len(&self) -> u64 {
        self.shape.iter().product::<usize>() as u64 * self.dtype.size() as u64
    }
}

/// Writes a safetensors file tensor by tensor, in the planned order, to a temporary name beside
/// `path`; `finish` syncs it and renames it into place. Dropped unfinished, it removes the
/// temporary file.
pub struct Writer {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    plan: Vec<Planned>,
    next: usize,
}

impl Writer {
    pub fn create(path: &Path, plan: Vec<Planned>, metadata: &Map<String, Value>) -> Result<Writer> {
        let mut header = Map::new();
        if !metadata.is_empty() {
            header.insert("__metadata__".into(), Value::Object(metadata.clone()));
        }
        let mut offset = 0u64;
        for t in &plan {
            let end = offset + t.len();
            header.insert(
                t.name.clone(),
                serde_json::json!({"dtype": t.dtype.as_str(), "shape": t.shape, "data_offsets": [offset, end]}),
            );
            offset = end;
        }
        let mut bytes = serde_json::to_vec(&Value::Object(header)).map_err(|e| Error::Task(e.to_string()))?;
        while bytes.len() % 8 != 0 {
            bytes.push(b' ');
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let dir = path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4()));
        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        let mut writer = Writer { path: path.to_path_buf(), tmp, out: Some(BufWriter::with_capacity(1 << 20, file)), plan, next: 0 };
        let out = writer.out.as_mut().expect("just set");
        out.write_all(&(bytes.len() as u64).to_le_bytes()).and_then(|()| out.write_all(&bytes))
            .map_err(|e| Error::io("writing", &writer.tmp, e))?;
        Ok(writer)
    }

    fn expect_next(&mut self, name: &str) -> Result<&Planned> {
        match self.plan.get(self.next) {
            Some(p) if p.name == name => {
                self.next += 1;
                Ok(&self.plan[self.next - 1])
            }
            other => Err(Error::Task(format!(
                "safetensors writer: expected tensor {:?}, got {name}",
                other.map(|p| &p.name)
            ))),
        }
    }

    /// Writes the next tensor's bytes (already in its dtype).
    pub fn write_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let len = self.expect_next(name)?.len();
        if len != bytes.len() as u64 {
            return Err(Error::Task(format!("safetensors writer: {name} has {} bytes, planned {len}", bytes.len())));
        }
        let out = self.out.as_mut().expect("open until finish");
        out.write_all(bytes).map_err(|e| Error::io("writing", &self.tmp, e))
    }

    /// Writes the next tensor from f32 values, converted to its planned dtype.
    pub fn write_f32(&mut self, name: &str, values: &[f32]) -> Result<()> {
        let dtype = self.plan.get(self.next).map(|p| p.dtype.clone()).unwrap_or(Dtype::F32);
        self.write_bytes(name, &from_f32(&dtype, values))
    }

    /// Copies the next tensor straight from a source file (same dtype and shape).
    pub fn copy_from(&mut self, src: &SafeTensors, t: &TensorInfo) -> Result<()> {
        let len = self.expect_next(&t.name)?.len();
        if len != t.len {
            return Err(Error::Task(format!("safetensors writer: {} has {} bytes, planned {len}", t.name, t.len)));
        }
        src.copy_raw(t, self.out.as_mut().expect("open until finish"))
    }

    /// Syncs and renames the file into place; every planned tensor must have been written.
    pub fn finish(mut self) -> Result<()> {
        if self.next != self.plan.len() {
            return Err(Error::Task(format!(
                "safetensors writer: {} of {} tensors written",
                self.next,
                self.plan.len()
            )));
        }
        let out = self.out.take().expect("open until finish");
        let file = out.into_inner().map_err(|e| Error::io("writing", &self.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("syncing", &self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io("renaming into", &self.path, e))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.out.is_some() {
            self.out = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back_each_float_dtype() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        let values = [1.0f32, -2.5, 0.1, 65504.0, 1e-3, 3.0];
        let plan = vec![
            Planned { name: "a".into(), dtype: Dtype::F32, shape: vec![2, 3] },
            Planned { name: "b".into(), dtype: Dtype::F16, shape: vec![6] },
            Planned { name: "c".into(), dtype: Dtype::BF16, shape: vec![3, 2] },
        ];
        let mut meta = Map::new();
        meta.insert("format".into(), "pt".into());
        let mut w = Writer::create(&path, plan, &meta).unwrap();
        for n in ["a", "b", "c"] {
            w.write_f32(n, &values).unwrap();
        }
        w.finish().unwrap();
        let st = SafeTensors::open(&path).unwrap();
        assert_eq!(st.metadata.get("format").and_then(Value::as_str), Some("pt"));
        assert_eq!(st.read_f32(st.get("a").unwrap()).unwrap(), values);
        let b = st.read_f32(st.get("b").unwrap()).unwrap();
        let c = st.read_f32(st.get("c").unwrap()).unwrap();
        for (i, v) in values.iter().enumerate() {
            assert!((b[i] - v).abs() <= v.abs() * 1e-3, "f16 {i}: {} vs {v}", b[i]);
            assert!((c[i] - v).abs() <= v.abs() * 1e-2, "bf16 {i}: {} vs {v}", c[i]);
        }
        assert_eq!(st.get("c").unwrap().shape, vec![3, 2]);
        // Header length is a multiple of 8, as the reference writer makes it.
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(u64::from_le_bytes(bytes[..8].try_into().unwrap()) % 8, 0);
    }

    #[test]
    fn an_unfinished_writer_leaves_nothing_and_bad_files_say_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        let plan = vec![Planned { name: "a".into(), dtype: Dtype::F32, shape: vec![2] }];
        let mut w = Writer::create(&path, plan, &Map::new()).unwrap();
        assert!(w.write_f32("b", &[1.0, 2.0]).is_err());
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        std::fs::write(&path, b"\x02\x00").unwrap();
        let err = SafeTensors::open(&path).unwrap_err().to_string();
        assert!(err.contains("8-byte header"), "{err}");
        let header = br#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 8]);
        std::fs::write(&path, &bytes).unwrap();
        let err = SafeTensors::open(&path).unwrap_err().to_string();
        assert!(err.contains("tensor w") && err.contains("16 bytes"), "{err}");
    }
}
