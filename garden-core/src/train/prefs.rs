//! Preference stages: which stage a dataset trains, whether its data can (both KTO classes, enough
//! DPO pairs), KTO's class weights from its counts, and the adapter a preference run starts from.
//!
//! - A dataset's natural stage follows its format: `kto` exports train KTO, `pairs` exports DPO
//!   (with `pref_loss` sigmoid, orpo or simpo), every other export SFT. Another combination is
//!   refused: LLaMA-Factory would read a KTO or pairs file wrongly as supervised data.
//! - KTO needs answers rated up and answers rated down in the training split: one class alone is
//!   refused, with the counts. The weights make both classes weigh the same in total
//!   (`kto_chosen_weight × ups = kto_rejected_weight × downs`, the smaller class weighted up,
//!   the larger at 1), inside the 1:1 to 4:3 range the KTO paper advises.
//! - DPO needs at least [`MIN_PAIRS`] pairs in the training split.
//! - A preference run trains on top of the current adapter (the active one, when it was trained
//!   on the same base model and is a PEFT adapter): `adapter_name_or_path`, the usual recipe of
//!   SFT first, preferences after. With DPO's sigmoid loss the reference model is then that same
//!   adapter on the base (`ref_model` + `ref_model_adapters`), so the loss measures the move away
//!   from where training started, not from the bare base; ORPO and SimPO need no reference.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::config::{Stage, TrainConfig};
use crate::error::{Error, Result};
use crate::export::{Dataset, Format};

pub use garden_types::prefs::{KtoBalance, PairCounts, PrefLoss, StageData};

/// The fewest training pairs a DPO run is started with.
pub const MIN_PAIRS: u64 = 4;

/// The stage a dataset of this format trains.
pub fn stage_for(format: Format) -> Stage {
    match format {
        Format::Kto => Stage::Kto,
        Format::Pairs => Stage::Dpo,
        Format::Alpaca | Format::Sharegpt | Format::Jsonl | Format::Openai => Stage::Sft,
    }
}

/// Counts the `kto_tag`s of a KTO export's training file and weighs the classes.
pub fn kto_balance(train_file: &Path) -> Result<KtoBalance> {
    let file = std::fs::File::open(train_file).map_err(|e| Error::io("reading", train_file, e))?;
    let (mut desirable, mut undesirable) = (0u64, 0u64);
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io("reading", train_file, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line).map_err(|e| Error::Import {
            path: train_file.to_owned(),
            place: format!("line {}", n + 1),
            message: e.to_string(),
        })?;
        match value.get("kto_tag").and_then(serde_json::Value::as_bool) {
            Some(true) => desirable += 1,
            Some(false) => undesirable += 1,
            None => {
                return Err(Error::Import {
                    path: train_file.to_owned(),
                    place: format!("line {}", n + 1),
                    message: "has no boolean kto_tag: is this a KTO export?".into(),
                })
            }
        }
    }
    Ok(balance(desirable, undesirable))
}

/// The weights for these counts (1 and 1 when a class is empty: such data is refused anyway).
pub fn balance(desirable: u64, undesirable: u64) -> KtoBalance {
    let round = |w: f64| (w * 1e4).round() / 1e4;
    let (chosen_weight, rejected_weight) = match (desirable, undesirable) {
        (0, _) | (_, 0) => (1.0, 1.0),
        (d, u) if d >= u => (1.0, round(d as f64 / u as f64)),
        (d, u) => (round(u as f64 / d as f64), 1.0),
    };
    KtoBalance { desirable, undesirable, chosen_weight, rejected_weight }
}

/// The pairs of a pairs dataset, by source (its metadata; empty for an older row).
pub fn pair_counts(dataset: &Dataset) -> PairCounts {
    dataset.counts.pairs.clone().unwrap_or_default()
}

