//! The export formats and what each writes.

#[allow(unused_imports)]
use super::*;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Alpaca,
    Sharegpt,
    Jsonl,
    Openai,
    Kto,
    /// Preference pairs (chosen and rejected answers to one prompt) from side-by-side votes and
    /// thumbs: LLaMA-Factory's ranking format, built by [`super::pairs`].
    Pairs,
}

impl Format {
    /// The formats written from conversations (the streaming exporter's).
    pub const ALL: [Format; 5] = [Format::Alpaca, Format::Sharegpt, Format::Jsonl, Format::Openai, Format::Kto];
    /// Every format, the preference pairs included.
    pub const EVERY: [Format; 6] = [Format::Alpaca, Format::Sharegpt, Format::Jsonl, Format::Openai, Format::Kto, Format::Pairs];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Alpaca => "alpaca",
            Format::Sharegpt => "sharegpt",
            Format::Jsonl => "jsonl",
            Format::Openai => "openai",
            Format::Kto => "kto",
            Format::Pairs => "pairs",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Alpaca => "Alpaca (instruction/input/output, with system and history)",
            Format::Sharegpt => "ShareGPT (conversations of from/value)",
            Format::Jsonl => "JSONL (system, user, assistant, satisfaction, timestamp)",
            Format::Openai => "OpenAI messages (role/content)",
            Format::Kto => "KTO (thumbs as kto_tag)",
            Format::Pairs => "Preference pairs (chosen/rejected, from votes and thumbs) for DPO/ORPO",
        }
    }

    /// JSON arrays for Alpaca and ShareGPT; one JSON object a line for the others.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Alpaca | Format::Sharegpt => "json",
            Format::Jsonl | Format::Openai | Format::Kto | Format::Pairs => "jsonl",
        }
    }

    pub(crate) fn is_array(self) -> bool {
        self.extension() == "json"
    }

    /// The dataset_info.json entry LLaMA-Factory reads this format with.
    pub fn dataset_info(self, file_name: &str) -> Value {
        let openai_tags = json!({
            "role_tag": "role", "content_tag": "content", "user_tag": "user",
            "assistant_tag": "assistant", "system_tag": "system"
        });
        match self {
            Format::Alpaca => json!({
                "file_name": file_name,
                "columns": {"prompt": "instruction", "query": "input", "response": "output",
                            "system": "system", "history": "history"}
            }),
            Format::Sharegpt => json!({
                "file_name": file_name,
                "formatting": "sharegpt",
                "columns": {"messages": "conversations"},
                "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human",
                         "assistant_tag": "gpt", "system_tag": "system"}
            }),
            Format::Jsonl => json!({
                "file_name": file_name,
                "columns": {"prompt": "user", "response": "assistant", "system": "system"}
            }),
            Format::Openai => json!({
                "file_name": file_name,
                "formatting": "sharegpt",
                "columns": {"messages": "messages"},
                "tags": openai_tags
            }),
            Format::Kto => json!({
                "file_name": file_name,
                "formatting": "sharegpt",
                "columns": {"messages": "messages", "kto_tag": "kto_tag"},
                "tags": openai_tags
            }),
            Format::Pairs => json!({
                "file_name": file_name,
                "formatting": "sharegpt",
                "ranking": true,
                "columns": {"messages": "messages", "chosen": "chosen", "rejected": "rejected"},
                "tags": openai_tags
            }),
        }
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Format> {
        Format::EVERY
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                Error::invalid(
                    "format",
                    format!("'{s}' is not one of alpaca, sharegpt, jsonl, openai, kto, pairs"),
                )
            })
    }
}
