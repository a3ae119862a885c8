//! GGUF (version 3), the file format of llama.cpp and Ollama: written tensor by tensor, and read
//! back (header, metadata and tensor table) to check a file before it is deployed.
//!
//! Layout: magic `GGUF`, version, tensor count, metadata count, the metadata (key, type, value),
//! the tensor table (name, dims innermost first, ggml type, offset into the data), padding to
//! `general.alignment` (32), then each tensor's data, each padded to the alignment. All little-endian.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"GGUF";
const VERSION: u32 = 3;
pub const ALIGNMENT: u64 = 32;

/// The ggml element types garden-eden writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,
    F16,
    BF16,
}

impl GgmlType {
    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::BF16 => 30,
        }
    }

    pub fn size(self) -> usize {
        match self {
            GgmlType::F32 => 4,
            GgmlType::F16 | GgmlType::BF16 => 2,
        }
    }

    pub fn parse(s: &str) -> Option<GgmlType> {
        match s {
            "f32" => Some(GgmlType::F32),
            "f16" => Some(GgmlType::F16),
            "bf16" => Some(GgmlType::BF16),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GgmlType::F32 => "f32",
            GgmlType::F16 => "f16",
            GgmlType::BF16 => "bf16",
        }
    }

    /// f32 values → this type's little-endian bytes.
    pub fn encode(self, values: &[f32]) -> Vec<u8> {
        use super::safetensors::{from_f32, Dtype};
        from_f32(
            &match self {
                GgmlType::F32 => Dtype::F32,
                GgmlType::F16 => Dtype::F16,
                GgmlType::BF16 => Dtype::BF16,
            },
            values,
        )
    }
}

/// A metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U32(u32),
    I32(i32),
    F32(f32),
    U64(u64),
    Bool(bool),
    Str(String),
    /// Arrays the reader met (element type id, count); their contents are skipped.
    Array(u32, u64),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f32(&self) -> Option<f32> {
        match self {
            Value::F32(v) => Some(*v),
            _ => None,
        }
    }
}

/// One tensor in the table. `shape` is in PyTorch order (outermost first); the file stores the
/// dims reversed (ggml's `ne`, innermost first).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorEntry {
    pub name: String,
    pub shape: Vec<usize>,
    pub ty: GgmlType,
}

impl TensorEntry {
    fn bytes(&self) -> u64 {
        self.shape.iter().product::<usize>() as u64 * self.ty.size() as u64
    }
}

fn padding(n: u64) -> u64 {
    (ALIGNMENT - n % ALIGNMENT) % ALIGNMENT
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Writes a GGUF file: the header (metadata and tensor table, all known up front), then each
/// tensor's data in table order through `write`. Written to a temporary name and renamed.
pub struct GgufWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    tensors: Vec<TensorEntry>,
    next: usize,
}

