//! The export pipeline: the calling thread reads the history from SQLite (one read transaction,
//! prepared statements, rows taken as bytes) and hands conversations over in batches through a
//! bounded channel to a worker thread, which checks them, builds the examples, curates them and
//! writes them as JSON straight from the stored text. Memory stays flat: at most a few batches
//! (of about 64 KB each) are in flight, and used batches come back to be filled again.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use rusqlite::types::{Type, ValueRef};
use rusqlite::{params, Connection};

use super::{json, Conversation, Counts, Curation, DataFilter, Format, Sink, Turn};
use crate::conversations::{Role, SCORE_SQL};
use crate::curate::{self, Deduper, PiiCounts, Scrubber, Seen};
use crate::error::{Error, Result};

/// A batch is handed over once it holds this much text or this many conversations.
const BATCH_BYTES: usize = 64 * 1024;
const BATCH_CONVERSATIONS: usize = 512;
/// Batches waiting for the worker: enough to keep both threads busy, few enough to keep memory flat.
const IN_FLIGHT: usize = 2;

/// How the reader finds each conversation's satisfaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scores {
    /// [`SCORE_SQL`] per conversation: two index look-ups each (best for small or narrow exports).
    PerConversation,
    /// The rated conversations' scores read up front in two scans into an exact map (best when
    /// most of the history is exported: the look-ups dominate otherwise), only those that can
    /// pass when the filter refuses unrated conversations. Same values.
    Map,
}

/// Runs filter and curation over the history, feeding each written example to `sink`.
pub(super) fn run(
    conn: &Connection,
    format: Format,
    filter: &DataFilter,
    curation: &Curation,
    sink: &mut (dyn Sink + Send),
    progress: &mut dyn FnMut(u64, u64),
    scores: Option<Scores>,
) -> Result<Counts> {
    filter.validate()?;
    curation.validate()?;
    if format == Format::Pairs {
        return Err(Error::invalid("format", "preference pairs are built from votes and thumbs (export::pairs), not from single conversations"));
    }
    let since = filter.since.unwrap_or(i64::MIN);
    let until = filter.until.unwrap_or(i64::MAX);
    // One read transaction for everything read below (the counts, the scores, the messages),
    // as the single statement of earlier versions had: one consistent snapshot.
    let _read = if conn.is_autocommit() { Some(conn.unchecked_transaction()?) } else { None };
    // The export reads each page about once, in order: a 1 MB page cache (SQLite's default is
    // 2 MB) keeps the interior pages that matter and the peak memory lower; restored after.
    let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -1024)?;
    let _restore = Restore(conn, cache);
    let total: u64 = conn.query_row(
        "SELECT COUNT(*) FROM conversations WHERE created_at >= ?1 AND created_at < ?2",
        params![since, until],
        |r| r.get::<_, i64>(0),
    )? as u64;
    let scores = match scores {
        Some(s) => s,
        None => {
            let everything = if filter.since.is_none() && filter.until.is_none() {
                total
            } else {
                conn.query_row("SELECT COUNT(*) FROM conversations", [], |r| r.get::<_, i64>(0))? as u64
            };
            // The map costs a scan of all the feedback: worth it when most conversations are read.
            let most = total >= 2_000 && total * 2 >= everything;
            let limit_small = filter.limit.is_some_and(|l| (l as u64) * 4 < total);
            if most && !limit_small { Scores::Map } else { Scores::PerConversation }
        }
    };

    let stop = AtomicBool::new(false);
    let (full_tx, full_rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (empty_tx, empty_rx) = channel::<Batch>();
    let (read, written) = std::thread::scope(|s| {
        let stop = &stop;
        let worker = std::thread::Builder::new()
            .name("garden-eden export writer".into())
            .spawn_scoped(s, move || {
                // Owning both ends here: when the worker stops, the reader's next send fails.
                let result = write(format, filter, curation, total, sink, &full_rx, &empty_tx);
                stop.store(true, Ordering::Relaxed);
                result
            });
        let worker = match worker {
            Ok(w) => w,
            Err(e) => return (Err(Error::Task(format!("could not start the export writer: {e}"))), Ok(Counts::default())),
        };
        let reader = Reader { conn, since, until, thumbs: format == Format::Kto, filter, total, stop };
        let read = reader.read(scores, full_tx, empty_rx, progress);
        if read.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let written = worker.join().unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Error::Task(format!("the export writer failed: {what}")))
        });
        (read, written)
    });
    // A reading error wins: the worker saw the input end early and its counts mean nothing.
    read?;
    let counts = written?;
    progress(counts.conversations, total);
    Ok(counts)
}

