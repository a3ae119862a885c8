//! A client for Ollama's documented REST API (docs/api.md): version, blobs, create (streamed),
//! chat, tags. Nothing else: no CLI, no Modelfile upload (the API has no `modelfile` field any
//! more).

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::infer::ChatMessage;
use futures_util::StreamExt;

/// The first Ollama release that refuses to create models with an ADAPTER layer.
pub const ADAPTERS_REFUSED_FROM: (u64, u64, u64) = (0, 34, 1);

#[derive(Debug, Clone)]
pub struct Ollama {
    url: String,
    http: reqwest::Client,
}

/// `POST /api/create`'s body.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateRequest {
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub files: Map<String, Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub adapters: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub parameters: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantize: Option<String>,
    pub stream: bool,
}

/// `0.34.1`, `v0.5.7`, `0.35.0-rc2` → (major, minor, patch); `None` when unreadable.
pub fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.trim().trim_start_matches('v').split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>());
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

/// Whether this Ollama version still creates models from a base plus an ADAPTER layer. An
/// unreadable version is treated as current (the merged route works everywhere).
pub fn accepts_adapters(version: &str) -> bool {
    parse_version(version).is_some_and(|v| v < ADAPTERS_REFUSED_FROM)
}

/// `sha256:<hex>` of a file.
/// `sha256:<hex>` of a file, hashed on a blocking thread (and remembered while it is unchanged).
pub async fn digest_of(path: &Path) -> Result<String> {
    Ok(format!("sha256:{}", crate::fsutil::sha256_file_cached(path).await?))
}

impl Ollama {
    pub fn new(url: &str) -> Ollama {
        Ollama { url: url.trim_end_matches('/').to_string(), http: crate::http::client() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn err(&self, message: impl Into<String>) -> Error {
        Error::Service { service: "Ollama", url: self.url.clone(), message: message.into() }
    }

    fn send_err(&self, e: &reqwest::Error) -> Error {
        if e.is_connect() {
            self.err("nothing answers there: is Ollama running? Start it with `ollama serve`, or set the Ollama URL")
        } else if e.is_timeout() {
            self.err("it did not answer in time")
        } else {
            self.err(e.to_string())
        }
    }

    /// The error Ollama put in a non-2xx answer (`{"error": "…"}`), or the status.
    async fn status_err(&self, what: &str, resp: reqwest::Response) -> Error {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let msg = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(String::from))
            .unwrap_or_else(|| text.chars().take(300).collect());
        self.err(format!("{what} failed ({status}): {msg}"))
    }

    /// `GET /api/version`.
    pub async fn version(&self) -> Result<String> {
        let resp = self
            .http
            .get(format!("{}/api/version", self.url))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| self.send_err(&e))?;
        if !resp.status().is_success() {
            return Err(self.status_err("asking its version", resp).await);
        }
        let v: Value = resp.json().await.map_err(|e| self.err(format!("its version answer is not JSON: {e}")))?;
        v.get("version").and_then(Value::as_str).map(String::from).ok_or_else(|| self.err("its version answer has no \"version\""))
    }

    /// `GET /api/tags`: the model names it has.
    pub async fn tags(&self) -> Result<Vec<String>> {
        let resp = self.http.get(format!("{}/api/tags", self.url)).send().await.map_err(|e| self.send_err(&e))?;
        if !resp.status().is_success() {
            return Err(self.status_err("listing models", resp).await);
        }
        let v: Value = resp.json().await.map_err(|e| self.err(e.to_string()))?;
        Ok(v.get("models")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|m| m.get("name").and_then(Value::as_str).map(String::from)).collect())
            .unwrap_or_default())
    }

    /// `HEAD /api/blobs/<digest>`: whether Ollama already has the blob.
    pub async fn has_blob(&self, digest: &str) -> Result<bool> {
        let resp = self.http.head(format!("{}/api/blobs/{digest}", self.url)).send().await.map_err(|e| self.send_err(&e))?;
        Ok(resp.status().is_success())
    }

    /// Uploads a file as a blob unless Ollama has it (`HEAD`, then `POST /api/blobs/<digest>`).
    /// Returns whether it was uploaded.
    pub async fn push_blob(&self, path: &Path, digest: &str) -> Result<bool> {
        if self.has_blob(digest).await? {
            return Ok(false);
        }
        let file = tokio::fs::File::open(path).await.map_err(|e| Error::io("opening", path, e))?;
        let len = file.metadata().await.map_err(|e| Error::io("reading", path, e))?.len();
        let resp = self
            .http
            .post(format!("{}/api/blobs/{digest}", self.url))
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(reqwest::Body::from(file))
            .send()
            .await
            .map_err(|e| self.send_err(&e))?;
        if !resp.status().is_success() {
            return Err(self.status_err(&format!("uploading {}", path.display()), resp).await);
        }
        Ok(true)
    }

    /// `POST /api/create`, streamed: `on_status` sees each status line; the call ends at
    /// `{"status":"success"}` or fails with the `{"error": …}` Ollama sent.
    pub async fn create(&self, req: &CreateRequest, mut on_status: impl FnMut(&str)) -> Result<()> {
        let resp = self
            .http
            .post(format!("{}/api/create", self.url))
            .json(&CreateRequest { stream: true, ..req.clone() })
            .send()
            .await
            .map_err(|e| self.send_err(&e))?;
        if !resp.status().is_success() {
            return Err(self.status_err(&format!("creating {}", req.model), resp).await);
        }
        let mut success = false;
        let mut lines = std::pin::pin!(crate::http::lines(resp));
        while let Some(line) = lines.next().await {
            let line = line.map_err(|e| self.err(format!("the create stream broke: {}", crate::http::line_error(&e))))?;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line).map_err(|_| self.err(format!("unexpected create output: {line}")))?;
            if let Some(e) = v.get("error").and_then(Value::as_str) {
                return Err(self.err(format!("creating {} failed: {e}", req.model)));
            }
            if let Some(s) = v.get("status").and_then(Value::as_str) {
                on_status(s);
                if s == "success" {
                    success = true;
                }
            }
        }
        if success {
            Ok(())
        } else {
            Err(self.err(format!("creating {}: the stream ended without success", req.model)))
        }
    }

    /// `POST /api/chat` without streaming: the assistant's answer.
    pub async fn chat(&self, model: &str, messages: &[ChatMessage], options: Option<Value>) -> Result<String> {
        let mut body = json!({"model": model, "messages": messages, "stream": false});
        if let Some(o) = options {
            body["options"] = o;
        }
        let resp = self
            .http
            .post(format!("{}/api/chat", self.url))
            .json(&body)
            .timeout(Duration::from_secs(300))
            .send()
            .await
            .map_err(|e| self.send_err(&e))?;
        if !resp.status().is_success() {
            return Err(self.status_err(&format!("chatting with {model}"), resp).await);
        }
        let v: Value = resp.json().await.map_err(|e| self.err(format!("its chat answer is not JSON: {e}")))?;
        v.pointer("/message/content")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| self.err("its chat answer has no message"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_decide_the_route() {
        assert_eq!(parse_version("v0.5.7"), Some((0, 5, 7)));
        assert_eq!(parse_version("0.34.1-rc0"), Some((0, 34, 1)));
        assert!(accepts_adapters("0.5.7"));
        assert!(accepts_adapters("0.34.0"));
        assert!(!accepts_adapters("0.34.1"));
        assert!(!accepts_adapters("0.40.0"));
        assert!(!accepts_adapters("1.0"));
        assert!(!accepts_adapters("garbage"));
    }
}
