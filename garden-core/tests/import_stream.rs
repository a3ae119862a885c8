//! Streaming importers (issue 12): every JSON format reads the same conversations, skips and
//! places as the whole-file readers did, whatever the layout (array, JSON Lines, one object);
//! `parse` and `import_path` agree; a bad record late in a file stores nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use garden_core::conversations::{self, ListQuery};
use garden_core::db::Db;
use garden_core::import::{import_path, list_imports, parse, ImportKind, Parsed};

/// The modification time given to every fixture: the time of records that carry none.
const MTIME_S: u64 = 1_700_000_000;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(MTIME_S))
        .unwrap();
    path
}

/// A stable text form of everything a parse produced.
fn dump(parsed: &Parsed) -> String {
    let mut out = String::new();
    for c in &parsed.conversations {
        writeln!(
            out,
            "C {} | {} | {} | {:?}",
            c.source_ref, c.title, c.created_at, c.satisfaction
        )
        .unwrap();
        for m in &c.messages {
            writeln!(
                out,
                "  {} {} {:?} {:?} {:?}",
                m.role.as_str(),
                m.created_at,
                m.model,
                m.thumbs,
                m.content
            )
            .unwrap();
        }
    }
    for s in &parsed.skipped {
        writeln!(out, "S {}: {}", s.place, s.reason).unwrap();
    }
    out
}

const CHATGPT: &str = r#"[
 {"id": "g1", "title": "Current node", "create_time": 1735689600.5, "current_node": "a2",
  "mapping": {
   "r": {"id": "r", "message": null, "parent": null},
   "u1": {"parent": "r", "message": {"author": {"role": "user"}, "content": {"parts": ["질문 하나"]}, "create_time": 1735689601}},
   "a1": {"parent": "u1", "message": {"author": {"role": "assistant"}, "content": {"parts": ["answer", "two parts"]}, "create_time": 1735689602, "metadata": {"model_slug": "gpt-4o"}}},
   "x": {"parent": "a1", "message": {"author": {"role": "critic"}, "content": {"parts": ["odd role"]}}},
   "a2": {"parent": "x", "message": {"author": {"role": "assistant"}, "content": {"parts": ["last"]}}}
  }},
 {"conversation_id": "g2", "title": "  ", "mapping": {
   "u": {"parent": null, "message": {"author": {"role": "user"}, "content": {"parts": ["No   current\nnode here"]}, "create_time": 1735689700}},
   "old": {"parent": "u", "message": {"author": {"role": "assistant"}, "content": {"parts": ["old"]}, "create_time": 1735689701}},
   "new": {"parent": "u", "message": {"author": {"role": "assistant"}, "content": {"parts": ["new"]}, "create_time": 1735689702}}}},
 {"id": "g1", "title": "Repeat", "mapping": {"u": {"parent": null, "message": {"author": {"role": "user"}, "content": {"parts": ["again"]}}}}},
 {"id": "g3", "title": "Loop", "current_node": "a", "mapping": {"a": {"parent": "b", "message": null}, "b": {"parent": "a", "message": null}}},
 {"id": "g4", "title": "Empty", "mapping": {}},
 {"title": "No id", "mapping": {"u": {"parent": null, "message": {"author": {"role": "user"}, "content": {"parts": ["hashed"]}}},
   "a": {"parent": "u", "message": {"author": {"role": "assistant"}, "content": {"parts": ["ref"]}}}}}
]"#;

