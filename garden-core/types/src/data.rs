//! Health checks, conversations and imports.
//!
//! The core defines its rows with these types (`garden_core::doctor`, `conversations` and
//! `import` re-export them at their old paths); the web app shows them as they are. The serde
//! names are the stored ones: `messages.role` holds a [`Role`]'s `as_str`, and `imports.skipped`
//! holds a JSON list of [`Skipped`].

use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------------------------

/// How an environment check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Missing,
}

impl CheckStatus {
    /// `ok`, `warn` or `missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warn => "warn",
            CheckStatus::Missing => "missing",
        }
    }
}

impl std::fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One environment check, as `garden-eden doctor` prints it and the Home page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Stable key: `database`, `disk`, `python`, `llamafactory`, `llama_cpp`, `ollama`, `gpu`, `extras`.
    pub key: String,
    /// What was checked, for people.
    pub label: String,
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do about it, when it is not ok.
    pub fix: Option<String>,
}

impl Check {
    /// A check with no fix.
    pub fn new(key: &str, label: &str, status: CheckStatus, detail: impl Into<String>) -> Check {
        Check { key: key.to_owned(), label: label.to_owned(), status, detail: detail.into(), fix: None }
    }

    /// The same check with what to do about it.
    pub fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// The Home page's live status: the checks and what the database holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub checks: Vec<Check>,
    /// When the checks ran (Unix ms).
    pub checked_at: i64,
    /// Conversations stored.
    pub conversations: i64,
}

/// One step of the guided first run ("Start here"): what it is, whether it is done, and the page
/// where its work is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JourneyStep {
    /// `import`, `dataset`, `train`, `watch`, `adapter`, `deploy` or `compare` (the address's `step`).
    pub key: String,
    pub title: String,
    pub done: bool,
    /// One sentence: what is done, or what the step asks for and why.
    pub detail: String,
    /// The page where the work is done (the hand-off).
    pub href: String,
    /// The hand-off link's words.
    pub action: String,
}

/// The guided first run, from import to a blind comparison of the adapter with its base, as far
/// as the database shows it done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    pub steps: Vec<JourneyStep>,
}

impl Journey {
    /// The first step not done yet (None once every step is).
    pub fn next(&self) -> Option<usize> {
        self.steps.iter().position(|s| !s.done)
    }

    /// The step named `key`, by position.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.key == key)
    }
}

// ---------------------------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------------------------

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    /// The stored spelling: `system`, `user` or `assistant`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    /// `system`/`user`/`assistant`, plus the common aliases (`human`, `gpt`, `bot`, `model`).
    pub fn parse(s: &str) -> Option<Role> {
        // The stored spellings first, without allocating (exports call this per message).
        match s {
            "system" => return Some(Role::System),
            "user" => return Some(Role::User),
            "assistant" => return Some(Role::Assistant),
            _ => {}
        }
        match s.trim().to_ascii_lowercase().as_str() {
            "system" => Some(Role::System),
            "user" | "human" => Some(Role::User),
            "assistant" | "gpt" | "bot" | "model" | "ai" => Some(Role::Assistant),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What storing conversations did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreReport {
    /// Conversations added.
    pub conversations: usize,
    pub messages: usize,
    /// Thumbs and satisfactions added.
    pub ratings: usize,
    /// Conversations the source had already given (left as they were).
    pub already: usize,
}

/// A row of the Conversations list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    /// Where it came from: an import kind (`goe-v3`, `chatgpt`, …), `sample`, or `chat`.
    pub source: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub message_count: i64,
    /// The conversation's satisfaction (explicit, else the share of thumbs-up), 0..1.
    pub satisfaction: Option<f64>,
}

/// One page of the Conversations list, newest first, with the total that matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPage {
    pub items: Vec<ConversationSummary>,
    pub total: i64,
    /// Where the page starts and how long it may be.
    pub offset: u32,
    pub limit: u32,
    /// Every source present in the history (for the filter).
    pub sources: Vec<String>,
}

/// A message as shown in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    pub role: Role,
    pub content: String,
    pub created_at: i64,
    /// The model that wrote an answer, when known.
    pub model: Option<String>,
    /// 1 (up), -1 (down) or none.
    pub thumbs: Option<i8>,
}

/// One conversation with its messages and ratings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub summary: ConversationSummary,
    /// The explicit conversation-level satisfaction, if any (the summary's is the derived one).
    pub explicit_satisfaction: Option<f64>,
    pub messages: Vec<MessageView>,
}

// ---------------------------------------------------------------------------------------------
// Imports
// ---------------------------------------------------------------------------------------------

/// Something in the input that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Where: `conversation 3 (id abc), message 2`, `line 7`, `messages row id=m9`, …
    pub place: String,
    pub reason: String,
}

