//! Data shared by the server and the browser.

use serde::{Deserialize, Serialize};

/// How an environment check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Missing,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warn => "warn",
            CheckStatus::Missing => "missing",
        }
    }
}

/// One environment check, as `garden-eden doctor` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub key: String,
    pub label: String,
    pub status: CheckStatus,
    pub detail: String,
    pub fix: Option<String>,
}

/// The Home page's live status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub checks: Vec<Check>,
    pub checked_at: i64,
    pub conversations: i64,
}

/// A row of the Conversations list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRow {
    pub id: String,
    pub title: String,
    pub source: String,
    pub created_at: i64,
    pub message_count: i64,
    pub satisfaction: Option<f64>,
}

/// One page of the Conversations list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationPage {
    pub items: Vec<ConversationRow>,
    pub total: i64,
    pub offset: u32,
    pub limit: u32,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use garden_core::doctor;

    impl From<doctor::Status> for CheckStatus {
        fn from(s: doctor::Status) -> Self {
            match s {
                doctor::Status::Ok => CheckStatus::Ok,
                doctor::Status::Warn => CheckStatus::Warn,
                doctor::Status::Missing => CheckStatus::Missing,
            }
        }
    }

    impl From<doctor::Check> for Check {
        fn from(c: doctor::Check) -> Self {
            Check {
                key: c.key,
                label: c.label,
                status: c.status.into(),
                detail: c.detail,
                fix: c.fix,
            }
        }
    }

    impl From<garden_core::conversations::ConversationSummary> for ConversationRow {
        fn from(c: garden_core::conversations::ConversationSummary) -> Self {
            ConversationRow {
                id: c.id,
                title: c.title,
                source: c.source,
                created_at: c.created_at,
                message_count: c.message_count,
                satisfaction: c.satisfaction,
            }
        }
    }
}
