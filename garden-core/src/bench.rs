//! Large synthetic histories for benchmarks (`garden-eden bench-history`): realistic shapes,
//! written fast, nothing personal in them.

use rusqlite::{params, Connection};

use crate::error::Result;

/// Writes `conversations` conversations of `turns` user/assistant exchanges each (so
/// `2 × turns` messages), a third with an explicit satisfaction and a third with thumbs on their
/// answers, in one transaction. Deterministic for a seed.
pub fn generate(conn: &mut Connection, conversations: u64, turns: u64, seed: u64) -> Result<()> {
    const WORDS: &[&str] = &[
        "garden", "model", "adapter", "river", "mountain", "coffee", "recipe", "train", "memory",
        "music", "please", "explain", "quickly", "because", "weather", "travel", "Seoul", "Jeju",
        "안녕하세요", "감사합니다", "여행", "계획", "how", "what", "why", "the", "a", "and", "with",
    ];
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = move || {
        // xorshift64*: fast and good enough for filler text.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let tx = conn.transaction()?;
    {
        let mut conv = tx.prepare(
            "INSERT INTO conversations (id, title, source, source_ref, created_at, updated_at)
             VALUES (?1, ?2, 'bench', ?1, ?3, ?3)",
        )?;
        let mut msg = tx.prepare(
            "INSERT INTO messages (id, conversation_id, position, role, content, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut fb = tx.prepare(
            "INSERT INTO feedback (id, conversation_id, message_id, thumbs, satisfaction, source, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'bench', ?6)",
        )?;
        let start = 1_735_689_600_000i64; // 2025-01-01
        let mut text = String::with_capacity(512);
        for c in 0..conversations {
            let cid = format!("bench-{seed}-{c:09}");
            let at = start + (c as i64) * 60_000;
            conv.execute(params![cid, format!("Conversation {c}"), at])?;
            let kind = next() % 3;
            for p in 0..turns * 2 {
                text.clear();
                let words = 8 + next() % (if p % 2 == 0 { 24 } else { 60 });
                for w in 0..words {
                    if w > 0 {
                        text.push(' ');
                    }
                    text.push_str(WORDS[(next() % WORDS.len() as u64) as usize]);
                }
                text.push_str(&format!(" #{c}.{p}"));
                let mid = format!("{cid}-{p}");
                let role = if p % 2 == 0 { "user" } else { "assistant" };
                msg.execute(params![mid, cid, p as i64, role, text, at + p as i64 * 1000])?;
                if kind == 1 && p % 2 == 1 {
                    let thumbs = if next() % 4 == 0 { -1 } else { 1 };
                    fb.execute(params![format!("{mid}-t"), cid, mid, thumbs, None::<f64>, at])?;
                }
            }
            if kind == 0 {
                let s = (next() % 21) as f64 / 20.0;
                fb.execute(params![format!("{cid}-s"), cid, None::<String>, None::<i64>, s, at])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}
