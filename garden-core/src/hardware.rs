//! Hardware detection: which GPUs this machine has, how much memory they hold, whether they do bf16.
//! Owns the nvidia-smi and rocm-smi probes (Linux, Windows), the sysctl and system_profiler probes
//! (macOS: Apple silicon and its Metal memory budget), their pure parsers, and a 60 s process-wide
//! cache.

use std::future::Future;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::process::Command;
use tokio::sync::Mutex;

/// How long one probe may run before it counts as not answering.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`detect`] reuses an answer.
const CACHE_FOR: Duration = Duration::from_secs(60);
const MIB: u64 = 1024 * 1024;
const GIB: f64 = (1u64 << 30) as f64;

const NVIDIA_SMI: &str = "nvidia-smi";
const ROCM_SMI: &str = "rocm-smi";
const NVIDIA_QUERY: &[&str] = &[
    "--query-gpu=name,memory.total,memory.free,compute_cap",
    "--format=csv,noheader,nounits",
];
/// For drivers older than the `compute_cap` field (R470 and earlier): bf16 is then read from the name.
const NVIDIA_QUERY_OLD_DRIVER: &[&str] = &[
    "--query-gpu=name,memory.total,memory.free",
    "--format=csv,noheader,nounits",
];
const ROCM_QUERY: &[&str] = &["--showproductname", "--showmeminfo", "vram", "--json"];
const SYSCTL: &str = "sysctl";
const SYSTEM_PROFILER: &str = "system_profiler";
const SYSCTL_CHIP: &[&str] = &["-n", "machdep.cpu.brand_string"];
const SYSCTL_MEMORY: &[&str] = &["-n", "hw.memsize"];
/// macOS 14 and later; 0 means "Metal's default"; older releases do not know the name (an error).
const SYSCTL_WIRED_LIMIT: &[&str] = &["-n", "iogpu.wired_limit_mb"];
const PROFILER_QUERY: &[&str] = &["SPDisplaysDataType", "-json"];
const GIB_BYTES: u64 = 1 << 30;

/// Whose GPUs the machine has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpuKind {
    Nvidia,
    Amd,
    /// Apple silicon (M1 and later): one GPU sharing the machine's unified memory, trained with MLX.
    Apple,
    None,
}

/// One GPU as its vendor's tool reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gpu {
    pub name: String,
    /// 0 when the tool does not report it (unified-memory parts such as NVIDIA's GB10 say `[N/A]`).
    /// On Apple silicon: the share of unified memory Metal lets the GPU use (see [`metal_budget`]).
    pub total_bytes: u64,
    pub free_bytes: Option<u64>,
    /// NVIDIA compute capability (`"8.9"`), the AMD gfx target (`"gfx90a"`), or on Apple silicon
    /// the Metal support macOS reports (`"Metal 3"`).
    pub compute_capability: Option<String>,
    /// Whether training can use bf16 (NVIDIA Ampere and later; AMD CDNA2/3, RDNA3 and later).
    pub bf16: bool,
}

/// What [`detect`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    pub kind: GpuKind,
    pub gpus: Vec<Gpu>,
    /// Why the probes found nothing, e.g. "nvidia-smi not found; rocm-smi not found". On Apple
    /// silicon: how the GPU's memory budget was reached ("the estimate budgets 75% of 64.0 GiB unified
    /// memory, …"), which [`Hardware::summary`] repeats.
    #[serde(default)]
    pub note: Option<String>,
}

impl Hardware {
    /// No GPU: training runs on the CPU.
    pub fn cpu_only() -> Hardware {
        Hardware {
            kind: GpuKind::None,
            gpus: Vec::new(),
            note: None,
        }
    }

    fn cpu_only_because(note: String) -> Hardware {
        Hardware {
            note: Some(note),
            ..Hardware::cpu_only()
        }
    }

    pub fn first(&self) -> Option<&Gpu> {
        self.gpus.first()
    }

    /// The first GPU's memory in bytes; `None` without a GPU or when the tool does not report it.
    pub fn gpu_memory(&self) -> Option<u64> {
        self.first()
            .map(|g| g.total_bytes)
            .filter(|&bytes| bytes > 0)
    }

    /// The first GPU's free memory in bytes, when reported.
    pub fn free_memory(&self) -> Option<u64> {
        self.first().and_then(|g| g.free_bytes)
    }

    pub fn count(&self) -> usize {
        self.gpus.len()
    }

    /// True when there is a GPU and every GPU can train in bf16.
    pub fn bf16(&self) -> bool {
        !self.gpus.is_empty() && self.gpus.iter().all(|g| g.bf16)
    }

    /// One line for people: "2 × NVIDIA GeForce RTX 4090, 24.0 GiB each (23.4 GiB free), compute 8.9,
    /// bf16". Identical GPUs are counted once and show the least free memory among them; different
    /// ones are listed one by one, separated by "; ". Apple silicon: "Apple M3 Max (40-core GPU),
    /// 48.0 GiB GPU budget, Metal 3, bf16: the estimate budgets 75% of 64.0 GiB unified memory, …".
    pub fn summary(&self) -> String {
        if self.gpus.is_empty() {
            return "no GPU: training runs on the CPU".to_owned();
        }
        if self.kind == GpuKind::Apple {
            let gpus = self
                .gpus
                .iter()
                .map(|g| self.describe(g, 1, None))
                .collect::<Vec<_>>()
                .join("; ");
            return match &self.note {
                Some(note) => format!("{gpus}: {note}"),
                None => gpus,
            };
        }
        let alike = self.gpus.windows(2).all(|pair| {
            pair[0].name == pair[1].name
                && pair[0].total_bytes == pair[1].total_bytes
                && pair[0].compute_capability == pair[1].compute_capability
        });
        if alike {
            let least_free = self
                .gpus
                .iter()
                .map(|g| g.free_bytes)
                .collect::<Option<Vec<u64>>>()
                .and_then(|free| free.into_iter().min());
            self.describe(&self.gpus[0], self.gpus.len(), least_free)
        } else {
            self.gpus
                .iter()
                .map(|g| self.describe(g, 1, g.free_bytes))
                .collect::<Vec<_>>()
                .join("; ")
        }
    }

    fn describe(&self, gpu: &Gpu, count: usize, free: Option<u64>) -> String {
        let mut line = if count > 1 {
            format!("{count} × ")
        } else {
            String::new()
        };
        if self.kind == GpuKind::Amd && !gpu.name.to_ascii_uppercase().starts_with("AMD") {
            line.push_str("AMD ");
        }
        line.push_str(&gpu.name);
        if gpu.total_bytes > 0 && self.kind == GpuKind::Apple {
            line.push_str(&format!(", {} GPU budget", gib(gpu.total_bytes)));
        } else if gpu.total_bytes > 0 {
            line.push_str(&format!(", {}", gib(gpu.total_bytes)));
            if count > 1 {
                line.push_str(" each");
            }
            if let Some(free) = free {
                line.push_str(&format!(" ({} free)", gib(free)));
            }
        } else {
            line.push_str(", memory not reported");
        }
        match (self.kind, &gpu.compute_capability) {
            (GpuKind::Amd, Some(gfx)) => line.push_str(&format!(", ROCm {gfx}")),
            (GpuKind::Amd, None) => line.push_str(", ROCm"),
            (GpuKind::Apple, Some(metal)) => line.push_str(&format!(", {metal}")),
            (_, Some(cc)) => line.push_str(&format!(", compute {cc}")),
            (_, None) => {}
        }
        line.push_str(if gpu.bf16 { ", bf16" } else { ", fp16 only" });
        line
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / GIB)
}

/// Why a probe's output could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// nvidia-smi rejected a field of the query: its driver predates it (`compute_cap` needs R510+).
    #[error("nvidia-smi does not know the field {0:?}")]
    UnknownField(String),
    #[error("the header names no {0} column")]
    MissingColumn(&'static str),
    #[error("line {line}: {problem}: {text:?}")]
    BadLine {
        line: usize,
        problem: &'static str,
        text: String,
    },
    #[error("rocm-smi output is not JSON: {0}")]
    NotJson(String),
    #[error("rocm-smi {card}: {problem}")]
    BadCard { card: String, problem: String },
    #[error("system_profiler output is not SPDisplaysDataType JSON: {0}")]
    NotProfilerJson(String),
}

