//! Learning from judgements: the training stages (SFT, KTO, DPO), the preference losses, and what
//! the preference data holds (thumbs up and down, pairs by source), as the review and the
//! registry show them.

use serde::{Deserialize, Serialize};

/// What a run teaches (LLaMA-Factory's `stage`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Supervised fine-tuning on the conversations that pass the filter.
    #[default]
    Sft,
    /// Kahneman–Tversky optimisation from answers rated up or down (`kto_tag`).
    Kto,
    /// Direct preference optimisation (and its reference-free relatives ORPO and SimPO) from
    /// pairs of a chosen and a rejected answer to the same prompt.
    Dpo,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Sft, Stage::Kto, Stage::Dpo];

    /// The stored string (and the serde name, and LLaMA-Factory's `stage`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Sft => "sft",
            Stage::Kto => "kto",
            Stage::Dpo => "dpo",
        }
    }

    /// For people, as the wizard offers it.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Sft => "Train on your good conversations (SFT)",
            Stage::Kto => "Learn from thumbs up and down (KTO)",
            Stage::Dpo => "Learn from your side-by-side choices (DPO/ORPO)",
        }
    }

    /// One sentence on what it does.
    pub fn explanation(self) -> &'static str {
        match self {
            Stage::Sft => "The model learns to answer the way your best-rated conversations did.",
            Stage::Kto => "The model is pushed towards answers you rated up and away from answers you rated down; each rating counts on its own.",
            Stage::Dpo => "For each prompt the model learns to prefer the answer you chose over the one you did not.",
        }
    }

    /// Whether it learns from judgements (KTO, DPO) rather than from examples alone.
    pub fn is_preference(self) -> bool {
        !matches!(self, Stage::Sft)
    }
}

one_string_each!(Stage, "stage", "sft, kto or dpo");

/// The loss a DPO-stage run minimises (LLaMA-Factory's `pref_loss`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrefLoss {
    /// DPO's own loss: needs a reference model (the base, or the adapter training started from).
    #[default]
    Sigmoid,
    /// ORPO: the odds-ratio loss plus the chosen answer's likelihood. Reference-free.
    Orpo,
    /// SimPO: length-normalised margin with a target gap. Reference-free.
    Simpo,
}

impl PrefLoss {
    pub const ALL: [PrefLoss; 3] = [PrefLoss::Sigmoid, PrefLoss::Orpo, PrefLoss::Simpo];

    /// The stored string (and the serde name, and LLaMA-Factory's `pref_loss`).
    pub fn as_str(self) -> &'static str {
        match self {
            PrefLoss::Sigmoid => "sigmoid",
            PrefLoss::Orpo => "orpo",
            PrefLoss::Simpo => "simpo",
        }
    }

    /// ORPO and SimPO need no reference model (LLaMA-Factory loads none for them): half the
    /// forward passes and no second copy of the weights.
    pub fn reference_free(self) -> bool {
        matches!(self, PrefLoss::Orpo | PrefLoss::Simpo)
    }
}

one_string_each!(PrefLoss, "pref_loss", "sigmoid, orpo or simpo");

/// Preference pairs by where they came from, and what gave none (a pairs dataset's metadata).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PairCounts {
    /// Side-by-side votes cast (in the date range).
    pub votes: u64,
    /// Of those, ties and "both bad": they give no pair.
    pub ties: u64,
    pub both_bad: u64,
    /// Votes whose two answers were the same text: no preference to learn.
    pub same_answers: u64,
    /// Answers rated with a thumb (in the date range).
    pub rated_answers: u64,
    /// Prompts (with the same history before them) that have an answer rated up and another
    /// rated down: each gives pairs.
    pub prompts_up_and_down: u64,
    /// Candidate pairs, by source, before the filter and curation.
    pub candidates_from_votes: u64,
    pub candidates_from_thumbs: u64,
    /// Candidate pairs the filter (message length, turns) left out.
    pub filtered: u64,
    /// Pairs written, by source.
    pub from_votes: u64,
    pub from_thumbs: u64,
}

/// A KTO dataset's classes and the weights that balance them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KtoBalance {
    /// Training examples rated up (`kto_tag: true`) and down.
    pub desirable: u64,
    pub undesirable: u64,
    /// LLaMA-Factory's `kto_chosen_weight` / `kto_rejected_weight`: the smaller class is weighted
    /// up so that both weigh the same in total (the KTO paper's advice: a ratio from 1:1 to 4:3).
    pub chosen_weight: f64,
    pub rejected_weight: f64,
}

/// What a stage would train on, as the wizard's data step and the review show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageData {
    pub stage: Stage,
    pub label: String,
    pub explanation: String,
    /// Training examples (SFT), rated answers (KTO) or pairs (DPO).
    pub examples: u64,
    /// KTO: the classes and their weights.
    pub kto: Option<KtoBalance>,
    /// DPO: the pairs by source.
    pub pairs: Option<PairCounts>,
    /// Why it cannot train yet, and what to do (`None`: it can).
    pub refusal: Option<String>,
}