/// Puts the connection's page cache size back (it is pooled).
struct Restore<'c>(&'c Connection, i64);

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let _ = self.0.pragma_update(None, "cache_size", self.1);
    }
}

/// Conversations read, with their messages' text as stored (checked as UTF-8 by the worker).
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    conversations: Vec<ConversationRecord>,
    messages: Vec<MessageRecord>,
    /// Conversations refused by their satisfaction after the last of `conversations`.
    skipped_after: u64,
}

impl Batch {
    fn clear(&mut self) {
        self.bytes.clear();
        self.conversations.clear();
        self.messages.clear();
        self.skipped_after = 0;
        // A huge message once should not keep its memory for the rest of the export.
        if self.bytes.capacity() > 4 * BATCH_BYTES {
            self.bytes.shrink_to(BATCH_BYTES);
        }
    }

    fn full(&self) -> bool {
        self.bytes.len() >= BATCH_BYTES || self.conversations.len() >= BATCH_CONVERSATIONS
    }

    fn push_bytes(&mut self, b: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(b);
        start..self.bytes.len()
    }
}

struct ConversationRecord {
    /// Conversations refused by their satisfaction just before this one.
    skipped_before: u64,
    id: Range<usize>,
    score: Option<f64>,
    /// Its messages, in `Batch::messages`.
    messages: Range<usize>,
}

struct MessageRecord {
    role: Option<Role>,
    content: Range<usize>,
    /// Read for an assistant message that answers a question only (as before).
    at: i64,
    thumbs: Option<i8>,
}

/// The scores of rated conversations, keyed by the exact bytes of their ids: an open-addressing
/// table (a tag of the hash and an index each) into one buffer of ids, about 30 bytes per rated
/// conversation beyond its id. When an unrated conversation fails the filter, only the scores
/// that can pass it are kept (a conversation missing from the map fails as well).
struct ScoreMap {
    ids: Vec<u8>,
    entries: Vec<(u32, u32, f64)>,
    /// (high half of the hash, entry index + 1); 0 = free.
    slots: Vec<(u32, u32)>,
}

impl ScoreMap {
    fn hash(id: &[u8]) -> u64 {
        // FNV-1a, then a final mix: ids are short, and a collision only costs a comparison.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in id {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= h >> 29;
        h = h.wrapping_mul(0xd6e8_feb8_6659_fd93);
        h ^ (h >> 32)
    }

    fn read(conn: &Connection, filter: &DataFilter) -> Result<ScoreMap> {
        let mut map = ScoreMap { ids: Vec::new(), entries: Vec::new(), slots: vec![(0, 0); 1024] };
        if !filter.passes_score(None) {
            return Self::read_passing(conn, filter, map);
        }
        // SCORE_SQL, split: the explicit rating wins; otherwise the share of thumbs up.
        let mut explicit = conn.prepare(
            "SELECT conversation_id, satisfaction FROM feedback
              WHERE message_id IS NULL AND satisfaction IS NOT NULL",
        )?;
        let mut rows = explicit.query([])?;
        while let Some(r) = rows.next()? {
            if let (ValueRef::Text(id), Some(score)) = (r.get_ref(0)?, r.get::<_, Option<f64>>(1)?) {
                map.insert(id, score);
            }
        }
        let mut thumbs = conn.prepare(
            "SELECT conversation_id, AVG(thumbs = 1) FROM feedback
              WHERE thumbs IS NOT NULL GROUP BY conversation_id",
        )?;
        let mut rows = thumbs.query([])?;
        while let Some(r) = rows.next()? {
            if let (ValueRef::Text(id), Some(score)) = (r.get_ref(0)?, r.get::<_, Option<f64>>(1)?) {
                map.insert(id, score);
            }
        }
        Ok(map)
    }