/// Reads `nvidia-smi --query-gpu=name,memory.total,memory.free[,compute_cap]
/// --format=csv,noheader,nounits`, one GPU a line, memory in MiB.
///
/// Also reads the `--format=csv` form (a header line naming the columns, in any order, and values
/// with a ` MiB` unit), which is what people paste; a column it lacks reads as not reported. `[N/A]`
/// and other bracketed values mean not reported; blank lines and "No devices were found" are skipped.
/// The "Field ... is not a valid field to query" message of old drivers is [`ParseError::UnknownField`].
pub fn parse_nvidia_smi(text: &str) -> Result<Vec<Gpu>, ParseError> {
    if let Some(field) = unknown_field(text) {
        return Err(ParseError::UnknownField(field));
    }
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.eq_ignore_ascii_case("No devices were found"))
        .peekable();
    let header = match lines.peek() {
        Some(&(_, first)) if is_header(first) => {
            lines.next();
            Some(Columns::from_header(first)?)
        }
        _ => None,
    };
    lines
        .map(|(number, line)| {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let columns = match &header {
                Some(columns) => columns.clone(),
                None => Columns::positional(cells.len()).ok_or_else(|| ParseError::BadLine {
                    line: number,
                    problem: "expected name, memory.total, memory.free[, compute_cap]",
                    text: line.to_owned(),
                })?,
            };
            columns.gpu(&cells).map_err(|problem| ParseError::BadLine {
                line: number,
                problem,
                text: line.to_owned(),
            })
        })
        .collect()
}

/// Where each field sits in an nvidia-smi CSV line.
#[derive(Debug, Clone)]
struct Columns {
    width: usize,
    name: usize,
    total: Option<usize>,
    free: Option<usize>,
    compute_cap: Option<usize>,
}

impl Columns {
    /// Our own query, without header: 4 columns, or 3 for the old-driver query.
    fn positional(width: usize) -> Option<Columns> {
        match width {
            4 => Some(Columns {
                width,
                name: 0,
                total: Some(1),
                free: Some(2),
                compute_cap: Some(3),
            }),
            3 => Some(Columns {
                width,
                name: 0,
                total: Some(1),
                free: Some(2),
                compute_cap: None,
            }),
            _ => None,
        }
    }

    fn from_header(line: &str) -> Result<Columns, ParseError> {
        let fields: Vec<String> = line.split(',').map(field_name).collect();
        let find = |names: &[&str]| fields.iter().position(|f| names.contains(&f.as_str()));
        Ok(Columns {
            width: fields.len(),
            name: find(&["name", "gpu_name"]).ok_or(ParseError::MissingColumn("name"))?,
            total: find(&["memory.total"]),
            free: find(&["memory.free"]),
            compute_cap: find(&["compute_cap"]),
        })
    }

    fn gpu(&self, cells: &[&str]) -> Result<Gpu, &'static str> {
        if cells.len() != self.width {
            return Err("wrong number of columns");
        }
        let name = cells[self.name];
        if name.is_empty() || not_reported(name) {
            return Err("no GPU name");
        }
        let total_bytes = match self.total {
            Some(i) => mib(cells[i])?.unwrap_or(0),
            None => 0,
        };
        let free_bytes = match self.free {
            Some(i) => mib(cells[i])?,
            None => None,
        };
        let compute_capability = self
            .compute_cap
            .map(|i| cells[i])
            .filter(|cc| cc_major(cc).is_some())
            .map(str::to_owned);
        let bf16 = match compute_capability.as_deref().and_then(cc_major) {
            Some(major) => major >= 8,
            None => nvidia_name_supports_bf16(name),
        };
        Ok(Gpu {
            name: name.to_owned(),
            total_bytes,
            free_bytes,
            compute_capability,
            bf16,
        })
    }
}

/// "memory.total [MiB]" → "memory.total".
fn field_name(cell: &str) -> String {
    let cell = cell.trim();
    cell.split_once(" [")
        .map_or(cell, |(name, _)| name)
        .trim()
        .to_ascii_lowercase()
}

fn is_header(line: &str) -> bool {
    const FIELDS: &[&str] = &[
        "name",
        "gpu_name",
        "index",
        "uuid",
        "memory.total",
        "memory.free",
        "memory.used",
        "compute_cap",
        "driver_version",
    ];
    line.split(',')
        .map(field_name)
        .any(|f| FIELDS.contains(&f.as_str()))
}

/// `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `N/A`.
fn not_reported(cell: &str) -> bool {
    (cell.starts_with('[') && cell.ends_with(']')) || cell.eq_ignore_ascii_case("N/A")
}

/// A MiB count (with or without its unit) in bytes; `None` when not reported.
fn mib(cell: &str) -> Result<Option<u64>, &'static str> {
    if not_reported(cell) {
        return Ok(None);
    }
    let digits = cell.strip_suffix("MiB").unwrap_or(cell).trim();
    let count: u64 = digits
        .parse()
        .map_err(|_| "memory is not a number of MiB")?;
    count
        .checked_mul(MIB)
        .map(Some)
        .ok_or("memory is out of range")
}

/// "8.9" → 8; anything but `digits.digits` → None.
fn cc_major(cc: &str) -> Option<u32> {
    let (major, minor) = cc.split_once('.')?;
    minor.parse::<u32>().ok()?;
    major.parse().ok()
}

/// The field named in `Field "compute_cap" is not a valid field to query.`
fn unknown_field(text: &str) -> Option<String> {
    let line = text
        .lines()
        .find(|l| l.contains("is not a valid field to query"))?;
    let quoted = line
        .split('"')
        .nth(1)
        .filter(|f| !f.is_empty())
        .unwrap_or("?");
    Some(quoted.to_owned())
}

/// bf16 from the product name, for drivers too old to report the compute capability: Ampere
/// (compute 8.x) and later. A100/A800/A30/A40/A10(G)/A16/A2 and the RTX A-series are `A` + digits;
/// Hopper is H100/H200/H800/H20/GH200; Ada is L4/L20/L40(S), RTX 40xx and "… Ada Generation";
/// Blackwell is B100/B200/GB200/GB10, RTX 50xx and "… Blackwell"; Ampere GeForce is RTX 30xx; Orin is
/// Ampere. Everything else (T4, V100, P100, RTX 20xx, Quadro RTX, TITAN, GTX) is fp16 only. A MIG
/// name that still carries the product ("… A100-SXM4-40GB MIG 3g.20gb") counts; a bare "MIG 1g.10gb"
/// does not.
fn nvidia_name_supports_bf16(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let tokens: Vec<&str> = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    tokens.iter().enumerate().any(|(i, token)| {
        matches!(*token, "ADA" | "AMPERE" | "HOPPER" | "BLACKWELL" | "ORIN")
            || ["A", "H", "GH", "L", "B", "GB"]
                .iter()
                .any(|prefix| model_number(token, prefix))
            || (i > 0 && tokens[i - 1] == "RTX" && geforce_30_to_50(token))
    })
}

/// `prefix` then digits then optional letters: "A100", "A10G", "L40S", "GH200", "GB10".
fn model_number(token: &str, prefix: &str) -> bool {
    token.strip_prefix(prefix).is_some_and(|rest| {
        let digits = rest.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// GeForce RTX 3050…3090, 4060…4090, 5050…5090 (not Quadro RTX 4000/5000/6000/8000, which are Turing).
fn geforce_30_to_50(token: &str) -> bool {
    matches!(token.as_bytes(), [b'3'..=b'5', b'0', b'5'..=b'9', b'0'])
}

/// Reads `rocm-smi --showproductname --showmeminfo vram --json`: an object keyed "card0", "card1", …
/// (other keys such as "system" are ignored), each an object of strings.
///
/// Key spellings differ across ROCm releases ("Card series" in 4.x/5.x, "Card Series" in 6.x, "Device
/// Name" in some 6.2+ builds), so keys match without regard to case and the name is the first of Card
/// Series, Device Name, Card SKU that is not `N/A` or a hex id; a bracketed marketing name inside it
/// ("Arcturus GL-XL [AMD Instinct MI100]") is preferred. Memory comes from "VRAM Total Memory (B)" and
/// "VRAM Total Used Memory (B)" (0 / `None` when absent). Text before the JSON (warnings) is skipped.
pub fn parse_rocm_smi(text: &str) -> Result<Vec<Gpu>, ParseError> {
    let start = text
        .find('{')
        .ok_or_else(|| ParseError::NotJson("no JSON object".to_owned()))?;
    let value = serde_json::Deserializer::from_str(&text[start..])
        .into_iter::<serde_json::Value>()
        .next()
        .ok_or_else(|| ParseError::NotJson("no JSON object".to_owned()))?
        .map_err(|e| ParseError::NotJson(e.to_string()))?;
    let object = value
        .as_object()
        .ok_or_else(|| ParseError::NotJson("not a JSON object".to_owned()))?;
    let mut cards: Vec<(u32, &String, &serde_json::Value)> = object
        .iter()
        .filter_map(|(key, card)| Some((key.strip_prefix("card")?.parse().ok()?, key, card)))
        .collect();
    cards.sort_by_key(|&(index, _, _)| index);
    cards
        .into_iter()
        .map(|(_, key, card)| rocm_card(key, card))
        .collect()
}

fn rocm_card(key: &str, card: &serde_json::Value) -> Result<Gpu, ParseError> {
    let bad = |problem: &str| ParseError::BadCard {
        card: key.to_owned(),
        problem: problem.to_owned(),
    };
    let fields = card.as_object().ok_or_else(|| bad("not an object"))?;
    let field = |wanted: &str| {
        fields
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(wanted))
            .and_then(|(_, v)| match v {
                serde_json::Value::String(s) => Some(s.trim().to_owned()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|v| !v.is_empty() && !not_reported(v))
    };
    let bytes = |wanted: &str| -> Result<Option<u64>, ParseError> {
        field(wanted)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| bad(&format!("{wanted} is not a number")))
            })
            .transpose()
    };
    let name = ["Card Series", "Device Name", "Card SKU"]
        .into_iter()
        .filter_map(&field)
        .find(|v| !v.to_ascii_lowercase().starts_with("0x"))
        .map(|v| marketing_name(&v))
        .unwrap_or_else(|| format!("GPU ({key})"));
    let total_bytes = bytes("VRAM Total Memory (B)")?.unwrap_or(0);
    let used = bytes("VRAM Total Used Memory (B)")?;
    let free_bytes = used
        .filter(|_| total_bytes > 0)
        .map(|used| total_bytes.saturating_sub(used));
    let gfx = field("GFX Version").and_then(|v| normalize_gfx(&v));
    let bf16 = match &gfx {
        Some(gfx) => amd_gfx_supports_bf16(gfx),
        None => amd_name_supports_bf16(&name),
    };
    Ok(Gpu {
        name,
        total_bytes,
        free_bytes,
        compute_capability: gfx,
        bf16,
    })
}

/// "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]" → "Radeon RX 6800/6800 XT / 6900 XT".
fn marketing_name(series: &str) -> String {
    series
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(inner, _)| inner.trim())
        .filter(|inner| !inner.is_empty())
        .unwrap_or(series)
        .to_owned()
}

