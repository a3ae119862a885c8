//! The guide's default Modelfile, for people who run `ollama create -f Modelfile` by hand.

use crate::error::{Error, Result};

/// The guide's sampling parameters.
pub const PARAMETERS: [(&str, f64); 4] = [("temperature", 0.8), ("top_p", 0.92), ("top_k", 45.0), ("repeat_penalty", 1.15)];

/// The system prompt used when the person gives none.
pub const DEFAULT_SYSTEM: &str = "You are a helpful, warm assistant personalised from the user's own conversations.";

/// Which Ollama versions accept what, shown next to the file.
pub const NOTE: &str = "Ollama before 0.34.1 accepts this Modelfile (`ollama create NAME -f Modelfile`), \
with the adapter in GGUF form for Qwen bases. Ollama 0.34.1 and later refuse to create models with ADAPTER: \
use Modelfile.merged, whose FROM is the merged model folder, or let garden-eden deploy (it picks the right route).";

fn check_system(system: &str) -> Result<()> {
    if system.contains("\"\"\"") {
        return Err(Error::invalid("system prompt", "it cannot contain three double quotes in a row (\"\"\"), which end the Modelfile's SYSTEM block"));
    }
    let t = system.trim();
    if t.starts_with('"') || t.ends_with('"') {
        return Err(Error::invalid(
            "system prompt",
            "it cannot start or end with a double quote: beside the Modelfile's \"\"\" it would end the SYSTEM block early",
        ));
    }
    if let Some(c) = system.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
        return Err(Error::invalid("system prompt", format!("it contains the control character U+{:04X}", c as u32)));
    }
    Ok(())
}

/// A `FROM`/`ADAPTER` value: one line, no control characters.
fn check_line(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() || value.chars().any(char::is_control) {
        return Err(Error::invalid(field, format!("{value:?} must be one line without control characters")));
    }
    Ok(())
}

fn tail(system: &str) -> String {
    let mut s = String::new();
    for (k, v) in PARAMETERS {
        s.push_str(&format!("PARAMETER {k} {v}\n"));
    }
    s.push_str(&format!("SYSTEM \"\"\"{}\"\"\"\n", system.trim()));
    s
}

/// `FROM <base>` / `ADAPTER <adapter>` / the guide's parameters / `SYSTEM """…"""`.
pub fn with_adapter(base: &str, adapter: &str, system: &str) -> Result<String> {
    check_system(system)?;
    check_line("base model", base)?;
    check_line("adapter", adapter)?;
    Ok(format!("FROM {base}\nADAPTER {adapter}\n{}", tail(system)))
}

/// The same for a merged model folder (what current Ollama accepts).
pub fn merged(model_dir: &str, system: &str) -> Result<String> {
    check_system(system)?;
    check_line("model folder", model_dir)?;
    Ok(format!("FROM {model_dir}\n{}", tail(system)))
}

/// The problems in a Modelfile, each with its line; empty when it is well-formed.
pub fn lint(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let (mut from, mut adapters, mut in_block) = (0, 0, false);
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if in_block {
            if t.contains("\"\"\"") {
                in_block = false;
            }
            continue;
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (word, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        match word.to_ascii_uppercase().as_str() {
            "FROM" => from += 1,
            "ADAPTER" => {
                adapters += 1;
                if rest.trim().is_empty() {
                    problems.push(format!("line {n}: ADAPTER needs a path"));
                }
            }
            "PARAMETER" => {
                if rest.split_whitespace().count() < 2 {
                    problems.push(format!("line {n}: PARAMETER needs a name and a value"));
                }
            }
            "SYSTEM" | "TEMPLATE" | "MESSAGE" | "LICENSE" => {
                let r = rest.trim();
                if r.starts_with("\"\"\"") && !r[3..].contains("\"\"\"") {
                    in_block = true;
                }
            }
            "REQUIRES" | "RENDERER" | "PARSER" => {}
            other => problems.push(format!("line {n}: unknown instruction {other}")),
        }
    }
    if in_block {
        problems.push("a \"\"\" block is never closed".into());
    }
    if from != 1 {
        problems.push(format!("there must be exactly one FROM line (found {from})"));
    }
    if adapters > 1 {
        problems.push(format!("Ollama takes one ADAPTER only (found {adapters})"));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_can_break_out_of_its_line_or_block() {
        let err = with_adapter("qwen2.5:14b\nADAPTER /etc/passwd\nSYSTEM x", "./a.gguf", "hi").unwrap_err();
        assert!(err.to_string().contains("one line"), "{err}");
        for bad in ["ends with a quote\"", "\"starts with one", "three \"\"\" quotes", "escape \u{1b}[2J"] {
            assert!(with_adapter("qwen2.5:14b", "./a.gguf", bad).is_err(), "{bad:?}");
        }
        let ok = with_adapter("qwen2.5:14b", "./a.gguf", "You are \"kind\", and brief.\nTwo lines.").unwrap();
        assert!(lint(&ok).is_empty(), "{ok}");
    }

    #[test]
    fn writes_the_seeds_modelfile_and_lints_it() {
        let m = with_adapter("qwen2.5:14b", "./adapter.gguf", "You are Eden.\nBe kind.").unwrap();
        assert_eq!(
            m,
            "FROM qwen2.5:14b\nADAPTER ./adapter.gguf\nPARAMETER temperature 0.8\nPARAMETER top_p 0.92\nPARAMETER top_k 45\n\
             PARAMETER repeat_penalty 1.15\nSYSTEM \"\"\"You are Eden.\nBe kind.\"\"\"\n"
        );
        assert!(lint(&m).is_empty(), "{:?}", lint(&m));
        assert!(with_adapter("b", "a", "x \"\"\" y").is_err());
        let bad = "ADAPTER\nFROM a\nFROM b\nPARAMETER top_k\nSYSTEM \"\"\"open";
        let p = lint(bad);
        assert!(p.iter().any(|s| s.contains("line 1: ADAPTER needs a path")), "{p:?}");
        assert!(p.iter().any(|s| s.contains("line 4")), "{p:?}");
        assert!(p.iter().any(|s| s.contains("never closed")), "{p:?}");
        assert!(p.iter().any(|s| s.contains("exactly one FROM")), "{p:?}");
    }
}