    /// The scores that pass `filter` (which refuses unrated conversations). Thumbs first, then
    /// the explicit ratings (at most one per conversation), which replace them: a failing rating
    /// that replaces passing thumbs is kept as NaN, which fails too (the filter has a minimum).
    fn read_passing(conn: &Connection, filter: &DataFilter, mut map: ScoreMap) -> Result<ScoreMap> {
        let mut thumbs = conn.prepare(
            "SELECT conversation_id, AVG(thumbs = 1) FROM feedback
              WHERE thumbs IS NOT NULL GROUP BY conversation_id",
        )?;
        let mut rows = thumbs.query([])?;
        while let Some(r) = rows.next()? {
            if let (ValueRef::Text(id), Some(score)) = (r.get_ref(0)?, r.get::<_, Option<f64>>(1)?) {
                if filter.passes_score(Some(score)) {
                    map.insert(id, score);
                }
            }
        }
        let mut explicit = conn.prepare(
            "SELECT conversation_id, satisfaction FROM feedback
              WHERE message_id IS NULL AND satisfaction IS NOT NULL",
        )?;
        let mut rows = explicit.query([])?;
        while let Some(r) = rows.next()? {
            if let (ValueRef::Text(id), Some(score)) = (r.get_ref(0)?, r.get::<_, Option<f64>>(1)?) {
                if filter.passes_score(Some(score)) {
                    map.set(id, score);
                } else if let (_, Some(e)) = map.slot_of(id, Self::hash(id)) {
                    map.entries[e].2 = f64::NAN;
                }
            }
        }
        Ok(map)
    }

    /// Gives `id` this score, replacing any it had.
    fn set(&mut self, id: &[u8], score: f64) {
        match self.slot_of(id, Self::hash(id)) {
            (_, Some(e)) => self.entries[e].2 = score,
            (_, None) => self.insert(id, score),
        }
    }

    /// The slot holding `id`, or the free slot where it would go.
    fn slot_of(&self, id: &[u8], hash: u64) -> (usize, Option<usize>) {
        let mask = self.slots.len() - 1;
        let tag = (hash >> 32) as u32;
        let mut i = hash as usize & mask;
        loop {
            match self.slots[i] {
                (_, 0) => return (i, None),
                (t, e) if t == tag => {
                    let (start, len, _) = self.entries[e as usize - 1];
                    if &self.ids[start as usize..(start + len) as usize] == id {
                        return (i, Some(e as usize - 1));
                    }
                }
                _ => {}
            }
            i = (i + 1) & mask;
        }
    }

    /// Keeps the first score given for an id.
    fn insert(&mut self, id: &[u8], score: f64) {
        if (self.entries.len() + 1) * 2 > self.slots.len() {
            let mut slots = vec![(0u32, 0u32); self.slots.len() * 2];
            let mask = slots.len() - 1;
            for (n, &(start, len, _)) in self.entries.iter().enumerate() {
                let hash = Self::hash(&self.ids[start as usize..(start + len) as usize]);
                let mut i = hash as usize & mask;
                while slots[i].1 != 0 {
                    i = (i + 1) & mask;
                }
                slots[i] = ((hash >> 32) as u32, n as u32 + 1);
            }
            self.slots = slots;
        }
        let hash = Self::hash(id);
        let (slot, found) = self.slot_of(id, hash);
        if found.is_none() {
            let start = self.ids.len() as u32;
            self.ids.extend_from_slice(id);
            self.entries.push((start, id.len() as u32, score));
            self.slots[slot] = ((hash >> 32) as u32, self.entries.len() as u32);
        }
    }