const OPENWEBUI: &str = r#"[
 {"id": "w1", "title": "Branching", "created_at": 1735689600, "chat": {"history": {"currentId": "a1", "messages": {
   "u1": {"parentId": null, "role": "user", "content": "서울 날씨?", "timestamp": 1735689601},
   "a0": {"parentId": "u1", "role": "assistant", "content": "old", "timestamp": 1735689602},
   "a1": {"parentId": "u1", "role": "assistant", "content": [{"type": "text", "text": "맑아요."}], "timestamp": 1735689603, "model": "llama3", "annotation": {"rating": 1}}}}}},
 {"id": "w2", "title": "", "chat": {"timestamp": 1735689000, "messages": [
   {"role": "user", "content": "Legacy"}, {"role": "tool", "content": "x"}, {"role": "assistant", "content": ""}, {"role": "assistant", "content": "ok", "rating": -1}]}},
 {"id": "w3", "chat": {"history": {"messages": {"a": {"parentId": "b", "role": "user", "content": "A"}, "b": {"parentId": "a", "role": "assistant", "content": "B"}}}}}
]"#;

const SHAREGPT: [&str; 4] = [
    r#"{"conversations": [{"from": "human", "value": "안녕?"}, {"from": "gpt", "value": "안녕하세요!"}], "system": "Be kind.", "timestamp": 1735689600}"#,
    r#"{"id": "s2", "title": "Parts", "messages": [{"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {}}]}, {"role": "assistant", "content": "A cat."}, {"role": "tool", "content": "{}"}]}"#,
    r#"{"conversations": [{"from": "system", "value": "only a system prompt"}]}"#,
    r#"{"id": "s2", "messages": [{"role": "user", "content": "dup"}, {"role": "assistant", "content": "dup"}]}"#,
];

const ALPACA: [&str; 4] = [
    r#"{"instruction": "Translate", "input": "고맙습니다", "output": "Thank you", "system": "You translate.", "history": [["Hi", "Hello"]], "created_at": "2025-01-01T00:00:00Z"}"#,
    r#"{"id": 7, "instruction": "Name a colour", "input": "", "output": "Blue"}"#,
    r#"{"instruction": "", "input": "", "output": "x"}"#,
    r#"{"instruction": "Empty answer", "output": ""}"#,
];

const JSONL: [&str; 4] = [
    r#"{"system": "너는 비서야.", "user": "오늘 날씨?", "assistant": "맑아요.", "satisfaction": 0.9, "timestamp": 1735689600}"#,
    r#"{"user": "ms time", "assistant": "ok", "satisfaction": 0, "timestamp": 1735689600123, "id": "j2"}"#,
    r#"{"messages": [{"role": "user", "content": "via messages"}, {"role": "robot", "content": "?"}, {"role": "assistant", "content": "fine"}], "title": "Titled"}"#,
    r#"{"user": "", "assistant": ""}"#,
];

