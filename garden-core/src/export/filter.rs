//! What an export takes: the conversation filter and the curation settings.

#[allow(unused_imports)]
use super::*;

/// Which conversations go into a dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataFilter {
    pub min_satisfaction: Option<f64>,
    pub min_message_length: Option<usize>,
    pub max_message_length: Option<usize>,
    pub positive_only: bool,
    pub exclude_negative: bool,
    pub min_turns: Option<usize>,
    /// Unix ms, inclusive.
    pub since: Option<i64>,
    /// Unix ms, exclusive.
    pub until: Option<i64>,
    pub limit: Option<usize>,
}

impl DataFilter {
    /// Checks the values make sense together; the error names the field.
    pub fn validate(&self) -> Result<()> {
        if let Some(s) = self.min_satisfaction {
            if !(0.0..=1.0).contains(&s) {
                return Err(Error::invalid("min_satisfaction", format!("{s} is outside 0..1")));
            }
        }
        if let (Some(min), Some(max)) = (self.min_message_length, self.max_message_length) {
            if min > max {
                return Err(Error::invalid(
                    "max_message_length",
                    format!("{max} is below min_message_length {min}"),
                ));
            }
        }
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if since >= until {
                return Err(Error::invalid("until", "must be after since"));
            }
        }
        if self.limit == Some(0) {
            return Err(Error::invalid("limit", "must be at least 1"));
        }
        if self.positive_only && self.min_satisfaction.is_some_and(|s| s < 0.0) {
            return Err(Error::invalid("min_satisfaction", "must be 0..1"));
        }
        Ok(())
    }

    /// The part of the filter that needs only the conversation's satisfaction: checked before its
    /// messages are read.
    pub(crate) fn passes_score(&self, score: Option<f64>) -> bool {
        if let Some(min) = self.min_satisfaction {
            if !score.is_some_and(|s| s >= min - 1e-9) {
                return false;
            }
        }
        if self.positive_only && !score.is_some_and(|s| s > 0.5) {
            return false;
        }
        !(self.exclude_negative && score.is_some_and(|s| s < 0.5))
    }

    pub(super) fn passes(&self, conversation: &Conversation<'_>) -> bool {
        if !self.passes_score(conversation.score) {
            return false;
        }
        if let Some(min) = self.min_turns {
            if conversation.turns.len() < min {
                return false;
            }
        }
        if self.min_message_length.is_some() || self.max_message_length.is_some() {
            let min = self.min_message_length.unwrap_or(0);
            let max = self.max_message_length.unwrap_or(usize::MAX);
            let ok = |text: &str| {
                let n = text.chars().count();
                n >= min && n <= max
            };
            if !conversation.turns.iter().all(|t| ok(&t.user) && ok(&t.assistant)) {
                return false;
            }
        }
        true
    }
}


/// Curation applied after the filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Curation {
    /// Drop exact and near duplicates (normalised text).
    pub dedupe: bool,
    /// Replace emails, phone numbers, IPs, URL credentials, API keys, card numbers.
    pub scrub_pii: bool,
    /// Share of examples held out for validation (0 = none).
    pub validation_ratio: f64,
    /// Seed of the split: the same seed gives the same split.
    pub seed: u64,
}

impl Default for Curation {
    fn default() -> Self {
        Curation { dedupe: true, scrub_pii: true, validation_ratio: 0.1, seed: 42 }
    }
}

impl Curation {
    pub fn validate(&self) -> Result<()> {
        if !(0.0..0.9).contains(&self.validation_ratio) {
            return Err(Error::invalid(
                "validation_ratio",
                format!("{} must be at least 0 and below 0.9", self.validation_ratio),
            ));
        }
        Ok(())
    }
}