/// "gfx1100" → "gfx1100"; "gfx9010" → "gfx90a" (some rocm-smi releases print gfx90a's stepping, 10,
/// in decimal); anything that is not `gfx` + letters/digits → None.
fn normalize_gfx(raw: &str) -> Option<String> {
    let target = raw.trim().to_ascii_lowercase();
    let target = target.strip_prefix("gfx")?;
    if target.is_empty() || !target.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    if let [b'9', minor, stepping @ ..] = target.as_bytes() {
        if stepping.len() == 2 {
            let stepping: u8 = std::str::from_utf8(stepping).ok()?.parse().ok()?;
            if stepping < 16 {
                return Some(format!("gfx9{}{stepping:x}", *minor as char));
            }
        }
    }
    Some(format!("gfx{target}"))
}

/// bf16 from the gfx target rocm-smi reports: CDNA2 (gfx90a, MI200 series), CDNA3 (gfx94x, MI300),
/// CDNA4 (gfx95x, MI350), RDNA3/3.5 (gfx11xx) and RDNA4 (gfx12xx) have bf16 matrix instructions that
/// PyTorch uses. Everything older (gfx908 MI100 included, whose bf16 path PyTorch does not favour;
/// gfx906; RDNA1/2 gfx10xx) trains in fp16.
fn amd_gfx_supports_bf16(gfx: &str) -> bool {
    let target = gfx.trim_start_matches("gfx");
    match target.len() {
        3 => target == "90a" || target.starts_with("94") || target.starts_with("95"),
        4 => target.starts_with("11") || target.starts_with("12"),
        _ => false,
    }
}

/// bf16 from the product name when rocm-smi gives no gfx target: Instinct MI2xx/MI3xx, Radeon RX 7000
/// and RX 9000, Radeon PRO W7000.
fn amd_name_supports_bf16(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let tokens: Vec<&str> = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let number = |token: &str, first: &[u8]| {
        let digits = token.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        digits.len() >= 3
            && digits.bytes().all(|b| b.is_ascii_digit())
            && first.contains(&digits.as_bytes()[0])
    };
    tokens.iter().enumerate().any(|(i, token)| {
        token
            .strip_prefix("MI")
            .is_some_and(|rest| number(rest, b"23"))
            || token
                .strip_prefix('W')
                .is_some_and(|rest| rest.len() == 4 && number(rest, b"7"))
            || (i > 0 && tokens[i - 1] == "RX" && token.len() == 4 && number(token, b"79"))
    })
}

// ---------------------------------------------------------------------------------------------
// Apple silicon
// ---------------------------------------------------------------------------------------------

/// One GPU as `system_profiler SPDisplaysDataType -json` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfiledGpu {
    /// `sppci_model` ("Apple M3 Max", "Intel Iris Plus Graphics"), else `_name`.
    pub model: String,
    /// Apple's own GPU (Apple silicon): vendor `sppci_vendor_Apple`, or a model named "Apple …".
    pub apple: bool,
    /// `sppci_cores`: Apple silicon's GPU core count.
    pub cores: Option<u32>,
    /// "Metal 3", "Metal 4", or just "Metal" when macOS says only that it is supported.
    pub metal: Option<String>,
}

/// Reads `system_profiler SPDisplaysDataType -json`: `{"SPDisplaysDataType": [ {GPU}, … ]}`, each GPU
/// with its displays under `spdisplays_ndrvs` (ignored).
///
/// Keys differ across macOS releases: Metal is `spdisplays_mtlgpufamilysupport: spdisplays_metal3`
/// (macOS 13+; `metal4` on 26), `spdisplays_metalfamily: spdisplays_mtlgpufamilyapple7` (macOS 11) or
/// `spdisplays_metal: spdisplays_supported`; `_name` may be a localisation key such as
/// `kHW_AppleM1Item`, so `sppci_model` is preferred. Entries without any name are skipped.
pub fn parse_system_profiler(text: &str) -> Result<Vec<ProfiledGpu>, ParseError> {
    let start = text
        .find('{')
        .ok_or_else(|| ParseError::NotProfilerJson("no JSON object".to_owned()))?;
    let value: serde_json::Value = serde_json::Deserializer::from_str(&text[start..])
        .into_iter()
        .next()
        .ok_or_else(|| ParseError::NotProfilerJson("no JSON object".to_owned()))?
        .map_err(|e| ParseError::NotProfilerJson(e.to_string()))?;
    let items = value
        .get("SPDisplaysDataType")
        .and_then(|v| v.as_array())
        .ok_or_else(|| ParseError::NotProfilerJson("no SPDisplaysDataType list".to_owned()))?;
    Ok(items.iter().filter_map(profiled_gpu).collect())
}

fn profiled_gpu(item: &serde_json::Value) -> Option<ProfiledGpu> {
    let text = |key: &str| {
        item.get(key)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let model = text("sppci_model")
        .or_else(|| text("_name").filter(|n| !n.starts_with("kHW_")))?
        .to_owned();
    let apple = text("spdisplays_vendor").is_some_and(|v| v.eq_ignore_ascii_case("sppci_vendor_Apple"))
        || model.starts_with("Apple ");
    let cores = text("sppci_cores").and_then(|c| {
        let digits: String = c.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    });
    let metal = text("spdisplays_mtlgpufamilysupport")
        .map(metal_version)
        .or_else(|| text("spdisplays_metalfamily").map(metal_family))
        .or_else(|| text("spdisplays_metal").map(metal_version));
    Some(ProfiledGpu {
        model,
        apple,
        cores,
        metal,
    })
}

/// "spdisplays_metal3" → "Metal 3"; "spdisplays_supported" or any other value → "Metal".
fn metal_version(value: &str) -> String {
    match value.strip_prefix("spdisplays_metal") {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => format!("Metal {n}"),
        _ => "Metal".to_owned(),
    }
}

/// "spdisplays_mtlgpufamilyapple7" → "Metal (Apple 7 family)".
fn metal_family(value: &str) -> String {
    match value.strip_prefix("spdisplays_mtlgpufamilyapple") {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            format!("Metal (Apple {n} family)")
        }
        _ => "Metal".to_owned(),
    }
}

/// A number that `sysctl -n` printed (`"68719476736\n"`), or a `name: value` line.
pub fn parse_sysctl_number(text: &str) -> Option<u64> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let value = line.rsplit_once(':').map_or(line, |(_, v)| v).trim();
    value.parse().ok()
}

/// Metal's default working-set budget on Apple silicon: what `MTLDevice.recommendedMaxWorkingSetSize`
/// reports when `iogpu.wired_limit_mb` is not set: 2/3 of unified memory below 36 GiB, 3/4 from
/// 36 GiB up.
///
/// Checked against the value Metal reported (llama.cpp prints it at start-up): 16 GiB → 10922.67
/// MiB and 32 GiB → 21845.34 MiB (2/3); 36 GiB → 27648 MiB (M4 Max, macOS 15.7), 64 GiB → 49152 MiB
/// and 96 GiB → 73728 MiB (3/4). macOS 26 gives a 128 GiB Mac more (107.52 GiB, 84%), so 3/4 is on
/// the safe side there.
pub fn metal_default_budget(unified_bytes: u64) -> u64 {
    if unified_bytes >= 36 * GIB_BYTES {
        unified_bytes / 4 * 3
    } else {
        unified_bytes / 3 * 2
    }
}

