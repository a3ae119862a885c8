//! Health checks, conversations, imports and exported datasets: the core's own
//! `garden_types::data` types, as the server functions return them, and the pickers' choices.

pub use garden_types::data::{
    CheckStatus, ConversationDetail, ConversationPage, ConversationSummary, DatasetView, ExportParams, Health, ImportReport, Journey,
    JourneyStep,
    MessageView, PreviewView, Role,
};

/// The export formats, for the format picker.
pub const FORMATS: [(&str, &str); 5] = [
    ("alpaca", "Alpaca (instruction/input/output, with system and history)"),
    ("sharegpt", "ShareGPT (conversations of from/value)"),
    ("jsonl", "JSONL (system, user, assistant, satisfaction, timestamp)"),
    ("openai", "OpenAI messages (role/content)"),
    ("kto", "KTO (thumbs as kto_tag)"),
];

/// The importers, for the kind picker.
pub const IMPORT_KINDS: [(&str, &str); 6] = [
    ("goe-v3", "Garden of Eden V3 database (.db)"),
    ("openwebui", "Open WebUI chat export (.json)"),
    ("chatgpt", "ChatGPT conversations.json"),
    ("sharegpt", "ShareGPT (.json / .jsonl)"),
    ("alpaca", "Alpaca (.json / .jsonl)"),
    ("jsonl", "JSONL: system, user, assistant, satisfaction"),
];