    /// The scores of `ids`, in order. Looked up together: the table is too big to stay in the
    /// cache while messages stream through, so the first probes of all of them are made one
    /// after the other (independent loads the processor overlaps) before the full look-ups.
    fn get_all<'i>(&self, ids: impl Iterator<Item = &'i [u8]> + Clone, scores: &mut Vec<Option<f64>>) {
        scores.clear();
        let mask = self.slots.len() - 1;
        let mut warm = 0u64;
        for id in ids.clone() {
            let (tag, e) = self.slots[Self::hash(id) as usize & mask];
            if e != 0 && tag as u64 == Self::hash(id) >> 32 {
                warm = warm.wrapping_add(self.entries[e as usize - 1].0 as u64);
            }
        }
        std::hint::black_box(warm);
        for id in ids {
            scores.push(self.slot_of(id, Self::hash(id)).1.map(|e| self.entries[e].2));
        }
    }
}

/// The calling thread's half: reads conversations newest first (ties by id, as
/// `ORDER BY created_at DESC, id` would) and sends them on in batches.
struct Reader<'a> {
    conn: &'a Connection,
    since: i64,
    until: i64,
    /// Read the thumbs of each answer (only KTO needs them).
    thumbs: bool,
    filter: &'a DataFilter,
    total: u64,
    /// Set by the worker when it needs nothing more (the limit, or an error).
    stop: &'a AtomicBool,
}

/// Conversations read from the outer query, waiting for their messages to be read: a few dozen
/// at a time, always whole runs of one `created_at` (put in id order here).
#[derive(Default)]
struct Pending {
    ids: Vec<u8>,
    /// id, created_at, score (when SQL computed it).
    rows: Vec<(Range<usize>, i64, Option<f64>)>,
    scores: Vec<Option<f64>>,
}

/// Conversations taken from the outer query before their messages are read.
const PENDING: usize = 64;