/// The bytes of unified memory the training estimate may plan for on Apple silicon, and the sentence
/// that says why: Metal's default ([`metal_default_budget`]), or the `iogpu.wired_limit_mb` someone
/// set (`sudo sysctl iogpu.wired_limit_mb=<MiB>`; it lasts until a restart), which Metal follows.
pub fn metal_budget(unified_bytes: u64, wired_limit_mb: Option<u64>) -> (u64, String) {
    let default_share = if unified_bytes >= 36 * GIB_BYTES { 75 } else { 67 };
    match wired_limit_mb.filter(|&mb| mb > 0) {
        Some(mb) => {
            let bytes = mb.saturating_mul(MIB).min(unified_bytes);
            (
                bytes,
                format!(
                    "the estimate budgets {} of {} unified memory, as iogpu.wired_limit_mb={mb} allows \
                     (Metal's default is {default_share}%)",
                    gib(bytes),
                    gib(unified_bytes)
                ),
            )
        }
        None => (
            metal_default_budget(unified_bytes),
            format!(
                "the estimate budgets {default_share}% of {} unified memory, Metal's default working \
                 set; `sudo sysctl iogpu.wired_limit_mb=<MiB>` raises it until the next restart",
                gib(unified_bytes)
            ),
        ),
    }
}

