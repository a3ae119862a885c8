//! LLaMA-Factory: `run.yaml` and `llamafactory-cli train run.yaml` (the backend garden-eden runs).

use super::*;

pub(super) fn llama_factory(config: &TrainConfig, format: Format) -> Launch {
    let mut notes = vec![
        "Run where LLaMA-Factory is installed: llamafactory-cli train run.yaml. dataset_dir must hold the \
         export's dataset_info.json (garden-eden writes it next to the exported data)."
            .to_owned(),
        "Several GPUs, on one machine or several: LLaMA-Factory's own launcher runs torchrun: \
         FORCE_TORCHRUN=1 NNODES=<machines> NODE_RANK=<this machine, from 0> MASTER_ADDR=<first machine's address> \
         MASTER_PORT=29500 NPROC_PER_NODE=<GPUs per machine> llamafactory-cli train run.yaml \
         (one machine: NNODES=1 NODE_RANK=0 MASTER_ADDR=127.0.0.1)."
            .to_owned(),
        "DeepSpeed ZeRO: choose deepspeed z2 or z3 in the training settings; run.yaml then names \
         examples/deepspeed/ds_z2_config.json or ds_z3_config.json, relative to a LLaMA-Factory checkout \
         (run from there, or copy the file beside run.yaml and change the path). ZeRO-3 shards the weights \
         across the GPUs."
            .to_owned(),
        "garden-eden passes these settings through to LLaMA-Factory and its launcher; it never grows a \
         launcher of its own."
            .to_owned(),
    ];
    if config.precision == Precision::Auto {
        notes.push(
            "Precision auto is resolved for this machine: run.yaml has no bf16/fp16 line. On a GPU add \
             `bf16: true` (Ampere or newer) or `fp16: true` (older)."
                .to_owned(),
        );
    }
    if let Some(z) = config.deepspeed {
        let n = if z == ZeroStage::Zero2 { 2 } else { 3 };
        notes.push(format!("This config uses DeepSpeed ZeRO-{n}: launch it with FORCE_TORCHRUN=1 and NPROC_PER_NODE set to the GPU count."));
    }
    if format == Format::Kto && config.stage != crate::train::config::Stage::Kto {
        notes.push(
            "The dataset is a KTO export, but run.yaml trains supervised (stage: sft): for KTO set \
             stage: kto (and pref_beta) in run.yaml."
                .to_owned(),
        );
    }
    Launch {
        backend: Backend::LlamaFactory,
        files: vec![("run.yaml".to_owned(), config.to_yaml(crate::train::config::Device::Cpu))],
        command: argv(&["llamafactory-cli", "train", "run.yaml"]),
        notes,
    }
}