/// One import run: what was read, what was added, what was skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub id: String,
    /// The import kind's name (`goe-v3`, `chatgpt`, …), or `sample`.
    pub kind: String,
    /// The file imported (`(sample)` for the sample history).
    pub path: String,
    /// SHA-256 of the file (for `goe-v3`, of the database file).
    pub sha256: String,
    pub stored: StoreReport,
    pub skipped: Vec<Skipped>,
    /// Unix ms.
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_unchanged() {
        assert_eq!(serde_json::to_string(&CheckStatus::Missing).unwrap(), "\"missing\"");
        assert_eq!(serde_json::to_string(&Role::Assistant).unwrap(), "\"assistant\"");
        let skipped = vec![Skipped { place: "line 7".into(), reason: "empty".into() }];
        let json = serde_json::to_string(&skipped).unwrap();
        assert_eq!(json, r#"[{"place":"line 7","reason":"empty"}]"#);
        assert_eq!(serde_json::from_str::<Vec<Skipped>>(&json).unwrap(), skipped);
    }

    #[test]
    fn roles_parse_their_aliases() {
        for role in [Role::System, Role::User, Role::Assistant] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse(" Human "), Some(Role::User));
        assert_eq!(Role::parse("gpt"), Some(Role::Assistant));
        assert_eq!(Role::parse("tool"), None);
    }
}

/// Garden of Eden V3's database on this machine: where it was found, and where garden-eden looked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoeHere {
    pub found: Option<String>,
    pub looked: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Datasets
// ---------------------------------------------------------------------------------------------

/// The dataset step's settings, as the form and the URL carry them (strings, parsed and checked
/// by the core, `garden_core::export::request_from_params`, so that a bad value gets an error
/// naming its field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportParams {
    pub format: Option<String>,
    pub min_satisfaction: Option<String>,
    pub min_message_length: Option<String>,
    pub max_message_length: Option<String>,
    pub positive_only: Option<String>,
    pub exclude_negative: Option<String>,
    pub min_turns: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<String>,
    pub dedupe: Option<String>,
    pub scrub_pii: Option<String>,
    pub validation_ratio: Option<String>,
    pub seed: Option<String>,
    pub name: Option<String>,
    /// Present once the form was submitted: from then on an absent checkbox means "off".
    pub submitted: Option<String>,
}

impl ExportParams {
    /// Every field as (name, value), for links and hidden inputs.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let fields: [(&'static str, &Option<String>); 16] = [
            ("format", &self.format),
            ("min_satisfaction", &self.min_satisfaction),
            ("min_message_length", &self.min_message_length),
            ("max_message_length", &self.max_message_length),
            ("positive_only", &self.positive_only),
            ("exclude_negative", &self.exclude_negative),
            ("min_turns", &self.min_turns),
            ("since", &self.since),
            ("until", &self.until),
            ("limit", &self.limit),
            ("dedupe", &self.dedupe),
            ("scrub_pii", &self.scrub_pii),
            ("validation_ratio", &self.validation_ratio),
            ("seed", &self.seed),
            ("name", &self.name),
            ("submitted", &self.submitted),
        ];
        fields
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k, v.clone())))
            .collect()
    }

    /// Is a checkbox on? Before the first submit, the defaults apply.
    pub fn checked(&self, value: &Option<String>, default: bool) -> bool {
        if self.submitted.is_none() {
            value.is_some() || default
        } else {
            value.is_some()
        }
    }
}

/// Counts and the first examples of a prospective export, as the dataset step shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewView {
    /// The format's name (`alpaca`, `sharegpt`, …).
    pub format: String,
    pub conversations: u64,
    pub passed_filter: u64,
    pub examples: u64,
    pub exact_duplicates: u64,
    pub near_duplicates: u64,
    pub written: u64,
    pub train: u64,
    pub validation: u64,
    pub limited: bool,
    /// (kind, replacements), every kind in a fixed order.
    pub pii: Vec<(String, u64)>,
    pub avg_satisfaction: Option<f64>,
    pub chars_min: u64,
    pub chars_mean: f64,
    pub chars_max: u64,
    /// The first examples, exactly as they will be written.
    pub samples: Vec<String>,
}

/// An exported dataset, as the Datasets page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetView {
    pub id: String,
    pub name: String,
    /// The format's name (`alpaca`, `sharegpt`, …).
    pub format: String,
    pub examples: u64,
    pub validation: u64,
    pub avg_satisfaction: Option<f64>,
    pub path: String,
    pub validation_path: Option<String>,
    pub dataset_info: String,
    pub sha256: String,
    pub created_at: i64,
    /// "considered → passed filter → examples → written", in words.
    pub steps: Vec<(String, u64)>,
    /// The filter, in words.
    pub filter: Vec<String>,
}

#[cfg(test)]
mod dataset_tests {
    use super::*;

    #[test]
    fn checkboxes_take_their_defaults_until_the_form_is_submitted() {
        let fresh = ExportParams::default();
        assert!(fresh.checked(&fresh.dedupe, true));
        assert!(!fresh.checked(&fresh.positive_only, false));
        let submitted = ExportParams { submitted: Some("1".into()), ..Default::default() };
        assert!(!submitted.checked(&submitted.dedupe, true));
        let p = ExportParams { format: Some("kto".into()), name: Some(String::new()), ..Default::default() };
        assert_eq!(p.pairs(), [("format", "kto".to_owned())]);
    }
}