/// Apple silicon as [`detect`] describes it: one GPU named after the chip and its GPU cores ("Apple
/// M3 Max (40-core GPU)"), holding Metal's share of the unified memory ([`metal_budget`]), with
/// bf16 (MLX trains in bf16 on every M-series chip). `chip` is `machdep.cpu.brand_string`, `gpu`
/// the Apple GPU from system_profiler when it answered.
pub fn apple_silicon(
    chip: Option<&str>,
    unified_bytes: u64,
    gpu: Option<&ProfiledGpu>,
    wired_limit_mb: Option<u64>,
) -> Hardware {
    let model = gpu
        .filter(|g| g.model.starts_with("Apple"))
        .map(|g| g.model.clone())
        .or_else(|| {
            chip.filter(|c| c.starts_with("Apple") && *c != "Apple processor")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Apple silicon".to_owned());
    let name = match gpu.and_then(|g| g.cores) {
        Some(cores) => format!("{model} ({cores}-core GPU)"),
        None => model,
    };
    let (total_bytes, note) = metal_budget(unified_bytes, wired_limit_mb);
    Hardware {
        kind: GpuKind::Apple,
        gpus: vec![Gpu {
            name,
            total_bytes,
            free_bytes: None,
            compute_capability: gpu.and_then(|g| g.metal.clone()),
            bf16: true,
        }],
        note: Some(note),
    }
}

// ---------------------------------------------------------------------------------------------
// Probing
// ---------------------------------------------------------------------------------------------

/// What a GPU tool, once run, said.
#[derive(Debug, Clone)]
struct ToolOutput {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

impl ToolOutput {
    /// Everything the tool printed.
    fn said(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The last non-empty line of stderr, else of stdout: where the tools say what went wrong.
    fn last_line(&self) -> String {
        let last = |s: &str| {
            s.lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_owned)
        };
        last(&self.stderr)
            .or_else(|| last(&self.stdout))
            .unwrap_or_default()
    }
}

/// Why a GPU tool gave no output at all.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ToolError {
    NotFound,
    TimedOut(Duration),
    Failed(String),
}

impl ToolError {
    fn note(&self, program: &str) -> String {
        match self {
            ToolError::NotFound => format!("{program} not found"),
            ToolError::TimedOut(limit) => {
                format!("{program} did not answer within {} s", limit.as_secs_f32())
            }
            ToolError::Failed(e) => format!("{program}: {e}"),
        }
    }
}

/// Runs a fixed probe (never through a shell) with stdin closed; it is killed if it outlives `limit`.
async fn run_tool(
    program: &'static str,
    args: &'static [&'static str],
    limit: Duration,
) -> Result<ToolOutput, ToolError> {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    match tokio::time::timeout(limit, command.output()).await {
        Err(_) => Err(ToolError::TimedOut(limit)),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Err(ToolError::NotFound),
        Ok(Err(e)) => Err(ToolError::Failed(e.to_string())),
        Ok(Ok(out)) => Ok(ToolOutput {
            success: out.status.success(),
            status: out.status.to_string(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }),
    }
}

/// Detects the GPUs now, without the cache: on macOS, Apple silicon (sysctl and system_profiler);
/// elsewhere nvidia-smi first, then rocm-smi; else the CPU. A tool that is missing, fails or times
/// out (5 s) is not an error: the answer is CPU-only with a note saying why.
pub async fn detect_fresh() -> Hardware {
    detect_with(cfg!(target_os = "macos"), |program, args| {
        run_tool(program, args, PROBE_TIMEOUT)
    })
    .await
}

/// [`detect_fresh`], remembered for 60 s process-wide; concurrent callers share one probe.
pub async fn detect() -> Hardware {
    static CACHE: OnceLock<Mutex<Option<(Instant, Hardware)>>> = OnceLock::new();
    cached(
        CACHE.get_or_init(|| Mutex::new(None)),
        CACHE_FOR,
        detect_fresh,
    )
    .await
}

async fn cached<F, Fut>(
    slot: &Mutex<Option<(Instant, Hardware)>>,
    ttl: Duration,
    probe: F,
) -> Hardware
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Hardware>,
{
    // Held across the probe on purpose: a second caller waits for the first one's answer.
    let mut slot = slot.lock().await;
    if let Some((at, hardware)) = slot.as_ref() {
        if at.elapsed() < ttl {
            return hardware.clone();
        }
    }
    let hardware = probe().await;
    *slot = Some((Instant::now(), hardware.clone()));
    hardware
}

/// `mac`: probe for Apple silicon (and only that: macOS has no NVIDIA or ROCm driver).
async fn detect_with<R, Fut>(mac: bool, run: R) -> Hardware
where
    R: Fn(&'static str, &'static [&'static str]) -> Fut,
    Fut: Future<Output = Result<ToolOutput, ToolError>>,
{
    if mac {
        return probe_apple(&run)
            .await
            .unwrap_or_else(Hardware::cpu_only_because);
    }
    let nvidia_note = match probe_nvidia(&run).await {
        Ok(gpus) => {
            return Hardware {
                kind: GpuKind::Nvidia,
                gpus,
                note: None,
            }
        }
        Err(note) => note,
    };
    let rocm_note = match probe_rocm(&run).await {
        Ok(gpus) => {
            return Hardware {
                kind: GpuKind::Amd,
                gpus,
                note: None,
            }
        }
        Err(note) => note,
    };
    Hardware::cpu_only_because(format!("{nvidia_note}; {rocm_note}"))
}

/// NVIDIA GPUs, or why there are none. A driver too old for `compute_cap` is asked again without it.
async fn probe_nvidia<R, Fut>(run: &R) -> Result<Vec<Gpu>, String>
where
    R: Fn(&'static str, &'static [&'static str]) -> Fut,
    Fut: Future<Output = Result<ToolOutput, ToolError>>,
{
    let mut out = run(NVIDIA_SMI, NVIDIA_QUERY)
        .await
        .map_err(|e| e.note(NVIDIA_SMI))?;
    if unknown_field(&out.said()).is_some() {
        out = run(NVIDIA_SMI, NVIDIA_QUERY_OLD_DRIVER)
            .await
            .map_err(|e| e.note(NVIDIA_SMI))?;
    }
    let said = out.said();
    if let Some(field) = unknown_field(&said) {
        return Err(format!("nvidia-smi rejects the field {field:?}"));
    }
    if said.contains("No devices were found") {
        return Err("nvidia-smi found no GPU".to_owned());
    }
    if !out.success {
        return Err(format!(
            "nvidia-smi failed ({}): {}",
            out.status,
            out.last_line()
        ));
    }
    match parse_nvidia_smi(&out.stdout) {
        Ok(gpus) if gpus.is_empty() => Err("nvidia-smi lists no GPU".to_owned()),
        Ok(gpus) => Ok(gpus),
        Err(e) => Err(format!("could not read nvidia-smi's answer: {e}")),
    }
}

/// AMD GPUs, or why there are none. rocm-smi sometimes exits non-zero after printing good JSON (a
/// warning about one field), so the JSON is read whatever the exit status.
async fn probe_rocm<R, Fut>(run: &R) -> Result<Vec<Gpu>, String>
where
    R: Fn(&'static str, &'static [&'static str]) -> Fut,
    Fut: Future<Output = Result<ToolOutput, ToolError>>,
{
    let out = run(ROCM_SMI, ROCM_QUERY)
        .await
        .map_err(|e| e.note(ROCM_SMI))?;
    match parse_rocm_smi(&out.stdout) {
        Ok(gpus) if !gpus.is_empty() => Ok(gpus),
        _ if !out.success => Err(format!(
            "rocm-smi failed ({}): {}",
            out.status,
            out.last_line()
        )),
        Ok(_) => Err("rocm-smi lists no GPU".to_owned()),
        Err(e) => Err(format!("could not read rocm-smi's answer: {e}")),
    }
}

/// Apple silicon, or why this Mac has none. The chip name and the memory come from sysctl, the GPU's
/// core count and Metal support from system_profiler (optional: without it the GPU is named after the
/// chip), an explicit `iogpu.wired_limit_mb` from sysctl (optional: older macOS lacks it).
async fn probe_apple<R, Fut>(run: &R) -> Result<Hardware, String>
where
    R: Fn(&'static str, &'static [&'static str]) -> Fut,
    Fut: Future<Output = Result<ToolOutput, ToolError>>,
{
    let chip = match run(SYSCTL, SYSCTL_CHIP).await {
        Ok(out) if out.success => Some(out.stdout.trim().to_owned()).filter(|c| !c.is_empty()),
        _ => None,
    };
    let profiled = match run(SYSTEM_PROFILER, PROFILER_QUERY).await {
        Ok(out) => parse_system_profiler(&out.stdout).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let gpu = profiled.iter().find(|g| g.apple);
    if gpu.is_none() && !chip.as_deref().is_some_and(|c| c.starts_with("Apple")) {
        let what = chip
            .or_else(|| profiled.first().map(|g| g.model.clone()))
            .unwrap_or_else(|| "this Mac".to_owned());
        return Err(format!(
            "{what} is not Apple silicon: MLX and Metal training need an M-series Mac"
        ));
    }
    let memory = run(SYSCTL, SYSCTL_MEMORY)
        .await
        .map_err(|e| e.note("sysctl"))?;
    let unified = parse_sysctl_number(&memory.stdout)
        .filter(|&bytes| memory.success && bytes > 0)
        .ok_or_else(|| format!("sysctl hw.memsize did not answer with a size: {}", memory.last_line()))?;
    let wired_limit = match run(SYSCTL, SYSCTL_WIRED_LIMIT).await {
        Ok(out) if out.success => parse_sysctl_number(&out.stdout),
        _ => None,
    };
    Ok(apple_silicon(chip.as_deref(), unified, gpu, wired_limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A fixture's recorded output: the file less its leading `#` comment lines.
    macro_rules! fixture {
        ($file:literal) => {
            include_str!(concat!("../tests/fixtures/hardware/", $file))
                .lines()
                .skip_while(|line| line.starts_with('#'))
                .map(|line| format!("{line}\n"))
                .collect::<String>()
        };
    }

    fn nvidia(gpus: Vec<Gpu>) -> Hardware {
        Hardware {
            kind: GpuKind::Nvidia,
            gpus,
            note: None,
        }
    }

    // --- nvidia-smi -------------------------------------------------------------------------

    #[test]
    fn consumer_ada_card_reads_memory_compute_capability_and_bf16() {
        let gpus = parse_nvidia_smi(&fixture!("nvidia-rtx4080super.csv")).unwrap();
        assert_eq!(
            gpus,
            vec![Gpu {
                name: "NVIDIA GeForce RTX 4080 SUPER".into(),
                total_bytes: 16376 * MIB,
                free_bytes: Some(15348 * MIB),
                compute_capability: Some("8.9".into()),
                bf16: true,
            }]
        );
        let hw = nvidia(gpus);
        assert_eq!(hw.gpu_memory(), Some(16376 * MIB));
        assert_eq!(hw.free_memory(), Some(15348 * MIB));
        assert!(hw.bf16());
        assert_eq!(
            hw.summary(),
            "NVIDIA GeForce RTX 4080 SUPER, 16.0 GiB (15.0 GiB free), compute 8.9, bf16"
        );
    }

    #[test]
    fn turing_card_is_fp16_only() {
        let gpus = parse_nvidia_smi(&fixture!("nvidia-rtx2080super.csv")).unwrap();
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].compute_capability.as_deref(), Some("7.5"));
        assert_eq!(gpus[0].total_bytes, 8192 * MIB);
        assert!(!gpus[0].bf16);
        let hw = nvidia(gpus);
        assert!(!hw.bf16());
        assert_eq!(
            hw.summary(),
            "NVIDIA GeForce RTX 2080 SUPER, 8.0 GiB (7.4 GiB free), compute 7.5, fp16 only"
        );
    }

    #[test]
    fn hopper_card_is_bf16() {
        let gpus = parse_nvidia_smi(&fixture!("nvidia-h100.csv")).unwrap();
        assert_eq!(gpus[0].name, "NVIDIA H100 80GB HBM3");
        assert_eq!(gpus[0].total_bytes, 81559 * MIB);
        assert_eq!(gpus[0].free_bytes, Some(81081 * MIB));
        assert!(gpus[0].bf16);
    }

    #[test]
    fn mig_mode_still_lists_the_parent_gpu_once() {
        let gpus = parse_nvidia_smi(&fixture!("nvidia-h100-mig-mode.csv")).unwrap();
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].name, "NVIDIA H100 80GB HBM3");
        assert_eq!(gpus[0].free_bytes, Some(81022 * MIB));
        assert!(gpus[0].bf16);
    }

    #[test]
    fn eight_gpu_server_reads_every_gpu_and_summarises_them_once() {
        let gpus = parse_nvidia_smi(&fixture!("nvidia-8x-a800.csv")).unwrap();
        assert_eq!(gpus.len(), 8);
        assert!(gpus
            .iter()
            .all(|g| g.name == "NVIDIA A800-SXM4-80GB" && g.total_bytes == 81920 * MIB));
        assert_eq!(gpus[4].free_bytes, Some(67547 * MIB));
        let hw = nvidia(gpus);
        assert_eq!(hw.count(), 8);
        assert_eq!(hw.gpu_memory(), Some(81920 * MIB));
        assert_eq!(hw.free_memory(), Some(8404 * MIB));
        assert!(hw.bf16());
        // The least free GPU (GPU 0, 8404 MiB) is the one quoted.
        assert_eq!(
            hw.summary(),
            "8 × NVIDIA A800-SXM4-80GB, 80.0 GiB each (8.2 GiB free), compute 8.0, bf16"
        );
    }

    #[test]
    fn unified_memory_gpu_reports_no_memory_and_takes_bf16_from_its_name() {
        let gpus = parse_nvidia_smi(&fixture!("nvidia-gb10-na.csv")).unwrap();
        assert_eq!(
            gpus,
            vec![Gpu {
                name: "NVIDIA GB10".into(),
                total_bytes: 0,
                free_bytes: None,
                compute_capability: None,
                bf16: true,
            }]
        );
        let hw = nvidia(gpus);
        assert_eq!(hw.gpu_memory(), None);
        assert_eq!(hw.free_memory(), None);
        assert_eq!(hw.summary(), "NVIDIA GB10, memory not reported, bf16");
    }

    #[test]
    fn mixed_host_is_bf16_only_if_every_gpu_is() {
        let gpus = parse_nvidia_smi(&fixture!("nvidia-titanv-rtx5880.csv")).unwrap();
        let caps: Vec<_> = gpus
            .iter()
            .map(|g| (g.name.as_str(), g.compute_capability.as_deref(), g.bf16))
            .collect();
        assert_eq!(
            caps,
            vec![
                ("NVIDIA TITAN V", Some("7.0"), false),
                ("NVIDIA RTX 5880 Ada Generation", Some("8.9"), true)
            ]
        );
        let hw = nvidia(gpus);
        assert!(!hw.bf16());
        assert_eq!(
            hw.summary(),
            "NVIDIA TITAN V, memory not reported, compute 7.0, fp16 only; \
             NVIDIA RTX 5880 Ada Generation, memory not reported, compute 8.9, bf16"
        );
    }

    #[test]
    fn old_driver_refusing_compute_cap_is_an_unknown_field() {
        let message = fixture!("nvidia-compute-cap-unknown.txt");
        assert_eq!(
            parse_nvidia_smi(&message),
            Err(ParseError::UnknownField("compute_cap".into()))
        );
    }

    #[test]
    fn headerless_query_output_skips_blank_lines_and_na() {
        let gpus = parse_nvidia_smi(&fixture!("nvidia-noheader-handwritten.csv")).unwrap();
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].total_bytes, 16376 * MIB);
        assert_eq!(gpus[1].name, "NVIDIA H100 80GB HBM3");
        assert_eq!(gpus[1].free_bytes, None);
        assert_eq!(gpus[1].compute_capability.as_deref(), Some("9.0"));
    }

    #[test]
    fn old_driver_query_without_compute_cap_decides_bf16_by_name() {
        // The old-driver query's shape (name, memory.total, memory.free) with the recorded values of the
        // two GeForce captures; hand-assembled, no paste of this exact query was found.
        let gpus =
            parse_nvidia_smi("NVIDIA GeForce RTX 4080 SUPER, 16376, 15348\nNVIDIA GeForce RTX 2080 SUPER, 8192, 7571\n")
                .unwrap();
        assert_eq!(
            gpus.iter().map(|g| g.bf16).collect::<Vec<_>>(),
            vec![true, false]
        );
        assert!(gpus.iter().all(|g| g.compute_capability.is_none()));
    }

    #[test]
    fn nothing_or_no_devices_is_an_empty_list() {
        assert_eq!(parse_nvidia_smi(""), Ok(vec![]));
        assert_eq!(parse_nvidia_smi("No devices were found\n"), Ok(vec![]));
    }

    #[test]
    fn lines_that_are_not_gpus_are_errors() {
        let driver_down =
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.";
        assert!(matches!(
            parse_nvidia_smi(driver_down),
            Err(ParseError::BadLine { line: 1, .. })
        ));
        assert!(matches!(
            parse_nvidia_smi("NVIDIA H100 80GB HBM3, lots, 1, 9.0"),
            Err(ParseError::BadLine {
                problem: "memory is not a number of MiB",
                ..
            })
        ));
        assert_eq!(
            parse_nvidia_smi("index, memory.total [MiB]\n0, 1024 MiB\n"),
            Err(ParseError::MissingColumn("name"))
        );
    }

    #[test]
    fn nvidia_names_tell_ampere_and_later_from_older_parts() {
        for name in [
            "NVIDIA GeForce RTX 3090",
            "NVIDIA GeForce RTX 3060 Laptop GPU",
            "NVIDIA GeForce RTX 4090",
            "NVIDIA GeForce RTX 5090",
            "NVIDIA A100-SXM4-80GB",
            "NVIDIA A800-SXM4-80GB",
            "NVIDIA A10G",
            "NVIDIA A30",
            "NVIDIA A40",
            "NVIDIA RTX A6000",
            "NVIDIA RTX 6000 Ada Generation",
            "NVIDIA L4",
            "NVIDIA L40S",
            "NVIDIA H100 80GB HBM3",
            "NVIDIA H200",
            "NVIDIA GH200 480GB",
            "NVIDIA B200",
            "NVIDIA GB10",
            "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
            "NVIDIA A100-SXM4-40GB MIG 3g.20gb",
        ] {
            assert!(nvidia_name_supports_bf16(name), "{name} should be bf16");
        }
        for name in [
            "Tesla T4",
            "Tesla V100-SXM2-32GB",
            "Tesla P100-PCIE-16GB",
            "NVIDIA GeForce RTX 2080 SUPER",
            "NVIDIA GeForce GTX 1080 Ti",
            "Quadro RTX 8000",
            "Quadro RTX 4000",
            "NVIDIA TITAN V",
            "NVIDIA TITAN RTX",
            "MIG 1g.10gb",
        ] {
            assert!(
                !nvidia_name_supports_bf16(name),
                "{name} should be fp16 only"
            );
        }
    }

    // --- rocm-smi ---------------------------------------------------------------------------

    #[test]
    fn rdna3_card_reads_vram_and_gfx_target() {
        let gpus = parse_rocm_smi(&fixture!("rocm-rx7900xt.json")).unwrap();
        assert_eq!(
            gpus,
            vec![Gpu {
                name: "Radeon RX 7900 XT".into(),
                total_bytes: 21_458_059_264,
                free_bytes: Some(21_458_059_264 - 27_856_896),
                compute_capability: Some("gfx1100".into()),
                bf16: true,
            }]
        );
        let hw = Hardware {
            kind: GpuKind::Amd,
            gpus,
            note: None,
        };
        assert_eq!(
            hw.summary(),
            "AMD Radeon RX 7900 XT, 20.0 GiB (20.0 GiB free), ROCm gfx1100, bf16"
        );
    }

    #[test]
    fn mi250x_product_only_output_normalises_gfx9010_and_has_no_memory() {
        let gpus = parse_rocm_smi(&fixture!("rocm-mi250x-productname.json")).unwrap();
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].name, "AMD INSTINCT MI200 (MCM) OAM LC MBA HPE C2");
        assert_eq!(gpus[0].compute_capability.as_deref(), Some("gfx90a"));
        assert_eq!(gpus[0].total_bytes, 0);
        assert_eq!(gpus[0].free_bytes, None);
        assert!(gpus[0].bf16);
    }

    #[test]
    fn older_rocm_key_spelling_and_bracketed_series_are_read() {
        // Hand-written JSON in the shape of ROCm 4.x/5.x: its values are the MI100 row that
        // `rocm-smi --showproductname --csv` printed in easybuilders/easybuild-framework#3978.
        let json = r#"{"card0": {"Card series": "Arcturus GL-XL [AMD Instinct MI100]", "Card model": "0x0c34",
            "Card vendor": "Advanced Micro Devices, Inc. [AMD/ATI]", "Card SKU": "D34316"},
            "system": {"Driver version": "4.18.0-348.12.2.el8_5.x86_64"}}"#;
        let gpus = parse_rocm_smi(json).unwrap();
        assert_eq!(gpus.len(), 1);
        assert_eq!(gpus[0].name, "AMD Instinct MI100");
        assert_eq!(gpus[0].compute_capability, None);
        assert!(!gpus[0].bf16, "MI100 (gfx908) trains in fp16");
    }

    #[test]
    fn rocm_cards_come_in_card_order_after_any_warning_text() {
        let json = "WARNING: something rocm-smi says first\n\
            {\"card10\": {\"Card Series\": \"B\"}, \"card2\": {\"Card Series\": \"A\"}}";
        let names: Vec<_> = parse_rocm_smi(json)
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect();
        assert_eq!(names, vec!["A", "B"]);
    }

    #[test]
    fn rocm_output_that_is_not_json_is_an_error() {
        assert!(matches!(
            parse_rocm_smi("ERROR: No AMD GPUs specified"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            parse_rocm_smi(r#"{"card0": {"VRAM Total Memory (B)": "lots"}}"#),
            Err(ParseError::BadCard { .. })
        ));
        assert_eq!(parse_rocm_smi("{}"), Ok(vec![]));
    }

    #[test]
    fn gfx_targets_decide_amd_bf16() {
        for (raw, normal, bf16) in [
            ("gfx9010", "gfx90a", true),
            ("gfx90a", "gfx90a", true),
            ("gfx942", "gfx942", true),
            ("gfx950", "gfx950", true),
            ("gfx1100", "gfx1100", true),
            ("gfx1151", "gfx1151", true),
            ("gfx1201", "gfx1201", true),
            ("gfx908", "gfx908", false),
            ("gfx906", "gfx906", false),
            ("gfx1030", "gfx1030", false),
        ] {
            let gfx = normalize_gfx(raw).unwrap();
            assert_eq!(gfx, normal);
            assert_eq!(amd_gfx_supports_bf16(&gfx), bf16, "{raw}");
        }
        assert_eq!(normalize_gfx("N/A"), None);
        for (name, bf16) in [
            ("AMD Instinct MI210", true),
            ("AMD Instinct MI300X", true),
            ("Radeon RX 7900 XTX", true),
            ("AMD Radeon PRO W7900", true),
            ("AMD Instinct MI100", false),
            ("Radeon RX 6800 XT", false),
        ] {
            assert_eq!(amd_name_supports_bf16(name), bf16, "{name}");
        }
    }

    // --- Apple silicon ----------------------------------------------------------------------

    /// Recorded `sysctl -n hw.memsize` answers: 16 GiB on an M1 Mac mini (Macmini9,1, macOS 26.3; a
    /// host notes file in a public repository, code index file id 60805743077) and 64 GiB on an M4 Pro
    /// (macOS 26.5.2; a benchmark note, file id 61061956867). M3 Max machines with 64 GB and the 40-core
    /// GPU are on record too (philipturner/applegpuinfo#4, Lospi/MetalDuck#18).
    const MEMSIZE_16_GIB: &str = "17179869184\n";
    const MEMSIZE_64_GIB: &str = "68719476736\n";

    fn apple_gpu(fixture: &str) -> ProfiledGpu {
        let gpus = parse_system_profiler(fixture).unwrap();
        assert_eq!(gpus.len(), 1, "{gpus:?}");
        gpus.into_iter().next().unwrap()
    }

    #[test]
    fn m3_max_with_64_gb_budgets_three_quarters_for_metal() {
        let gpu = apple_gpu(&fixture!("apple-m3max-40core.json"));
        assert_eq!(
            gpu,
            ProfiledGpu {
                model: "Apple M3 Max".into(),
                apple: true,
                cores: Some(40),
                metal: Some("Metal".into()),
            }
        );
        // Hand-assembled from recorded parts: this capture's GPU, its sysctl chip name, and a
        // recorded 64 GiB hw.memsize (the capture does not say how much memory that Mac has).
        let unified = parse_sysctl_number(MEMSIZE_64_GIB).unwrap();
        let hw = apple_silicon(Some("Apple M3 Max"), unified, Some(&gpu), None);
        assert_eq!(hw.kind, GpuKind::Apple);
        assert_eq!(hw.count(), 1);
        assert_eq!(hw.gpu_memory(), Some(48 * GIB_BYTES));
        assert_eq!(hw.free_memory(), None);
        assert!(hw.bf16());
        assert_eq!(
            hw.summary(),
            "Apple M3 Max (40-core GPU), 48.0 GiB GPU budget, Metal, bf16: the estimate budgets 75% of \
             64.0 GiB unified memory, Metal's default working set; `sudo sysctl iogpu.wired_limit_mb=<MiB>` \
             raises it until the next restart"
        );
    }

    #[test]
    fn m1_with_16_gb_budgets_two_thirds_for_metal() {
        let gpu = apple_gpu(&fixture!("apple-m1-7core.json"));
        assert_eq!(gpu.model, "Apple M1", "sppci_model, not the kHW_AppleM1Item key");
        assert_eq!((gpu.apple, gpu.cores), (true, Some(7)));
        assert_eq!(gpu.metal.as_deref(), Some("Metal 3"));
        let unified = parse_sysctl_number(MEMSIZE_16_GIB).unwrap();
        let hw = apple_silicon(Some("Apple M1"), unified, Some(&gpu), None);
        // Metal reports 10922.67 MiB on a 16 GB M1 (llama.cpp's start-up line).
        assert_eq!(hw.gpu_memory(), Some(11_453_246_122));
        assert_eq!(
            hw.summary(),
            "Apple M1 (7-core GPU), 10.7 GiB GPU budget, Metal 3, bf16: the estimate budgets 67% of \
             16.0 GiB unified memory, Metal's default working set; `sudo sysctl iogpu.wired_limit_mb=<MiB>` \
             raises it until the next restart"
        );
    }

    #[test]
    fn displays_are_not_gpus_and_newer_macos_says_metal_4() {
        let m1_pro = apple_gpu(&fixture!("apple-m1pro-16core-3displays.json"));
        assert_eq!(m1_pro.model, "Apple M1 Pro");
        assert_eq!(m1_pro.cores, Some(16));
        let m2_max = apple_gpu(&fixture!("apple-m2max-30core-metal4.json"));
        assert_eq!(
            (m2_max.model.as_str(), m2_max.cores, m2_max.metal.as_deref()),
            ("Apple M2 Max", Some(30), Some("Metal 4"))
        );
    }

    #[test]
    fn macos_11_metal_family_key_and_an_intel_mac_are_read() {
        // Hand-assembled: the _name and spdisplays_metalfamily pair macOS 11 printed on an M1
        // (exelban/stats#394), with the sppci_* keys every later capture has.
        let macos_11 = r#"{"SPDisplaysDataType": [{"_name": "kHW_AppleM1Item",
            "spdisplays_metalfamily": "spdisplays_mtlgpufamilyapple7",
            "spdisplays_vendor": "sppci_vendor_Apple", "sppci_cores": "8", "sppci_model": "Apple M1"}]}"#;
        assert_eq!(
            apple_gpu(macos_11).metal.as_deref(),
            Some("Metal (Apple 7 family)")
        );
        // Hand-written in the shape of an Intel Mac's entry (no cores, not Apple's GPU).
        let intel = r#"{"SPDisplaysDataType": [{"_name": "Intel Iris Plus Graphics",
            "spdisplays_vendor": "sppci_vendor_intel", "spdisplays_metal": "spdisplays_supported"}]}"#;
        let gpu = apple_gpu(intel);
        assert!(!gpu.apple);
        assert_eq!(gpu.cores, None);
    }

    #[test]
    fn profiler_output_that_is_not_its_json_is_an_error() {
        assert!(matches!(
            parse_system_profiler("system_profiler: command not found"),
            Err(ParseError::NotProfilerJson(_))
        ));
        assert!(matches!(
            parse_system_profiler("{}"),
            Err(ParseError::NotProfilerJson(_))
        ));
        assert_eq!(
            parse_system_profiler(r#"{"SPDisplaysDataType": []}"#),
            Ok(vec![])
        );
    }

    #[test]
    fn sysctl_numbers_are_read_with_or_without_the_name() {
        assert_eq!(parse_sysctl_number(MEMSIZE_16_GIB), Some(16 * GIB_BYTES));
        assert_eq!(
            parse_sysctl_number("hw.memsize: 68719476736"),
            Some(64 * GIB_BYTES)
        );
        assert_eq!(parse_sysctl_number("0\n"), Some(0));
        assert_eq!(parse_sysctl_number(""), None);
        assert_eq!(
            parse_sysctl_number("sysctl: unknown oid 'iogpu.wired_limit_mb'"),
            None
        );
    }

    #[test]
    fn metal_budget_follows_the_reported_working_set_sizes() {
        // recommendedMaxWorkingSetSize as llama.cpp printed it (MiB; newer builds print 1e6 bytes):
        // 8 GiB ~5461, 16 GiB 10922.67, 32 GiB 21845.34, 36 GiB 27648 (28991.03 MB), 64 GiB 49152,
        // 96 GiB 73728.
        let mib = |gib: u64| metal_default_budget(gib * GIB_BYTES) as f64 / MIB as f64;
        for (gib, reported) in [
            (8, 5461.34),
            (16, 10922.67),
            (32, 21845.34),
            (36, 27648.0),
            (64, 49152.0),
            (96, 73728.0),
        ] {
            assert!(
                (mib(gib) - reported).abs() < 0.02,
                "{gib} GiB: {} MiB, Metal said {reported}",
                mib(gib)
            );
        }
    }

    #[test]
    fn a_wired_limit_replaces_the_default_budget() {
        let (bytes, note) = metal_budget(64 * GIB_BYTES, Some(57_344));
        assert_eq!(bytes, 56 * GIB_BYTES);
        assert_eq!(
            note,
            "the estimate budgets 56.0 GiB of 64.0 GiB unified memory, as iogpu.wired_limit_mb=57344 \
             allows (Metal's default is 75%)"
        );
        assert_eq!(metal_budget(16 * GIB_BYTES, Some(1 << 20)).0, 16 * GIB_BYTES);
        assert_eq!(
            metal_budget(16 * GIB_BYTES, Some(0)).0,
            metal_default_budget(16 * GIB_BYTES)
        );
    }

    #[tokio::test]
    async fn a_mac_is_probed_with_sysctl_and_system_profiler() {
        let profile = fixture!("apple-m3max-40core.json");
        let (hw, asked) = detect_on_mac(|program, args| match (program, args.last().copied()) {
            ("sysctl", Some("machdep.cpu.brand_string")) => answered(true, "Apple M3 Max\n", ""),
            ("sysctl", Some("hw.memsize")) => answered(true, MEMSIZE_64_GIB, ""),
            ("sysctl", Some("iogpu.wired_limit_mb")) => answered(true, "0\n", ""),
            ("system_profiler", _) => answered(true, &profile, ""),
            _ => Err(ToolError::NotFound),
        })
        .await;
        assert_eq!(hw.kind, GpuKind::Apple);
        assert_eq!(hw.gpus[0].name, "Apple M3 Max (40-core GPU)");
        assert_eq!(hw.gpu_memory(), Some(48 * GIB_BYTES));
        assert!(hw.note.as_deref().unwrap().contains("75% of 64.0 GiB"));
        assert_eq!(
            asked,
            vec![
                "sysctl -n machdep.cpu.brand_string",
                "system_profiler SPDisplaysDataType -json",
                "sysctl -n hw.memsize",
                "sysctl -n iogpu.wired_limit_mb",
            ],
            "no nvidia-smi or rocm-smi on a Mac"
        );
    }

    #[tokio::test]
    async fn a_mac_without_system_profiler_or_the_wired_limit_still_has_its_gpu() {
        let (hw, _) = detect_on_mac(|program, args| match (program, args.last().copied()) {
            ("sysctl", Some("machdep.cpu.brand_string")) => answered(true, "Apple M1\n", ""),
            ("sysctl", Some("hw.memsize")) => answered(true, MEMSIZE_16_GIB, ""),
            // macOS 13 and older do not know the name.
            ("sysctl", _) => answered(
                false,
                "",
                "sysctl: unknown oid 'iogpu.wired_limit_mb'\n",
            ),
            _ => Err(ToolError::TimedOut(Duration::from_secs(5))),
        })
        .await;
        assert_eq!(hw.kind, GpuKind::Apple);
        assert_eq!(hw.gpus[0].name, "Apple M1");
        assert_eq!(hw.gpus[0].compute_capability, None);
        assert_eq!(hw.gpu_memory(), Some(metal_default_budget(16 * GIB_BYTES)));
        assert_eq!(
            hw.summary(),
            "Apple M1, 10.7 GiB GPU budget, bf16: the estimate budgets 67% of 16.0 GiB unified memory, \
             Metal's default working set; `sudo sysctl iogpu.wired_limit_mb=<MiB>` raises it until the \
             next restart"
        );
    }

    #[tokio::test]
    async fn an_intel_mac_trains_on_the_cpu_and_says_why() {
        let intel = r#"{"SPDisplaysDataType": [{"sppci_model": "Intel Iris Plus Graphics",
            "spdisplays_vendor": "sppci_vendor_intel"}]}"#;
        let (hw, asked) = detect_on_mac(|program, _| match program {
            "sysctl" => answered(true, "Intel(R) Core(TM) i5-1038NG7 CPU @ 2.00GHz\n", ""),
            _ => answered(true, intel, ""),
        })
        .await;
        assert_eq!(hw.kind, GpuKind::None);
        assert_eq!(
            hw.note.as_deref(),
            Some(
                "Intel(R) Core(TM) i5-1038NG7 CPU @ 2.00GHz is not Apple silicon: MLX and Metal \
                 training need an M-series Mac"
            )
        );
        assert_eq!(asked.len(), 2, "{asked:?}");
    }

    #[tokio::test]
    async fn a_mac_whose_memory_cannot_be_read_says_so() {
        let (hw, _) = detect_on_mac(|program, args| match (program, args.last().copied()) {
            ("sysctl", Some("machdep.cpu.brand_string")) => answered(true, "Apple M2\n", ""),
            ("sysctl", _) => Err(ToolError::NotFound),
            _ => answered(true, "{}", ""),
        })
        .await;
        assert_eq!(hw.kind, GpuKind::None);
        assert_eq!(hw.note.as_deref(), Some("sysctl not found"));
    }

    #[test]
    fn apple_hardware_round_trips_through_json() {
        let hw = apple_silicon(Some("Apple M1"), 16 * GIB_BYTES, None, None);
        let json = serde_json::to_value(&hw).unwrap();
        assert_eq!(json["kind"], "apple");
        assert_eq!(serde_json::from_value::<Hardware>(json).unwrap(), hw);
    }

    // --- Hardware ---------------------------------------------------------------------------

    #[test]
    fn cpu_only_has_no_gpu_and_says_so() {
        let hw = Hardware::cpu_only();
        assert_eq!(hw.kind, GpuKind::None);
        assert_eq!(hw.count(), 0);
        assert_eq!(hw.first(), None);
        assert_eq!(hw.gpu_memory(), None);
        assert!(!hw.bf16());
        assert_eq!(hw.summary(), "no GPU: training runs on the CPU");
    }

    #[test]
    fn hardware_serialises_with_snake_case_kind() {
        let hw = Hardware::cpu_only_because("nvidia-smi not found; rocm-smi not found".into());
        let json = serde_json::to_value(&hw).unwrap();
        assert_eq!(json["kind"], "none");
        assert_eq!(serde_json::to_value(GpuKind::Nvidia).unwrap(), "nvidia");
        assert_eq!(serde_json::from_value::<Hardware>(json).unwrap(), hw);
    }

    // --- probing ----------------------------------------------------------------------------

    fn answered(success: bool, stdout: &str, stderr: &str) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput {
            success,
            status: if success {
                "exit status: 0"
            } else {
                "exit status: 2"
            }
            .to_owned(),
            stdout: stdout.to_owned(),
            stderr: stderr.to_owned(),
        })
    }

    /// Runs `detect_with` against canned answers and records every command it asked for.
    async fn detect_from(
        answer: impl Fn(&str, &[&str]) -> Result<ToolOutput, ToolError>,
    ) -> (Hardware, Vec<String>) {
        detect_on(false, answer).await
    }

    /// [`detect_from`] on a Mac.
    async fn detect_on_mac(
        answer: impl Fn(&str, &[&str]) -> Result<ToolOutput, ToolError>,
    ) -> (Hardware, Vec<String>) {
        detect_on(true, answer).await
    }

    async fn detect_on(
        mac: bool,
        answer: impl Fn(&str, &[&str]) -> Result<ToolOutput, ToolError>,
    ) -> (Hardware, Vec<String>) {
        let asked = std::sync::Mutex::new(Vec::new());
        let hw = detect_with(mac, |program, args| {
            asked
                .lock()
                .unwrap()
                .push(format!("{program} {}", args.join(" ")));
            std::future::ready(answer(program, args))
        })
        .await;
        (hw, asked.into_inner().unwrap())
    }

    #[tokio::test]
    async fn no_tools_installed_means_cpu_only_with_a_note() {
        let (hw, asked) = detect_from(|_, _| Err(ToolError::NotFound)).await;
        assert_eq!(
            hw,
            Hardware::cpu_only_because("nvidia-smi not found; rocm-smi not found".into())
        );
        assert_eq!(asked.len(), 2);
    }

    #[tokio::test]
    async fn nvidia_answer_wins_and_rocm_is_not_asked() {
        let csv = fixture!("nvidia-8x-a800.csv");
        let (hw, asked) = detect_from(|_, _| answered(true, &csv, "")).await;
        assert_eq!(hw.kind, GpuKind::Nvidia);
        assert_eq!(hw.count(), 8);
        assert_eq!(hw.note, None);
        assert_eq!(
            asked,
            vec!["nvidia-smi --query-gpu=name,memory.total,memory.free,compute_cap --format=csv,noheader,nounits"]
        );
    }

    #[tokio::test]
    async fn old_driver_is_asked_again_without_compute_cap() {
        let refusal = fixture!("nvidia-compute-cap-unknown.txt");
        let (hw, asked) = detect_from(|_, args| {
            if args[0].contains("compute_cap") {
                answered(false, &refusal, "")
            } else {
                answered(true, "NVIDIA GeForce RTX 2080 SUPER, 8192, 7571\n", "")
            }
        })
        .await;
        assert_eq!(hw.kind, GpuKind::Nvidia);
        assert_eq!(hw.gpus[0].compute_capability, None);
        assert!(!hw.bf16(), "a Turing name means fp16");
        assert_eq!(
            asked[1],
            "nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits"
        );
    }

    #[tokio::test]
    async fn broken_nvidia_driver_falls_through_to_rocm() {
        let json = fixture!("rocm-rx7900xt.json");
        let (hw, asked) = detect_from(|program, _| match program {
            "nvidia-smi" => answered(
                false,
                "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
                "",
            ),
            _ => answered(true, &json, ""),
        })
        .await;
        assert_eq!(hw.kind, GpuKind::Amd);
        assert_eq!(hw.gpus[0].name, "Radeon RX 7900 XT");
        assert_eq!(
            asked[1],
            "rocm-smi --showproductname --showmeminfo vram --json"
        );
    }

    #[tokio::test]
    async fn notes_say_what_each_tool_did() {
        let (hw, _) = detect_from(|program, _| match program {
            "nvidia-smi" => answered(false, "No devices were found\n", ""),
            _ => Err(ToolError::TimedOut(Duration::from_secs(5))),
        })
        .await;
        assert_eq!(
            hw.note.as_deref(),
            Some("nvidia-smi found no GPU; rocm-smi did not answer within 5 s")
        );

        let (hw, _) = detect_from(|program, _| match program {
            "nvidia-smi" => answered(
                false,
                "",
                "Failed to initialize NVML: Driver/library version mismatch\n",
            ),
            _ => answered(true, "{}", ""),
        })
        .await;
        assert_eq!(
            hw.note.as_deref(),
            Some(
                "nvidia-smi failed (exit status: 2): Failed to initialize NVML: Driver/library version mismatch; \
                 rocm-smi lists no GPU"
            )
        );
    }

    #[tokio::test]
    async fn a_missing_program_is_not_found() {
        let out = run_tool(
            "garden-eden-no-such-gpu-tool",
            &["--json"],
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(out.unwrap_err(), ToolError::NotFound);
    }

    #[tokio::test]
    async fn a_probe_that_hangs_is_stopped_at_its_time_limit() {
        let started = Instant::now();
        let out = run_tool("sleep", &["30"], Duration::from_millis(200)).await;
        assert_eq!(
            out.unwrap_err(),
            ToolError::TimedOut(Duration::from_millis(200))
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_probe_that_answers_is_captured() {
        let out = run_tool(
            "echo",
            &["NVIDIA GB10, [N/A], [N/A], 12.1"],
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert!(out.success);
        assert_eq!(out.stdout, "NVIDIA GB10, [N/A], [N/A], 12.1\n");
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_probe_until_it_expires() {
        let slot = Mutex::new(None);
        let probes = Arc::new(AtomicUsize::new(0));
        let probe = || {
            let probes = Arc::clone(&probes);
            async move {
                probes.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Hardware::cpu_only()
            }
        };
        let (a, b) = tokio::join!(
            cached(&slot, CACHE_FOR, probe),
            cached(&slot, CACHE_FOR, probe)
        );
        assert_eq!(a, b);
        assert_eq!(probes.load(Ordering::SeqCst), 1);
        cached(&slot, Duration::ZERO, probe).await;
        assert_eq!(probes.load(Ordering::SeqCst), 2);
    }
}
