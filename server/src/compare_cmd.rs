//! `garden-eden compare`: side by side from the terminal, the same core as the Compare page
//! (`garden_core::compare::compare` and `compare::vote`), so the votes feed the same preference
//! pairs (`export-training-data --format pairs`).
//!
//! Blind by default: the core shuffles the sides and the answers are printed as A (its left) and
//! B (its right) with the models hidden until the vote. `--vote` names an answer as printed;
//! without it a terminal asks, and elsewhere the comparison's id is printed so that
//! `garden-eden compare --id ID --vote …` can vote later. `--reveal` compares openly: A is the
//! model given as `--a`, B the one given as `--b`.

use std::io::{IsTerminal, Write};

use anyhow::{bail, Context};
use clap::Args;
use garden_core::chat::Hub;
use garden_core::compare::{self, Arm, Comparison, Winner};
use garden_core::Studio;

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The prompt both models answer.
    #[arg(long, short = 'm', required_unless_present = "id")]
    pub message: Option<String>,
    /// One model (name or id from `garden-eden models list`).
    #[arg(long, required_unless_present = "id")]
    pub a: Option<String>,
    /// The other model.
    #[arg(long, required_unless_present = "id")]
    pub b: Option<String>,
    /// The better answer, as printed: a, b, tie or both-bad (both unusable). Without it, a
    /// terminal asks.
    #[arg(long, value_name = "a|b|tie|both-bad", value_parser = ["a", "b", "tie", "both-bad", "both_bad"])]
    pub vote: Option<String>,
    /// Not blind: A is --a's answer and B is --b's, with the models named.
    #[arg(long)]
    pub reveal: bool,
    /// Vote on an earlier comparison (the id it printed) instead of starting one.
    #[arg(long, conflicts_with_all = ["message", "a", "b", "reveal"], requires = "vote")]
    pub id: Option<String>,
    /// Print the comparison as JSON (models only once revealed).
    #[arg(long)]
    pub json: bool,
}

/// The arm printed under a label: A is the core's left side, B its right.
fn arm_of(c: &Comparison, label: char) -> Arm {
    if label == 'A' { c.left_arm } else { c.left_arm.other() }
}

/// The label an arm is printed under.
fn label_of(c: &Comparison, arm: Arm) -> char {
    if arm == c.left_arm { 'A' } else { 'B' }
}

/// A vote as typed (`a`, `b` by their printed label; `tie`; `both-bad`) → the stored winner.
fn winner(c: &Comparison, typed: &str) -> anyhow::Result<Winner> {
    Ok(match typed.trim().to_ascii_lowercase().as_str() {
        "a" => Winner::of(arm_of(c, 'A')),
        "b" => Winner::of(arm_of(c, 'B')),
        "tie" => Winner::Tie,
        "both-bad" | "both_bad" | "bothbad" => Winner::BothBad,
        other => bail!("'{other}' is not a vote: use a, b, tie or both-bad"),
    })
}

fn answer(c: &Comparison, arm: Arm) -> Option<&str> {
    match arm {
        Arm::A => c.answer_a.as_deref(),
        Arm::B => c.answer_b.as_deref(),
    }
}

fn model(c: &Comparison, arm: Arm) -> &str {
    match arm {
        Arm::A => &c.endpoint_a.name,
        Arm::B => &c.endpoint_b.name,
    }
}

/// Models are shown once voted, or when the comparison is not blind.
fn revealed(c: &Comparison) -> bool {
    c.winner.is_some() || !c.blind
}

fn print_answers(c: &Comparison) {
    println!("Prompt: {}", c.prompt);
    for label in ['A', 'B'] {
        let arm = arm_of(c, label);
        println!();
        if revealed(c) {
            println!("── {label}: {} ──", model(c, arm));
        } else {
            println!("── {label} ──");
        }
        println!("{}", answer(c, arm).unwrap_or("(no answer)"));
    }
    println!();
}

fn print_vote(c: &Comparison) {
    let names = format!("A was {}, B was {}", model(c, arm_of(c, 'A')), model(c, arm_of(c, 'B')));
    match c.winner {
        Some(Winner::A) | Some(Winner::B) => {
            let arm = if c.winner == Some(Winner::A) { Arm::A } else { Arm::B };
            println!("Voted {}: {} is better ({names}).", label_of(c, arm), model(c, arm));
        }
        Some(Winner::Tie) => println!("Voted a tie ({names})."),
        Some(Winner::BothBad) => println!("Voted both bad ({names})."),
        None => {}
    }
}

fn json_of(c: &Comparison) -> serde_json::Value {
    let winner = c.winner.map(|w| match w {
        Winner::A => label_of(c, Arm::A).to_ascii_lowercase().to_string(),
        Winner::B => label_of(c, Arm::B).to_ascii_lowercase().to_string(),
        Winner::Tie => "tie".to_owned(),
        Winner::BothBad => "both-bad".to_owned(),
    });
    serde_json::json!({
        "id": c.id,
        "prompt": c.prompt,
        "blind": c.blind,
        "answers": {"a": answer(c, arm_of(c, 'A')), "b": answer(c, arm_of(c, 'B'))},
        "models": revealed(c).then(|| serde_json::json!({"a": model(c, arm_of(c, 'A')), "b": model(c, arm_of(c, 'B'))})),
        "vote": winner,
    })
}