impl Reader<'_> {
    fn read(
        &self,
        scores: Scores,
        full: SyncSender<Batch>,
        empty: Receiver<Batch>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<()> {
        let map = match scores {
            Scores::Map => Some(ScoreMap::read(self.conn, self.filter)?),
            Scores::PerConversation => None,
        };
        // The order's first key comes from the index; ties on it are sorted here by id
        // (bytewise, as SQLite's BINARY collation), which saves SQLite a sorter pass per row.
        let score_column = if map.is_some() { "NULL" } else { SCORE_SQL };
        let mut outer = self.conn.prepare(&format!(
            "SELECT c.id, c.created_at, {score_column} FROM conversations c
              WHERE c.created_at >= ?1 AND c.created_at < ?2
              ORDER BY c.created_at DESC"
        ))?;
        let thumbs = if self.thumbs {
            "(SELECT f.thumbs FROM feedback f WHERE f.message_id = m.id AND f.thumbs IS NOT NULL)"
        } else {
            "NULL"
        };
        let mut inner = self.conn.prepare(&format!(
            "SELECT m.role, m.content, m.created_at, {thumbs}
               FROM messages m WHERE m.conversation_id = ?1 ORDER BY m.position"
        ))?;
        let mut out = Out { batch: Batch::default(), full, empty, skipped: 0, read: 0 };
        let mut pending = Pending::default();
        let mut rows = outer.query(params![self.since, self.until])?;
        while let Some(row) = rows.next()? {
            let id = match row.get_ref(0)? {
                ValueRef::Text(id) => id,
                // Not text: the same error reading it as text always gave.
                _ => return row.get::<_, String>(0).map(|_| ()).map_err(Into::into),
            };
            let at: i64 = row.get(1)?;
            let score: Option<f64> = if map.is_some() { None } else { row.get(2)? };
            // Flush only between two values of created_at, so that ties are sorted together.
            if pending.rows.len() >= PENDING
                && pending.rows.last().is_some_and(|r| r.1 != at)
                && !self.flush(&mut pending, map.as_ref(), &mut inner, &mut out, progress)?
            {
                return Ok(());
            }
            let start = pending.ids.len();
            pending.ids.extend_from_slice(id);
            pending.rows.push((start..pending.ids.len(), at, score));
        }
        if !self.flush(&mut pending, map.as_ref(), &mut inner, &mut out, progress)? {
            return Ok(());
        }
        out.send();
        Ok(())
    }

    /// Reads the messages of the conversations waiting in `pending`, newest first, ties in id
    /// order. False when the worker stopped.
    fn flush(
        &self,
        pending: &mut Pending,
        map: Option<&ScoreMap>,
        inner: &mut rusqlite::Statement<'_>,
        out: &mut Out,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<bool> {
        let ids = &pending.ids;
        // Already newest first: only runs of one created_at move (a stable sort of a sorted
        // list costs one pass).
        pending.rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| ids[a.0.clone()].cmp(&ids[b.0.clone()])));
        if let Some(map) = map {
            map.get_all(pending.rows.iter().map(|r| &ids[r.0.clone()]), &mut pending.scores);
        } else {
            pending.scores.clear();
            pending.scores.extend(pending.rows.iter().map(|r| r.2));
        }
        for ((range, _, _), &score) in pending.rows.iter().zip(&pending.scores) {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(false);
            }
            out.read += 1;
            if out.read % 1000 == 0 {
                progress(out.read, self.total);
            }
            if !self.filter.passes_score(score) {
                // Its messages are not read; the worker still counts it.
                out.skipped += 1;
                continue;
            }
            let id = &ids[range.clone()];
            let batch = &mut out.batch;
            let first = batch.messages.len();
            let id_range = batch.push_bytes(id);
            // The id is bound as text, as a String was before; it was stored as text.
            let id_text = std::str::from_utf8(id).map_err(|e| {
                Error::from(rusqlite::Error::FromSqlConversionFailure(0, Type::Text, Box::new(e)))
            })?;
            let mut messages = inner.query([id_text])?;
            let mut pending_user = false;
            while let Some(m) = messages.next()? {
                let role = m.get_ref(0)?.as_str().ok().and_then(Role::parse);
                let content = match m.get_ref(1)? {
                    ValueRef::Text(t) => batch.push_bytes(t),
                    _ => return m.get::<_, String>(1).map(|_| false).map_err(Into::into),
                };
                let (mut at, mut thumbs) = (0, None);
                match role {
                    Some(Role::User) => pending_user = true,
                    Some(Role::Assistant) if pending_user => {
                        pending_user = false;
                        thumbs = m.get(3)?;
                        at = m.get(2)?;
                    }
                    _ => {}
                }
                batch.messages.push(MessageRecord { role, content, at, thumbs });
            }
            let end = batch.messages.len();
            batch.conversations.push(ConversationRecord {
                skipped_before: std::mem::take(&mut out.skipped),
                id: id_range,
                score,
                messages: first..end,
            });
            if out.batch.full() && !out.send() {
                return Ok(false);
            }
        }
        pending.ids.clear();
        pending.rows.clear();
        Ok(true)
    }
}

/// The reader's side of the channel.
struct Out {
    batch: Batch,
    full: SyncSender<Batch>,
    empty: Receiver<Batch>,
    /// Conversations refused by score since the last one put in the batch.
    skipped: u64,
    read: u64,
}

impl Out {
    /// Hands the batch over; false when the worker has stopped.
    fn send(&mut self) -> bool {
        let mut next = self.empty.try_recv().unwrap_or_default();
        next.clear();
        let mut batch = std::mem::replace(&mut self.batch, next);
        batch.skipped_after = std::mem::take(&mut self.skipped);
        self.full.send(batch).is_ok()
    }
}