/// What `stage` would train on with `dataset`, and why it cannot when it cannot.
pub fn stage_data(stage: Stage, dataset: &Dataset) -> Result<StageData> {
    let natural = stage_for(dataset.format);
    let train = dataset.examples.saturating_sub(dataset.validation);
    let mut data = StageData {
        stage,
        label: stage.label().to_owned(),
        explanation: stage.explanation().to_owned(),
        examples: train,
        kto: None,
        pairs: None,
        refusal: None,
    };
    if stage != natural {
        let export = match stage {
            Stage::Sft => "alpaca, sharegpt or openai",
            Stage::Kto => "kto",
            Stage::Dpo => "pairs",
        };
        data.refusal = Some(format!(
            "stage {} trains on a {export} export, and {} is a {} export (it trains with stage {}): export the data \
             with `garden-eden export-training-data --format {}`, or train this dataset with stage {}",
            stage.as_str(),
            dataset.name,
            dataset.format.as_str(),
            natural.as_str(),
            export.split(',').next().unwrap_or(export),
            natural.as_str()
        ));
        return Ok(data);
    }
    match stage {
        Stage::Sft => {}
        Stage::Kto => {
            let b = kto_balance(Path::new(&dataset.path))?;
            data.examples = b.desirable + b.undesirable;
            if b.desirable == 0 || b.undesirable == 0 {
                let (have, missing) = if b.desirable == 0 { ("down", "up") } else { ("up", "down") };
                data.refusal = Some(format!(
                    "KTO needs answers rated up and answers rated down, and {} has {} rated up and {} rated down for \
                     training: it would only learn one direction. Rate some answers {missing} (Chat, or the \
                     Conversations page), export KTO again, and train that; or train SFT on your good conversations \
                     (all {} of these are rated {have})",
                    dataset.name,
                    b.desirable,
                    b.undesirable,
                    b.desirable + b.undesirable
                ));
            }
            data.kto = Some(b);
        }
        Stage::Dpo => {
            let pairs = pair_counts(dataset);
            if train < MIN_PAIRS {
                data.refusal = Some(format!(
                    "DPO needs at least {MIN_PAIRS} preference pairs for training, and {} has {train} ({} pairs from votes, \
                     {} from thumbs, {} held out for validation): vote for the better answer in Compare (ties and \
                     \"both bad\" give no pair), or rate two answers to the same question one up and one down, then \
                     export pairs again",
                    dataset.name, pairs.from_votes, pairs.from_thumbs, dataset.validation
                ));
            }
            data.pairs = Some(pairs);
        }
    }
    Ok(data)
}