/// The parse of every fixture, in every layout it can take.
fn parse_everything(dir: &Path) -> String {
    let mut out = String::new();
    let mut run = |label: &str, kind: ImportKind, name: &str, text: &str| {
        let path = write(dir, name, text);
        let parsed = parse(kind, &path).unwrap_or_else(|e| panic!("{label}: {e}"));
        writeln!(out, "## {label}\n{}", dump(&parsed)).unwrap();
    };
    run(
        "chatgpt",
        ImportKind::Chatgpt,
        "conversations.json",
        CHATGPT,
    );
    run("openwebui", ImportKind::OpenWebui, "webui.json", OPENWEBUI);
    let one_chat = serde_json::from_str::<serde_json::Value>(OPENWEBUI).unwrap()[0].clone();
    run(
        "openwebui single object",
        ImportKind::OpenWebui,
        "one.json",
        &serde_json::to_string_pretty(&one_chat).unwrap(),
    );
    for (kind, name, records) in [
        (ImportKind::Sharegpt, "sharegpt", SHAREGPT),
        (ImportKind::Alpaca, "alpaca", ALPACA),
        (ImportKind::Jsonl, "jsonl", JSONL),
    ] {
        run(
            &format!("{name} array"),
            kind,
            &format!("{name}.json"),
            &format!("[\n{}\n]\n", records.join(",\n")),
        );
        run(
            &format!("{name} lines"),
            kind,
            &format!("{name}.jsonl"),
            &format!(
                "\n{}\r\n\n{}\n{}\n{}",
                records[0], records[1], records[2], records[3]
            ),
        );
        run(
            &format!("{name} one object"),
            kind,
            &format!("{name}-one.json"),
            &format!(
                "{}\n",
                serde_json::to_string_pretty(
                    &serde_json::from_str::<serde_json::Value>(records[0]).unwrap()
                )
                .unwrap()
            ),
        );
    }
    // Files that are not what their kind promises: the same messages, the same places.
    let broken: [(&str, ImportKind, &[u8]); 12] = [
        (
            "array syntax",
            ImportKind::Sharegpt,
            b"[\n  {\"messages\": []},\n  {\"b\" 2}\n]",
        ),
        (
            "cut short",
            ImportKind::Chatgpt,
            b"[{\"id\": \"x\", \"mapping\": {}},",
        ),
        ("trailing", ImportKind::Alpaca, b"[] []"),
        ("scalar", ImportKind::Alpaca, b"\"text\""),
        ("number", ImportKind::Jsonl, b"  42\n"),
        (
            "pretty object syntax",
            ImportKind::Sharegpt,
            b"\n\n  {\n \"conversations\": [}\n",
        ),
        (
            "line syntax",
            ImportKind::Jsonl,
            b"{\"user\": \"a\", \"assistant\": \"b\"}\n\n  {\"user\": x}\n",
        ),
        (
            "not utf-8",
            ImportKind::Jsonl,
            b"{\"user\": \"a\", \"assistant\": \"b\"}\n{\"user\": \"\xff\"}\n",
        ),
        (
            "bom",
            ImportKind::Jsonl,
            b"\xef\xbb\xbf{\"user\": 5, \"assistant\": \"b\"}\n",
        ),
        ("gzip", ImportKind::Jsonl, b"\x1f\x8b\x08\x00"),
        ("empty", ImportKind::Chatgpt, b" \r\n\t"),
        ("not an object", ImportKind::Chatgpt, b"[1]"),
    ];
    writeln!(out, "## errors").unwrap();
    for (label, kind, bytes) in broken {
        let path = dir.join("broken.json");
        std::fs::write(&path, bytes).unwrap();
        let err = parse(kind, &path).expect_err(label).to_string();
        let err = err.replace(&path.display().to_string(), "FILE");
        writeln!(out, "{label}: {err}").unwrap();
    }
    out
}

/// What the whole-file readers produced for the fixtures above, before streaming.
const BEFORE: &str = include_str!("data/import_stream_before.txt");

#[test]
fn streaming_reads_what_the_whole_file_readers_read() {
    let dir = tempfile::tempdir().unwrap();
    let now = parse_everything(dir.path());
    if std::env::var_os("IMPORT_STREAM_BLESS").is_some() {
        let golden =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/import_stream_before.txt");
        std::fs::write(golden, &now).unwrap();
        return;
    }
    if now != BEFORE {
        let seen = dir.path().join("now.txt");
        std::fs::write(&seen, &now).unwrap();
        panic!("the parse changed; now:\n{now}");
    }
}