impl GgufWriter {
    pub fn create(path: &Path, metadata: &[(&str, Value)], tensors: Vec<TensorEntry>) -> Result<GgufWriter> {
        let mut head = Vec::new();
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&VERSION.to_le_bytes());
        head.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
        head.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
        for (key, value) in metadata {
            put_str(&mut head, key);
            match value {
                Value::U32(v) => {
                    head.extend_from_slice(&4u32.to_le_bytes());
                    head.extend_from_slice(&v.to_le_bytes());
                }
                Value::I32(v) => {
                    head.extend_from_slice(&5u32.to_le_bytes());
                    head.extend_from_slice(&v.to_le_bytes());
                }
                Value::F32(v) => {
                    head.extend_from_slice(&6u32.to_le_bytes());
                    head.extend_from_slice(&v.to_le_bytes());
                }
                Value::Bool(v) => {
                    head.extend_from_slice(&7u32.to_le_bytes());
                    head.push(u8::from(*v));
                }
                Value::Str(s) => {
                    head.extend_from_slice(&8u32.to_le_bytes());
                    put_str(&mut head, s);
                }
                Value::U64(v) => {
                    head.extend_from_slice(&10u32.to_le_bytes());
                    head.extend_from_slice(&v.to_le_bytes());
                }
                Value::Array(..) => return Err(Error::Task(format!("GGUF writer: arrays are not written ({key})"))),
            }
        }
        let mut offset = 0u64;
        for t in &tensors {
            put_str(&mut head, &t.name);
            head.extend_from_slice(&(t.shape.len() as u32).to_le_bytes());
            for d in t.shape.iter().rev() {
                head.extend_from_slice(&(*d as u64).to_le_bytes());
            }
            head.extend_from_slice(&t.ty.id().to_le_bytes());
            head.extend_from_slice(&offset.to_le_bytes());
            offset += t.bytes() + padding(t.bytes());
        }
        head.resize(head.len() + padding(head.len() as u64) as usize, 0);

        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = path.parent().unwrap_or(Path::new(".")).join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4()));
        let file = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        let mut w = GgufWriter { path: path.to_path_buf(), tmp, out: Some(BufWriter::with_capacity(1 << 20, file)), tensors, next: 0 };
        let out = w.out.as_mut().expect("just set");
        out.write_all(&head).map_err(|e| Error::io("writing", &w.tmp, e))?;
        Ok(w)
    }

    /// Writes the next tensor in table order from f32 values (converted to its type).
    pub fn write(&mut self, name: &str, values: &[f32]) -> Result<()> {
        let Some(t) = self.tensors.get(self.next).filter(|t| t.name == name) else {
            return Err(Error::Task(format!("GGUF writer: {name} is not the next tensor in the table")));
        };
        if values.len() != t.shape.iter().product::<usize>() {
            return Err(Error::Task(format!("GGUF writer: {name} has {} values, shape {:?}", values.len(), t.shape)));
        }
        let bytes = t.ty.encode(values);
        let pad = padding(bytes.len() as u64) as usize;
        self.next += 1;
        let out = self.out.as_mut().expect("open until finish");
        out.write_all(&bytes)
            .and_then(|()| out.write_all(&vec![0u8; pad]))
            .map_err(|e| Error::io("writing", &self.tmp, e))
    }

    pub fn finish(mut self) -> Result<()> {
        if self.next != self.tensors.len() {
            return Err(Error::Task(format!("GGUF writer: {} of {} tensors written", self.next, self.tensors.len())));
        }
        let out = self.out.take().expect("open until finish");
        let file = out.into_inner().map_err(|e| Error::io("writing", &self.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("syncing", &self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io("renaming into", &self.path, e))
    }
}

impl Drop for GgufWriter {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// What a GGUF file declares: its metadata and tensor table (no tensor data is read).
#[derive(Debug, Clone)]
pub struct GgufInfo {
    pub version: u32,
    pub metadata: Vec<(String, Value)>,
    /// (name, shape in PyTorch order, ggml type id, offset)
    pub tensors: Vec<(String, Vec<usize>, u32, u64)>,
}

impl GgufInfo {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Reads a GGUF file's header. Errors say what is wrong with the file.
pub fn read_info(path: &Path) -> Result<GgufInfo> {
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut r = BufReader::new(file);
    let bad = |m: String| Error::Invalid { field: path.display().to_string(), message: format!("not a valid GGUF file: {m}") };
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic).map_err(|_| bad("too short".into()))?;
    if &magic != MAGIC {
        return Err(bad("it does not start with GGUF".into()));
    }
    let mut rd = Rd { r: &mut r };
    let version = rd.u32().map_err(|_| bad("truncated header".into()))?;
    if !(2..=3).contains(&version) {
        return Err(bad(format!("version {version} is not supported")));
    }
    let read = |rd: &mut Rd<'_>| -> std::io::Result<GgufInfo> {
        let n_tensors = rd.u64()?;
        let n_kv = rd.u64()?;
        if n_tensors > 1 << 24 || n_kv > 1 << 24 {
            return Err(std::io::Error::other("implausible counts"));
        }
        let mut metadata = Vec::new();
        for _ in 0..n_kv {
            let key = rd.string()?;
            let ty = rd.u32()?;
            let value = rd.value(ty)?;
            metadata.push((key, value));
        }
        let mut tensors = Vec::new();
        for _ in 0..n_tensors {
            let name = rd.string()?;
            let n_dims = rd.u32()?;
            if n_dims > 8 {
                return Err(std::io::Error::other(format!("tensor {name} has {n_dims} dims")));
            }
            let mut dims = (0..n_dims).map(|_| rd.u64().map(|d| d as usize)).collect::<std::io::Result<Vec<_>>>()?;
            dims.reverse();
            let ty = rd.u32()?;
            let offset = rd.u64()?;
            tensors.push((name, dims, ty, offset));
        }
        Ok(GgufInfo { version, metadata, tensors })
    };
    read(&mut rd).map_err(|e| bad(e.to_string()))
}

struct Rd<'a> {
    r: &'a mut BufReader<File>,
}