/// The adapter a preference run starts from: the active one, when it is a PEFT adapter trained on
/// this base model (its folder still there).
pub fn starting_adapter(conn: &Connection, base_model: &str) -> Result<Option<crate::adapters::Adapter>> {
    let Some(active) = crate::adapters::active(conn)? else { return Ok(None) };
    let same_base = active.base_model == base_model
        || active.base_path.as_deref().is_some_and(|p| same_path(Path::new(p), Path::new(base_model)));
    let peft = active.format != crate::adapters::WeightsFormat::Mlx;
    Ok((same_base && peft && Path::new(&active.path).join("adapter_config.json").is_file()).then_some(active))
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Readies `config` for its stage on `dataset`: refuses data the stage cannot train on (the
/// error says the counts and what to do), sets KTO's weights, and for a preference stage with no
/// adapter of its own starts from [`starting_adapter`] (and, for DPO with the sigmoid loss, takes
/// that adapter as the reference). Returns what the review shows.
pub fn prepare(conn: &Connection, config: &mut TrainConfig, dataset: &Dataset) -> Result<StageData> {
    let data = stage_data(config.stage, dataset)?;
    if let Some(refusal) = &data.refusal {
        return Err(Error::invalid("stage", refusal.clone()));
    }
    if let Some(b) = &data.kto {
        config.kto_chosen_weight = b.chosen_weight;
        config.kto_rejected_weight = b.rejected_weight;
    }
    if config.stage.is_preference() && config.adapter_name_or_path.is_none() {
        if let Some(a) = starting_adapter(conn, &config.model_name_or_path)? {
            config.adapter_name_or_path = Some(PathBuf::from(&a.path));
        }
    }
    config.ref_adapter = match (config.stage, config.pref_loss.reference_free(), &config.adapter_name_or_path) {
        (Stage::Dpo, false, Some(adapter)) => Some(adapter.clone()),
        _ => None,
    };
    Ok(data)
}

/// Checks, without changing anything, that `config` can train on `dataset` (the supervisor's last
/// word before a run is queued).
pub fn check(config: &TrainConfig, dataset: &Dataset) -> Result<()> {
    match stage_data(config.stage, dataset)?.refusal {
        Some(refusal) => Err(Error::invalid("stage", refusal)),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// What the trainer logs about preferences
// ---------------------------------------------------------------------------------------------

/// The launcher that runs a preference stage (LLaMA-Factory's `run_exp` with one more callback,
/// which writes [`PREFS_LOG`] as the trainer logs).
pub const LAUNCHER: &str = include_str!("prefs_train.py");
/// Its file name in the run's folder.
pub const LAUNCHER_FILE: &str = "prefs_train.py";
/// The log it writes in the output folder: `{"step": N, "logs": {every number logged}}` a line.
pub const PREFS_LOG: &str = "prefs_log.jsonl";

use crate::train::runs::MetricPoint;

/// A point's preference values from one logged dict (`rewards/chosen`, `eval_rewards/margins`,
/// KTO's `kl`, …). KTO logs sums and counts on some versions (`rewards/chosen_sum`,
/// `count/chosen`): their mean is taken; a margin missing where both rewards are known is their
/// difference. `None` when the dict has none of them.
pub fn pref_point(step: i64, logs: &serde_json::Map<String, serde_json::Value>) -> Option<MetricPoint> {
    let get = |k: &str| logs.get(k).and_then(serde_json::Value::as_f64).filter(|v| v.is_finite());
    let side = |prefix: &str, side: &str| {
        get(&format!("{prefix}rewards/{side}")).or_else(|| {
            match (get(&format!("{prefix}rewards/{side}_sum")), get(&format!("{prefix}count/{side}"))) {
                (Some(sum), Some(n)) if n > 0.0 => Some(sum / n),
                _ => None,
            }
        })
    };
    let mut p = MetricPoint::at_step(step);
    for prefix in ["", "eval_"] {
        let (chosen, rejected) = (side(prefix, "chosen"), side(prefix, "rejected"));
        let margins = get(&format!("{prefix}rewards/margins")).or_else(|| Some(chosen? - rejected?));
        let accuracies = get(&format!("{prefix}rewards/accuracies"));
        if prefix.is_empty() {
            (p.rewards_chosen, p.rewards_rejected, p.rewards_margins, p.rewards_accuracies) = (chosen, rejected, margins, accuracies);
        } else {
            (p.eval_rewards_chosen, p.eval_rewards_rejected, p.eval_rewards_margins, p.eval_rewards_accuracies) =
                (chosen, rejected, margins, accuracies);
        }
    }
    // KTO logs its KL unprefixed at evaluation too (LLaMA-Factory 0.9.5 prefixes only the rewards,
    // log-probabilities and logits): an evaluation's KL is not the training KL of that step.
    let evaluation = logs.keys().any(|k| k.starts_with("eval_"));
    p.kl = if evaluation { None } else { get("kl") };
    p.has_rewards().then_some(p)
}

/// One line of [`PREFS_LOG`] (`None` for a line without preference values, or not JSON).
pub fn parse_prefs_line(line: &str) -> Option<MetricPoint> {
    let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    pref_point(v.get("step")?.as_i64()?, v.get("logs")?.as_object()?)
}

/// Every preference point of a `trainer_state.json` (its `log_history`, which the trainer writes
/// at each checkpoint and at the end): the record that does not depend on the launcher.
pub fn points_from_trainer_state(path: &Path) -> Result<Vec<MetricPoint>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("reading", path, e)),
    };
    let state: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Import {
        path: path.to_owned(),
        place: "the file".into(),
        message: e.to_string(),
    })?;
    Ok(state
        .get("log_history")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.as_object()?;
            pref_point(entry.get("step")?.as_i64()?, entry)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_balance_the_classes() {
        let b = balance(30, 10);
        assert_eq!((b.chosen_weight, b.rejected_weight), (1.0, 3.0));
        assert!((b.chosen_weight * 30.0 / (b.rejected_weight * 10.0) - 1.0).abs() < 1e-9);
        let b = balance(2, 7);
        assert_eq!((b.chosen_weight, b.rejected_weight), (3.5, 1.0));
        let b = balance(3, 7);
        assert_eq!(b.chosen_weight, 2.3333);
        // The ratio stays inside the KTO paper's 1:1 to 4:3 even after rounding.
        let ratio = b.chosen_weight * 3.0 / 7.0;
        assert!((0.99..=4.0 / 3.0).contains(&ratio), "{ratio}");
        assert_eq!(balance(5, 0), KtoBalance { desirable: 5, undesirable: 0, chosen_weight: 1.0, rejected_weight: 1.0 });
    }

    #[test]
    fn preference_values_are_read_from_dpo_and_kto_logs() {
        let dpo = parse_prefs_line(
            r#"{"step": 3, "logs": {"loss": 0.69, "rewards/chosen": 0.02, "rewards/rejected": -0.01, "rewards/accuracies": 0.5, "rewards/margins": 0.03, "epoch": 1.0}}"#,
        )
        .unwrap();
        assert_eq!(dpo.step, 3);
        assert_eq!((dpo.rewards_chosen, dpo.rewards_rejected, dpo.rewards_margins, dpo.rewards_accuracies), (Some(0.02), Some(-0.01), Some(0.03), Some(0.5)));
        assert_eq!(dpo.loss, None, "the loss comes from trainer_log.jsonl");
        let eval = parse_prefs_line(r#"{"step": 4, "logs": {"eval_loss": 0.6, "eval_rewards/margins": 0.1, "eval_rewards/accuracies": 1.0}}"#).unwrap();
        assert_eq!((eval.eval_rewards_margins, eval.eval_rewards_accuracies, eval.rewards_margins), (Some(0.1), Some(1.0), None));
        // KTO: sums and counts, and the KL.
        let kto = parse_prefs_line(
            r#"{"step": 2, "logs": {"loss": 0.5, "rewards/chosen_sum": 0.6, "count/chosen": 3, "rewards/rejected_sum": -0.2, "count/rejected": 1, "kl": 0.0}}"#,
        )
        .unwrap();
        assert!((kto.rewards_chosen.unwrap() - 0.2).abs() < 1e-12);
        assert!((kto.rewards_margins.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(kto.kl, Some(0.0));
        // LLaMA-Factory 0.9.5's KTO: means and the margin computed by the trainer; the KL of an
        // evaluation comes unprefixed beside the eval_ values and is not taken as training's.
        let kto = parse_prefs_line(
            r#"{"step": 4, "logs": {"loss": 0.5, "rewards/chosen": 0.3, "logps/chosen": -80.0, "rewards/rejected": -0.1, "rewards/margins": 0.4, "kl": 1.5}}"#,
        )
        .unwrap();
        assert_eq!((kto.rewards_chosen, kto.rewards_rejected, kto.rewards_margins, kto.kl), (Some(0.3), Some(-0.1), Some(0.4), Some(1.5)));
        let eval = parse_prefs_line(
            r#"{"step": 4, "logs": {"eval_loss": 0.4, "eval_rewards/chosen": 0.2, "eval_rewards/rejected": 0.0, "eval_rewards/margins": 0.2, "kl": 2.0}}"#,
        )
        .unwrap();
        assert_eq!((eval.eval_rewards_margins, eval.kl, eval.rewards_chosen), (Some(0.2), None, None));
        assert!(parse_prefs_line(r#"{"step": 1, "logs": {"loss": 0.7, "learning_rate": 0.001}}"#).is_none());
        assert!(parse_prefs_line("{not json").is_none());
    }

    #[test]
    fn each_format_has_its_stage() {
        assert_eq!(stage_for(Format::Kto), Stage::Kto);
        assert_eq!(stage_for(Format::Pairs), Stage::Dpo);
        for f in [Format::Alpaca, Format::Sharegpt, Format::Jsonl, Format::Openai] {
            assert_eq!(stage_for(f), Stage::Sft);
        }
    }
}