#[test]
fn import_stores_what_parse_reads_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("garden.sqlite3")).unwrap();
    for (kind, name, text) in [
        (ImportKind::Chatgpt, "c.json", CHATGPT.to_owned()),
        (ImportKind::OpenWebui, "w.json", OPENWEBUI.to_owned()),
        (ImportKind::Sharegpt, "s.jsonl", SHAREGPT.join("\n")),
        (
            ImportKind::Alpaca,
            "a.json",
            format!("[{}]", ALPACA.join(",")),
        ),
        (ImportKind::Jsonl, "j.jsonl", JSONL.join("\n")),
    ] {
        let path = write(dir.path(), name, &text);
        let parsed = parse(kind, &path).unwrap();
        let report = import_path(&db, kind, &path).unwrap();
        assert_eq!(report.skipped, parsed.skipped, "{kind}");
        assert_eq!(
            report.stored.conversations,
            parsed.conversations.len(),
            "{kind}"
        );
        assert_eq!(
            report.stored.messages,
            parsed
                .conversations
                .iter()
                .map(|c| c.messages.len())
                .sum::<usize>(),
            "{kind}"
        );
        assert_eq!(report.stored.already, 0, "{kind}");
        let sha = {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(std::fs::read(&path).unwrap());
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        assert_eq!(report.sha256, sha, "{kind}: the SHA-256 of the whole file");
        let stored = db
            .with_conn(|conn| {
                let page = conversations::list(
                    conn,
                    &ListQuery {
                        limit: Some(conversations::MAX_PAGE),
                        source: Some(kind.as_str().to_owned()),
                        ..Default::default()
                    },
                )?;
                page.items
                    .iter()
                    .map(|c| conversations::get(conn, &c.id))
                    .collect::<garden_core::Result<Vec<_>>>()
            })
            .unwrap();
        for c in &parsed.conversations {
            let s = stored
                .iter()
                .find(|s| s.summary.title == c.title && s.summary.created_at == c.created_at)
                .unwrap_or_else(|| panic!("{kind}: {} was not stored", c.title));
            let turns: Vec<(&str, &str)> = s
                .messages
                .iter()
                .map(|m| (m.role.as_str(), m.content.as_str()))
                .collect();
            let want: Vec<(&str, &str)> = c
                .messages
                .iter()
                .map(|m| (m.role.as_str(), m.content.as_str()))
                .collect();
            assert_eq!(turns, want, "{kind}: {}", c.title);
        }
        let again = import_path(&db, kind, &path).unwrap();
        assert_eq!(
            (again.stored.conversations, again.stored.already),
            (0, parsed.conversations.len()),
            "{kind}: nothing twice"
        );
    }
}

#[test]
fn a_bad_record_at_the_end_of_a_long_file_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("garden.sqlite3")).unwrap();
    let good = |i: usize| {
        format!(r#"{{"id": "c{i}", "user": "question {i}", "assistant": "answer {i}"}}"#)
    };
    // JSON Lines: 5000 good lines, then one that is not JSON.
    let mut lines: Vec<String> = (0..5000).map(good).collect();
    lines.push(r#"{"user": "broken", "assistant": }"#.to_owned());
    let path = write(dir.path(), "late.jsonl", &lines.join("\n"));
    let err = import_path(&db, ImportKind::Jsonl, &path).unwrap_err();
    assert!(
        matches!(&err, garden_core::Error::Import { place, .. } if place == "line 5001"),
        "{err}"
    );
    // A JSON array: 5000 good records, then one of the wrong shape.
    let mut records: Vec<String> = (0..5000).map(good).collect();
    records.push(r#"{"id": "bad", "instruction": "q", "output": "a"}"#.to_owned());
    let path = write(
        dir.path(),
        "late.json",
        &format!("[{}]", records.join(",\n")),
    );
    let err = import_path(&db, ImportKind::Jsonl, &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("conversation 5001 (id bad)") && err.contains("\"alpaca\""),
        "{err}"
    );
    // A JSON array cut short after its good records.
    let path = write(
        dir.path(),
        "cut.json",
        &format!("[{},", records[..5000].join(",\n")),
    );
    let err = import_path(&db, ImportKind::Jsonl, &path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not valid JSON"), "{err}");
    db.with_conn(|conn| {
        assert_eq!(conversations::count(conn)?, 0, "nothing stored");
        assert!(list_imports(conn)?.is_empty(), "no import recorded");
        Ok(())
    })
    .unwrap();
    // The same lines without the broken one import whole.
    let path = write(dir.path(), "fine.jsonl", &lines[..5000].join("\n"));
    let report = import_path(&db, ImportKind::Jsonl, &path).unwrap();
    assert_eq!(report.stored.conversations, 5000);
}