async fn record(studio: &Studio, c: &Comparison, typed: &str) -> anyhow::Result<Comparison> {
    let w = winner(c, typed)?;
    let id = c.id.clone();
    Ok(studio.db().call(move |conn| compare::vote(conn, &id, w)).await?)
}

pub async fn compare(studio: Studio, args: CompareArgs) -> anyhow::Result<()> {
    if let Some(id) = &args.id {
        // Vote on an earlier comparison.
        let id = id.clone();
        let c = studio.db().call(move |conn| compare::get_comparison(conn, &id)).await?;
        if let Some(w) = c.winner {
            bail!("comparison {} already has a vote ({})", c.id, w.as_str());
        }
        let c = record(&studio, &c, args.vote.as_deref().unwrap_or_default()).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&json_of(&c))?);
        } else {
            print_vote(&c);
        }
        return Ok(());
    }
    let (Some(prompt), Some(a), Some(b)) = (args.message.as_deref(), args.a.as_deref(), args.b.as_deref()) else {
        bail!("give -m PROMPT, --a MODEL and --b MODEL (or --id ID --vote …)");
    };
    let hub = Hub::new();
    let started = compare::compare(&studio, &hub, prompt, a, b, !args.reveal, Some("cli".into())).await?;
    if !args.json {
        eprintln!(
            "Comparison {}: {} answer{}",
            started.id,
            if started.blind { "two models, blind:" } else { "side by side:" },
            if started.blind { "s as A and B, the models hidden until you vote" } else { "s" }
        );
    }
    // Both answers stream at once; each is stored as it finishes.
    let mut failures = Vec::new();
    for (arm, turn) in [(Arm::A, &started.turn_a), (Arm::B, &started.turn_b)] {
        let Some(turn) = turn else { continue };
        if let Some(snapshot) = hub.wait(turn).await {
            if let Some(error) = snapshot.error {
                failures.push(format!("{}: {error}", model(&started, arm)));
            }
        }
    }
    let id = started.id.clone();
    let mut c = studio.db().call(move |conn| compare::get_comparison(conn, &id)).await?;
    if !failures.is_empty() {
        bail!("no vote possible, an answer is missing: {}", failures.join("; "));
    }
    if !args.json {
        print_answers(&c);
    }
    let typed = match &args.vote {
        Some(v) => Some(v.clone()),
        None if !args.json && std::io::stdin().is_terminal() => {
            eprint!("Which is better? a, b, tie or both-bad (Enter: no vote) ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("reading the vote")?;
            Some(line.trim().to_owned()).filter(|l| !l.is_empty())
        }
        None => None,
    };
    if let Some(typed) = typed {
        c = record(&studio, &c, &typed).await?;
        if !args.json {
            print_vote(&c);
        }
    } else if !args.json {
        println!("Not voted. To vote: garden-eden compare --id {} --vote a|b|tie|both-bad", c.id);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json_of(&c))?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use garden_core::infer::{Endpoint, Kind};

    fn comparison(left: Arm, blind: bool) -> Comparison {
        let endpoint = |id: &str| Endpoint {
            id: id.into(),
            name: id.into(),
            kind: Kind::Ollama,
            url: "http://127.0.0.1:9".into(),
            model: format!("{id}:1"),
            adapter_id: None,
            created_at: 0,
        };
        Comparison {
            id: "c".into(),
            prompt: "p".into(),
            endpoint_a: endpoint("base"),
            endpoint_b: endpoint("eden"),
            answer_a: Some("from base".into()),
            answer_b: Some("from eden".into()),
            left_arm: left,
            blind,
            winner: None,
            prompt_set: None,
            created_at: 0,
            turn_a: None,
            turn_b: None,
        }
    }

    #[test]
    fn a_vote_names_the_answer_as_printed() {
        // Shuffled: the left answer (printed A) is eden's, model B.
        let c = comparison(Arm::B, true);
        assert_eq!(answer(&c, arm_of(&c, 'A')), Some("from eden"));
        assert_eq!(winner(&c, "a").unwrap(), Winner::B);
        assert_eq!(winner(&c, "B").unwrap(), Winner::A);
        assert_eq!(winner(&c, "both-bad").unwrap(), Winner::BothBad);
        assert!(winner(&c, "left").is_err());
        let j = json_of(&c);
        assert_eq!(j["answers"]["a"], "from eden");
        assert!(j["models"].is_null(), "blind: no models before the vote");
        let voted = Comparison { winner: Some(Winner::B), ..c };
        let j = json_of(&voted);
        assert_eq!((j["vote"].as_str(), j["models"]["a"].as_str()), (Some("a"), Some("eden")));
        // Not blind: A is --a.
        let open = comparison(Arm::A, false);
        assert_eq!(winner(&open, "a").unwrap(), Winner::A);
        assert_eq!(json_of(&open)["models"]["a"], "base");
    }
}