/// Stored text as `&str`: checked with SIMD (most of an export's time after reading is this
/// check); invalid UTF-8 is refused with std's error, which says where.
fn text(bytes: &[u8], column: usize) -> Result<&str> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(t) => Ok(t),
        Err(_) => std::str::from_utf8(bytes)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(e)).into()),
    }
}

/// The worker's half: filter, examples, curation, JSON, the sink.
fn write(
    format: Format,
    filter: &DataFilter,
    curation: &Curation,
    total: u64,
    sink: &mut (dyn Sink + Send),
    full: &Receiver<Batch>,
    empty: &Sender<Batch>,
) -> Result<Counts> {
    let mut w = Writer {
        format,
        filter,
        curation,
        scrubber: curation.scrub_pii.then(Scrubber::new),
        dedupe: curation.dedupe.then(Deduper::new),
        counts: Counts { chars_min: u64::MAX, ..Counts::default() },
        score_sum: 0.0,
        score_n: 0,
        chars_sum: 0,
        limit: filter.limit.map(|l| l as u64),
        buf: Vec::with_capacity(64 * 1024),
        total,
    };
    'batches: while let Ok(batch) = full.recv() {
        for c in &batch.conversations {
            w.counts.conversations += c.skipped_before;
            w.counts.conversations += 1;
            let id = text(&batch.bytes[c.id.clone()], 0)?;
            let mut system: Option<Cow<'_, str>> = None;
            let mut turns = Vec::new();
            let mut pending_user: Option<Cow<'_, str>> = None;
            for m in &batch.messages[c.messages.clone()] {
                let content = text(&batch.bytes[m.content.clone()], 1)?;
                match m.role {
                    Some(Role::System) => join(&mut system, content),
                    Some(Role::User) => join(&mut pending_user, content),
                    Some(Role::Assistant) => {
                        if let Some(user) = pending_user.take() {
                            turns.push(Turn { user, assistant: content, thumbs: m.thumbs, at: m.at });
                        }
                    }
                    None => {}
                }
            }
            let conversation = Conversation { id, score: c.score, system, turns };
            if !w.conversation(sink, &conversation)? {
                break 'batches;
            }
        }
        w.counts.conversations += batch.skipped_after;
        // The reader reuses it; if it has gone, it is simply dropped.
        let _ = empty.send(batch);
    }
    Ok(w.finish())
}

/// `Some(a)` + `b` = `a\n\nb`: consecutive messages of one role are joined.
fn join<'a>(into: &mut Option<Cow<'a, str>>, text: &'a str) {
    match into {
        Some(s) => {
            let s = s.to_mut();
            s.push_str("\n\n");
            s.push_str(text);
        }
        None => *into = Some(Cow::Borrowed(text)),
    }
}

struct Writer<'a> {
    format: Format,
    filter: &'a DataFilter,
    curation: &'a Curation,
    scrubber: Option<Scrubber>,
    dedupe: Option<Deduper>,
    counts: Counts,
    score_sum: f64,
    score_n: u64,
    chars_sum: u64,
    limit: Option<u64>,
    buf: Vec<u8>,
    total: u64,
}

/// One example of a conversation: all of it, its `n`th exchange (JSONL), or its first `upto`
/// exchanges with a KTO tag.
#[derive(Clone, Copy)]
enum Part {
    Whole,
    Exchange(usize),
    Kto(usize, bool),
}

