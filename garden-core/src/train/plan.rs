//! Before launch, for the wizard and `garden-eden train` alike: the GPU a run is planned for, the
//! base model's precision chosen for it, the memory verdict, and the extras the settings need.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use super::estimate::{recommend, verdict_for, ModelShape, Target, Verdict};
use super::extras::{self, ExtraStatus};
use crate::hardware::Hardware;

const GIB: u64 = 1 << 30;

/// The GPU the estimate and the precision are for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedTarget {
    pub target: Option<Target>,
    /// For sentences: "NVIDIA GeForce RTX 4090", "24 GB GPU (planned)".
    pub name: String,
    /// Whether it is this machine's own GPU.
    pub detected: bool,
}

/// This machine's GPU, unless the person plans for another one (`planned_gb` of memory, `gpus`
/// of them).
pub fn target(hardware: &Hardware, planned_gb: Option<u64>, gpus: Option<u32>) -> PlannedTarget {
    match planned_gb {
        Some(gb) => PlannedTarget {
            target: Some(Target { memory_bytes: gb.saturating_mul(GIB), count: gpus.unwrap_or(1).max(1) }),
            name: format!("{gb} GB GPU (planned)"),
            detected: false,
        },
        None => match (hardware.first(), hardware.gpu_memory()) {
            (Some(gpu), Some(memory)) => PlannedTarget {
                target: Some(Target { memory_bytes: memory, count: gpus.unwrap_or_else(|| hardware.count() as u32).max(1) }),
                name: gpu.name.clone(),
                detected: true,
            },
            _ => PlannedTarget { target: None, name: "CPU".into(), detected: true },
        },
    }
}

/// Chooses the base model's precision for the target when the person left it to garden-eden
/// (full when it fits with margin, else 4-bit QLoRA): changes `config` and returns the sentence
/// that explains it. `None` when the model's shape is unknown (nothing is changed then).
pub fn choose_precision(config: &mut TrainConfig, target: &PlannedTarget) -> Option<String> {
    let shape = ModelShape::lookup(&config.model_name_or_path).ok()?;
    let r = recommend(&shape, config, target.target, &target.name);
    r.apply(config);
    Some(r.sentence)
}

/// The memory verdict for the target (an error sentence when the model's shape is unknown).
pub fn memory(config: &TrainConfig, target: &PlannedTarget) -> Result<Verdict, String> {
    ModelShape::lookup(&config.model_name_or_path)
        .map(|shape| verdict_for(&shape, config, target.target))
        .map_err(|e| e.to_string())
}

/// The extras the settings need that the trainer's Python lacks (none when it cannot be asked:
/// the launch itself then says what is wrong).
pub async fn missing_extras(python: &Path, config: &TrainConfig) -> Vec<ExtraStatus> {
    extras::missing(python, &config.needed_extras()).await.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::{Gpu, GpuKind};

    fn rtx(gb: u64) -> Hardware {
        Hardware {
            kind: GpuKind::Nvidia,
            gpus: vec![Gpu {
                name: "NVIDIA GeForce RTX 4090".into(),
                total_bytes: gb * GIB,
                free_bytes: Some(gb * GIB),
                compute_capability: Some("8.9".into()),
                bf16: true,
            }],
            note: None,
        }
    }

    #[test]
    fn the_guides_default_on_a_24_gb_gpu_is_qlora() {
        let t = target(&rtx(24), None, None);
        assert!(t.detected && t.name.contains("4090"));
        let mut c = TrainConfig { dataset: "d".into(), ..TrainConfig::default() };
        let sentence = choose_precision(&mut c, &t).unwrap();
        assert_eq!(c.quantization_bit, Some(4), "{sentence}");
        assert!(sentence.contains("RTX 4090"), "{sentence}");
        assert_eq!(memory(&c, &t).unwrap().fit, super::super::estimate::Fit::Fits);
    }

    #[test]
    fn planning_for_another_gpu_or_the_cpu() {
        let cpu = target(&Hardware::cpu_only(), None, None);
        assert_eq!(cpu.target, None);
        let planned = target(&Hardware::cpu_only(), Some(80), Some(2));
        assert_eq!(planned.target, Some(Target { memory_bytes: 80 * GIB, count: 2 }));
        assert!(!planned.detected);
        let mut c = TrainConfig::default();
        assert!(choose_precision(&mut c, &planned).unwrap().starts_with("Full precision"));
        assert_eq!(c.quantization_bit, None);
        let mut unknown = TrainConfig { model_name_or_path: "someone/unknown-model".into(), ..TrainConfig::default() };
        assert_eq!(choose_precision(&mut unknown, &planned), None);
        assert!(memory(&unknown, &planned).is_err());
    }
}