impl Rd<'_> {
    fn bytes<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        Ok(b)
    }
    fn u32(&mut self) -> std::io::Result<u32> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> std::io::Result<u64> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }
    fn string(&mut self) -> std::io::Result<String> {
        let n = self.u64()?;
        if n > 1 << 26 {
            return Err(std::io::Error::other("implausible string length"));
        }
        let mut b = vec![0u8; n as usize];
        self.r.read_exact(&mut b)?;
        String::from_utf8(b).map_err(|_| std::io::Error::other("string is not UTF-8"))
    }
    fn value(&mut self, ty: u32) -> std::io::Result<Value> {
        self.value_at(ty, 0)
    }
    /// Arrays of arrays are read to a bounded depth: a crafted file cannot exhaust the stack.
    fn value_at(&mut self, ty: u32, depth: u32) -> std::io::Result<Value> {
        Ok(match ty {
            0 | 1 => {
                let b = self.bytes::<1>()?;
                Value::U32(u32::from(b[0]))
            }
            2 | 3 => Value::U32(u32::from(u16::from_le_bytes(self.bytes()?))),
            4 => Value::U32(self.u32()?),
            5 => Value::I32(i32::from_le_bytes(self.bytes()?)),
            6 => Value::F32(f32::from_le_bytes(self.bytes()?)),
            7 => Value::Bool(self.bytes::<1>()?[0] != 0),
            8 => Value::Str(self.string()?),
            10 | 11 => Value::U64(self.u64()?),
            12 => Value::F32(f64::from_le_bytes(self.bytes()?) as f32),
            9 => {
                if depth >= 4 {
                    return Err(std::io::Error::other("arrays nested more than 4 deep"));
                }
                let elem = self.u32()?;
                let n = self.u64()?;
                for _ in 0..n {
                    self.value_at(elem, depth + 1)?;
                }
                Value::Array(elem, n)
            }
            other => return Err(std::io::Error::other(format!("unknown metadata type {other}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_file_the_reader_understands() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.gguf");
        let tensors = vec![
            TensorEntry { name: "blk.0.attn_q.weight.lora_a".into(), shape: vec![2, 3], ty: GgmlType::F32 },
            TensorEntry { name: "blk.0.attn_q.weight.lora_b".into(), shape: vec![5, 2], ty: GgmlType::F16 },
        ];
        let meta = [
            ("general.architecture", Value::Str("qwen2".into())),
            ("general.type", Value::Str("adapter".into())),
            ("adapter.lora.alpha", Value::F32(16.0)),
        ];
        let mut w = GgufWriter::create(&path, &meta, tensors).unwrap();
        w.write("blk.0.attn_q.weight.lora_a", &[1.0; 6]).unwrap();
        w.write("blk.0.attn_q.weight.lora_b", &[0.5; 10]).unwrap();
        w.finish().unwrap();
        let info = read_info(&path).unwrap();
        assert_eq!(info.version, 3);
        assert_eq!(info.get("general.type").and_then(Value::as_str), Some("adapter"));
        assert_eq!(info.get("adapter.lora.alpha").and_then(Value::as_f32), Some(16.0));
        assert_eq!(info.tensors[0].1, vec![2, 3]);
        assert_eq!(info.tensors[1].2, 1);
        assert_eq!(info.tensors[1].3, 32, "the second tensor starts at the next 32-byte boundary");
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(len % ALIGNMENT, 0);

        std::fs::write(&path, b"GGML....").unwrap();
        let err = read_info(&path).unwrap_err().to_string();
        assert!(err.contains("does not start with GGUF"), "{err}");
    }
}