impl Writer<'_> {
    /// Handles one conversation; false once the limit is reached.
    fn conversation(&mut self, sink: &mut (dyn Sink + Send), c: &Conversation<'_>) -> Result<bool> {
        if !self.filter.passes(c) {
            return Ok(true);
        }
        self.counts.passed_filter += 1;
        if c.turns.is_empty() {
            return self.after_conversation(false, c);
        }
        let pii = &mut self.counts.pii;
        let scrubber = self.scrubber.as_ref();
        fn clean<'t>(scrubber: Option<&Scrubber>, text: &'t str, pii: &mut PiiCounts) -> Cow<'t, str> {
            match scrubber {
                Some(s) => s.scrub(text, pii),
                None => Cow::Borrowed(text),
            }
        }
        let system: Cow<'_, str> = c.system.as_deref().map(|s| clean(scrubber, s, pii)).unwrap_or_default();
        let turns: Vec<(Cow<'_, str>, Cow<'_, str>)> =
            c.turns.iter().map(|t| (clean(scrubber, &t.user, pii), clean(scrubber, t.assistant, pii))).collect();
        let n = turns.len();
        let parts: Vec<Part> = match self.format {
            Format::Alpaca | Format::Sharegpt | Format::Openai => vec![Part::Whole],
            Format::Jsonl => (0..n).map(Part::Exchange).collect(),
            // Refused by `run` (pairs are `super::pairs`'s).
            Format::Pairs => Vec::new(),
            Format::Kto => {
                let rated: Vec<Part> = c
                    .turns
                    .iter()
                    .enumerate()
                    .filter_map(|(i, t)| t.thumbs.map(|th| Part::Kto(i + 1, th > 0)))
                    .collect();
                if rated.is_empty() {
                    c.score.map(|s| vec![Part::Kto(n, s >= 0.5)]).unwrap_or_default()
                } else {
                    rated
                }
            }
        };
        // Characters of the system prompt and of each text, counted once.
        let mut char_counts: Option<(u64, Vec<(u64, u64)>)> = None;
        let validation = curate::is_validation(self.curation.seed, c.id, self.curation.validation_ratio);
        let mut wrote_any = false;
        let mut texts: Vec<&str> = Vec::with_capacity(2 * n + 2);
        for part in parts {
            self.counts.examples += 1;
            let (first, upto) = match part {
                Part::Whole => (0, n),
                Part::Exchange(i) => (i, i + 1),
                Part::Kto(upto, _) => (0, upto),
            };
            if let Some(d) = self.dedupe.as_mut() {
                texts.clear();
                texts.push(&system);
                for (u, a) in &turns[first..upto] {
                    texts.push(u);
                    texts.push(a);
                }
                if let Part::Kto(_, tag) = part {
                    texts.push(if tag { "+" } else { "-" });
                }
                match d.check(&texts) {
                    Seen::New => {}
                    Seen::Exact => {
                        self.counts.exact_duplicates += 1;
                        continue;
                    }
                    Seen::Near => {
                        self.counts.near_duplicates += 1;
                        continue;
                    }
                }
            }
            if self.limit.is_some_and(|l| self.counts.written >= l) {
                self.counts.limited = true;
                return Ok(false);
            }
            self.buf.clear();
            example(&mut self.buf, self.format, part, c, &system, &turns);
            sink.write(&self.buf, validation)?;
            let (system_chars, turn_chars) = char_counts.get_or_insert_with(|| {
                let count = |s: &str| s.chars().count() as u64;
                (count(&system), turns.iter().map(|(u, a)| (count(u), count(a))).collect())
            });
            let chars = *system_chars + turn_chars[first..upto].iter().map(|(u, a)| u + a).sum::<u64>();
            self.counts.written += 1;
            if validation {
                self.counts.validation += 1;
            } else {
                self.counts.train += 1;
            }
            self.chars_sum += chars;
            self.counts.chars_min = self.counts.chars_min.min(chars);
            self.counts.chars_max = self.counts.chars_max.max(chars);
            wrote_any = true;
        }
        self.after_conversation(wrote_any, c)
    }

    fn after_conversation(&mut self, wrote_any: bool, c: &Conversation<'_>) -> Result<bool> {
        if wrote_any {
            if let Some(s) = c.score {
                self.score_sum += s;
                self.score_n += 1;
            }
        }
        if self.limit.is_some_and(|l| self.counts.written >= l) {
            // Enough: the rest of the history is not read.
            self.counts.limited = self.counts.conversations < self.total;
            return Ok(false);
        }
        Ok(true)
    }

    fn finish(mut self) -> Counts {
        if self.counts.written == 0 {
            self.counts.chars_min = 0;
        } else {
            self.counts.chars_mean = self.chars_sum as f64 / self.counts.written as f64;
        }
        self.counts.avg_satisfaction = (self.score_n > 0).then(|| self.score_sum / self.score_n as f64);
        self.counts
    }
}

