//! The guided first run ("Start here"): the loop's seven steps for a first-time person, each
//! marked done from what the database holds, so the journey resumes wherever they left it. The
//! work itself is done on the real pages; this only says where, and what is next.

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;
use garden_types::data::{Journey, JourneyStep};

fn step(key: &str, title: &str, done: bool, detail: String, href: String, action: &str) -> JourneyStep {
    JourneyStep { key: key.into(), title: title.into(), done, detail, href, action: action.into() }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The journey as far as the database shows it done. One read transaction: one snapshot.
pub fn journey(conn: &Connection) -> Result<Journey> {
    let tx = conn.unchecked_transaction()?;

    let conversations = crate::conversations::count(&tx)?;
    let import = if conversations > 0 {
        step("import", "Bring in your history", true, format!("{} stored.", plural(conversations, "conversation", "conversations")), "/conversations".into(), "Look through them")
    } else {
        step(
            "import",
            "Bring in your history",
            false,
            "garden-eden learns from the conversations you had with your assistant and the feedback you gave. \
             Import a Garden of Eden V3 database, a ChatGPT export or JSONL, or load the sample history to try the loop first."
                .into(),
            "/import".into(),
            "Open Import",
        )
    };

    let dataset: Option<(String, i64)> =
        tx.query_row("SELECT name, examples FROM datasets ORDER BY created_at DESC, id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    let dataset = match dataset {
        Some((name, examples)) => step(
            "dataset",
            "Build a dataset",
            true,
            format!("{name}: {}.", plural(examples, "training example", "training examples")),
            "/datasets".into(),
            "See your datasets",
        ),
        None => step(
            "dataset",
            "Build a dataset",
            false,
            "Choose which conversations to learn from (by satisfaction, dates and turns), watch the count change, \
             and export them in the trainer's format."
                .into(),
            "/datasets/new".into(),
            "Build a dataset",
        ),
    };

    let run: Option<(String, String, String)> = tx
        .query_row("SELECT id, name, status FROM runs ORDER BY created_at DESC, id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let finished: Option<(String, String)> = tx
        .query_row("SELECT id, name FROM runs WHERE status = 'succeeded' ORDER BY created_at DESC, id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let train = match &run {
        Some((id, name, status)) => step("train", "Train a LoRA adapter", true, format!("{name} was started ({status})."), format!("/runs/{id}"), "Open the run"),
        None => step(
            "train",
            "Train a LoRA adapter",
            false,
            "The wizard picks a base model that fits this machine, sets up LoRA for it and shows you everything before it starts."
                .into(),
            "/train".into(),
            "Open the training wizard",
        ),
    };
    let watch = match (&finished, &run) {
        (Some((id, name)), _) => step("watch", "Watch it learn", true, format!("{name} finished: its loss curve and metrics are kept."), format!("/runs/{id}"), "Open the run"),
        (None, Some((id, name, status))) => {
            let detail = match status.as_str() {
                "queued" | "running" => format!("{name} is {status}: the loss is drawn live, step by step."),
                _ => format!("{name} ended {status}: its page says why and offers to resume or train again."),
            };
            step("watch", "Watch it learn", false, detail, format!("/runs/{id}"), "Open the run")
        }
        (None, None) => step(
            "watch",
            "Watch it learn",
            false,
            "Once a run starts, its loss and learning rate are drawn live, and it can be stopped and resumed.".into(),
            "/runs".into(),
            "Open Runs",
        ),
    };

    let adapter: Option<(String, String, String)> = tx
        .query_row("SELECT id, name, version FROM adapters ORDER BY created_at DESC, id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let adapter_step = match &adapter {
        Some((id, name, version)) => step("adapter", "Meet your adapter", true, format!("{name} {version} is registered, with its metrics and lineage."), format!("/adapters/{id}"), "Open the adapter"),
        None => step(
            "adapter",
            "Meet your adapter",
            false,
            "A run that succeeds registers its adapter: versioned, checksummed and linked to its data and run.".into(),
            "/adapters".into(),
            "Open Adapters",
        ),
    };

    let deployed: Option<String> =
        tx.query_row("SELECT model_name FROM deployments WHERE status = 'succeeded' ORDER BY created_at DESC, id LIMIT 1", [], |r| r.get(0)).optional()?;
    let served: Option<String> =
        tx.query_row("SELECT name FROM endpoints WHERE adapter_id IS NOT NULL ORDER BY created_at DESC, id LIMIT 1", [], |r| r.get(0)).optional()?;
    let adapter_page = |anchor: &str| adapter.as_ref().map(|(id, _, _)| format!("/adapters/{id}{anchor}")).unwrap_or_else(|| "/adapters".into());
    let deploy = match (deployed, served) {
        (Some(model), _) => step("deploy", "Deploy or serve it", true, format!("Deployed to Ollama as {model}."), "/chat".into(), "Chat with it"),
        (None, Some(name)) => step("deploy", "Deploy or serve it", true, format!("Served as the model {name}."), "/chat".into(), "Chat with it"),
        (None, None) => step(
            "deploy",
            "Deploy or serve it",
            false,
            "Deploy the adapter to Ollama from its page (garden-eden picks the route Ollama's version needs), \
             or serve it with llama.cpp and add that server as a model in Chat."
                .into(),
            adapter_page("#deploy"),
            "Deploy the adapter",
        ),
    };

    let votes: i64 = tx.query_row(
        "SELECT COUNT(*) FROM votes v WHERE v.winner IS NOT NULL AND v.blind = 1 AND EXISTS (
           SELECT 1 FROM endpoints e WHERE e.id IN (v.endpoint_a, v.endpoint_b) AND e.adapter_id IS NOT NULL)",
        [],
        |r| r.get(0),
    )?;
    let compare = if votes > 0 {
        step("compare", "Compare it with its base, blind", true, format!("{} cast without knowing which answer was which.", plural(votes, "blind vote", "blind votes")), "/experiments".into(), "Run an A/B experiment")
    } else {
        step(
            "compare",
            "Compare it with its base, blind",
            false,
            "Ask the adapter and its base model the same question side by side, without knowing which is which, and vote. \
             Your votes are evidence for promoting it, and data to learn from."
                .into(),
            "/compare".into(),
            "Open Compare",
        )
    };
    drop(tx);
    Ok(Journey { steps: vec![import, dataset, train, watch, adapter_step, deploy, compare] })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn state(j: &Journey) -> Vec<(&str, bool)> {
        j.steps.iter().map(|s| (s.key.as_str(), s.done)).collect()
    }

    #[test]
    fn each_step_is_done_by_what_the_database_holds_and_the_journey_resumes_at_the_first_undone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("db.sqlite3")).unwrap();
        let j = db.with_conn(|c| journey(c)).unwrap();
        assert_eq!(j.next(), Some(0));
        assert!(j.steps.iter().all(|s| !s.done));
        assert_eq!(j.steps[0].href, "/import");
        assert_eq!(j.position("compare"), Some(6));

        db.with_conn(|c| {
            let tx = c.transaction()?;
            tx.execute_batch(
                "INSERT INTO conversations (id, source, source_ref, title, created_at, updated_at) VALUES ('c1', 'test', 'r1', 'Hi', 1, 1);
                 INSERT INTO datasets (id, name, format, filter, counts, examples, validation, path, dataset_info, sha256, created_at)
                   VALUES ('d1', 'mine', 'alpaca', '{}', '{}', 12, 0, '/x', '/y', 'abc', 2);
                 INSERT INTO runs (id, name, backend, config, yaml, status, output_dir, log_path, created_at)
                   VALUES ('r1', 'first-run', 'llamafactory', '{}', '', 'running', '/o', '/l', 3);",
            )?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
        let j = db.with_conn(|c| journey(c)).unwrap();
        assert_eq!(state(&j)[..4], [("import", true), ("dataset", true), ("train", true), ("watch", false)]);
        assert_eq!(j.next(), Some(3));
        assert!(j.steps[1].detail.contains("mine: 12 training examples"), "{}", j.steps[1].detail);
        assert!(j.steps[3].detail.contains("running"), "{}", j.steps[3].detail);
        assert_eq!(j.steps[3].href, "/runs/r1");
        // No adapter yet: the deploy step hands off to the adapters list.
        assert_eq!(j.steps[5].href, "/adapters");

        db.with_conn(|c| {
            let tx = c.transaction()?;
            tx.execute_batch(
                "UPDATE runs SET status = 'succeeded';
                 INSERT INTO adapters (id, name, version, base_model, path, format, rank, alpha, target_modules, checksum, run_id, created_at)
                   VALUES ('a1', 'eden', '1.0.0', 'tiny', '/p', 'safetensors', 8, 16, '[]', 'c', 'r1', 4);",
            )?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
        let j = db.with_conn(|c| journey(c)).unwrap();
        assert_eq!(j.next(), Some(5));
        assert_eq!(j.steps[4].detail, "eden 1.0.0 is registered, with its metrics and lineage.");
        assert_eq!(j.steps[5].href, "/adapters/a1#deploy");

        db.with_conn(|c| {
            let tx = c.transaction()?;
            tx.execute_batch(
                "INSERT INTO endpoints (id, name, kind, url, model, adapter_id, created_at) VALUES ('e1', 'eden-llama', 'openai', 'http://127.0.0.1:1', 'm', 'a1', 5);
                 INSERT INTO endpoints (id, name, kind, url, model, created_at) VALUES ('e0', 'base', 'openai', 'http://127.0.0.1:1', 'b', 5);
                 INSERT INTO votes (id, prompt, endpoint_a, endpoint_b, left_arm, blind, created_at) VALUES ('v1', 'Hi', 'e0', 'e1', 'a', 1, 6);",
            )?;
            tx.commit()?;
            Ok(())
        })
        .unwrap();
        let j = db.with_conn(|c| journey(c)).unwrap();
        // Served counts as deployed; a vote not cast yet is no comparison.
        assert_eq!(j.steps[5].detail, "Served as the model eden-llama.");
        assert_eq!(j.next(), Some(6));
        db.with_conn(|c| Ok(c.execute("UPDATE votes SET winner = 'b', voted_at = 7", [])?)).unwrap();
        let j = db.with_conn(|c| journey(c)).unwrap();
        assert_eq!(j.next(), None);
        assert_eq!(j.steps[6].detail, "1 blind vote cast without knowing which answer was which.");
    }
}