/// Writes one example as compact JSON, with the keys in the order the formats always had.
fn example(
    out: &mut Vec<u8>,
    format: Format,
    part: Part,
    c: &Conversation<'_>,
    system: &str,
    turns: &[(Cow<'_, str>, Cow<'_, str>)],
) {
    // `[{"<role>":"system","<text>":…},{…user…},{…assistant…},…]`
    let messages = |out: &mut Vec<u8>, upto: usize, keys: [&[u8]; 3]| {
        let [system_open, user_open, assistant_open] = keys;
        out.push(b'[');
        if !system.is_empty() {
            out.extend_from_slice(system_open);
            json::string(out, system);
            out.push(b'}');
        }
        for (i, (u, a)) in turns[..upto].iter().enumerate() {
            if i > 0 || !system.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(user_open);
            json::string(out, u);
            out.extend_from_slice(b"},");
            out.extend_from_slice(assistant_open);
            json::string(out, a);
            out.push(b'}');
        }
        out.push(b']');
    };
    const OPENAI: [&[u8]; 3] =
        [br#"{"role":"system","content":"#, br#"{"role":"user","content":"#, br#"{"role":"assistant","content":"#];
    match (format, part) {
        // Never streamed (see `run`).
        (Format::Pairs, _) => {}
        (Format::Alpaca, _) => {
            let n = turns.len();
            let (last_user, last_assistant) = &turns[n - 1];
            out.extend_from_slice(br#"{"instruction":"#);
            json::string(out, last_user);
            out.extend_from_slice(br#","input":"","output":"#);
            json::string(out, last_assistant);
            out.extend_from_slice(br#","system":"#);
            json::string(out, system);
            out.extend_from_slice(br#","history":["#);
            for (i, (u, a)) in turns[..n - 1].iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                json::string(out, u);
                out.push(b',');
                json::string(out, a);
                out.push(b']');
            }
            out.extend_from_slice(b"]}");
        }
        (Format::Sharegpt, _) => {
            out.extend_from_slice(br#"{"conversations":"#);
            messages(
                out,
                turns.len(),
                [br#"{"from":"system","value":"#, br#"{"from":"human","value":"#, br#"{"from":"gpt","value":"#],
            );
            out.push(b'}');
        }
        (Format::Openai, _) => {
            out.extend_from_slice(br#"{"messages":"#);
            messages(out, turns.len(), OPENAI);
            out.push(b'}');
        }
        (Format::Jsonl, part) => {
            let i = match part {
                Part::Exchange(i) => i,
                _ => 0,
            };
            let (u, a) = &turns[i];
            out.extend_from_slice(br#"{"system":"#);
            json::string(out, system);
            out.extend_from_slice(br#","user":"#);
            json::string(out, u);
            out.extend_from_slice(br#","assistant":"#);
            json::string(out, a);
            out.extend_from_slice(br#","satisfaction":"#);
            json::number(out, c.score);
            out.extend_from_slice(br#","timestamp":"#);
            json::string(out, &crate::time::format_iso(c.turns[i].at));
            out.extend_from_slice(br#","conversation_id":"#);
            json::string(out, c.id);
            out.push(b'}');
        }
        (Format::Kto, part) => {
            let (upto, tag) = match part {
                Part::Kto(upto, tag) => (upto, tag),
                _ => (turns.len(), false),
            };
            out.extend_from_slice(br#"{"messages":"#);
            messages(out, upto, OPENAI);
            out.extend_from_slice(if tag { br#","kto_tag":true}"# } else { br#","kto_tag":false}"# });
        }
    }
}
