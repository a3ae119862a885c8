//! The sample history: a clearly labelled synthetic history to try the whole loop with.
//!
//! # What is in it
//! - 63 conversations: 12 everyday topics × 5 variants (cooking, travel, Rust, emails, fitness,
//!   grammar, two in Korean, focus, budgeting, tech support, quick maths), each with 1–4
//!   exchanges, plus 3 near-duplicates of earlier ones (the same conversation with the first
//!   question reworded slightly) for the duplicate filter to find.
//! - Stored with source `sample`; every title starts with `[sample] `. Some have a system prompt.
//!   The email topic carries an email address and a phone number, for the PII scrubber.
//! - Feedback: each conversation has a hidden “quality” in 0..1; each assistant message is rated
//!   with probability 0.6, thumbs up with probability = quality; about half the conversations
//!   also carry an explicit satisfaction = the quality rounded to 0.01, so a filter such as
//!   `min_satisfaction 0.8` keeps some and drops others, and some conversations stay unrated.
//! - Times spread over the last ~90 days before now, a few minutes between messages.
//! - Deterministic: the content and ratings come from a fixed-seed PRNG (SplitMix64), and each
//!   conversation's `source_ref` is stable (`sample-03-2`), so loading it again adds nothing.

use sha2::{Digest, Sha256};

use super::{content_ref, hex};
use crate::conversations::{NewConversation, NewMessage, Role};

/// The `source` (and import kind) of the sample history.
pub const SOURCE: &str = "sample";
/// The model named on the sample's assistant messages.
pub const MODEL: &str = "sample-assistant";

const SEED: u64 = 0x5EED_6A2D_E4ED_0001;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// Conversations start at most this many days ago.
const SPREAD_DAYS: f64 = 89.0;

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo + 1).unwrap_or(1);
        lo + i64::try_from(self.next() % span).unwrap_or(0)
    }
}

/// A topic: its title, an optional system prompt, five variants (filling `{v}` and `{w}`), and
/// up to four exchanges.
struct Topic {
    title: &'static str,
    system: Option<&'static str>,
    variants: [(&'static str, &'static str); 5],
    turns: [(&'static str, &'static str); 4],
}

const TOPICS: [Topic; 12] = [
    Topic {
        title: "Weeknight dinner with {v}",
        system: Some("You are a friendly home-cooking assistant. Keep recipes short and practical."),
        variants: [("chickpeas", ""), ("leftover rice", ""), ("tofu", ""), ("eggs and spinach", ""), ("frozen dumplings", "")],
        turns: [
            ("I have {v} and about 20 minutes. What can I cook tonight?",
             "With {v} you can make a quick stir-fry: heat a little oil, add garlic and whatever vegetables you have, then the {v}, and finish with soy sauce and a squeeze of lemon. Serve it over rice or noodles."),
            ("I don't have soy sauce. What can I use instead?",
             "A pinch of salt with a little vinegar gets close. Miso paste thinned with water, or a splash of Worcestershire sauce, works too. Add it at the end and taste as you go."),
            ("Can I make it ahead for lunch tomorrow?",
             "Yes. Let it cool, keep it in a sealed container in the fridge and eat it within two days. Reheat it until it is steaming hot all the way through."),
            ("Thanks! Any quick side dish?",
             "A cucumber salad: slice a cucumber thinly, toss it with salt, rice vinegar and sesame seeds, and let it sit for five minutes."),
        ],
    },
    Topic {
        title: "Three days in {v}",
        system: None,
        variants: [("Busan", ""), ("Lisbon", ""), ("Kyoto", ""), ("Vancouver", ""), ("Jeju", "")],
        turns: [
            ("I have three days in {v}. How should I split them?",
             "Spend the first day walking the centre of {v} to get your bearings, the second on one bigger outing (a museum, a hike or a day trip), and keep the third loose for whatever you liked most. Book anything with timed tickets before you go."),
            ("What should I pack?",
             "Layers and comfortable shoes matter most; you will walk more than you expect. Add a light rain jacket, a power bank, and a copy of your bookings offline."),
            ("How do I get around cheaply?",
             "Buy a rechargeable transit card when you arrive and use buses and trains; they are much cheaper than taxis. Many sights are also within walking distance of each other."),
            ("Any food I must try?",
             "Ask at a busy local market and eat where the queue is long and local. Try at least one dish you cannot get at home, and one street snack."),
        ],
    },
    Topic {
        title: "Iterating over {v} in Rust",
        system: None,
        variants: [("a Vec<String>", ""), ("a HashMap<String, u32>", ""), ("a VecDeque", ""), ("a BTreeSet", ""), ("an array of structs", "")],
        turns: [
            ("How do I iterate over {v} in Rust without moving it?",
             "Borrow it: `for item in &collection { … }` iterates by reference, so {v} is still usable afterwards. Call `.iter()` explicitly when you want to chain adapters like `.map` or `.filter`."),
            ("And if I need to change the items?",
             "Iterate mutably: `for item in &mut collection { … }` or `.iter_mut()`. You get `&mut` references, so you can change each item in place."),
            ("Why does the compiler say 'value borrowed here after move'?",
             "Because `for item in collection` takes ownership: the loop consumes the collection. Iterate over a reference instead, and the collection stays yours."),
            ("Is calling .clone() a good fix?",
             "It works, but it copies everything. Borrowing is almost always better; clone only when you really need two independent copies."),
        ],
    },
    Topic {
        title: "Email to {v}",
        system: None,
        variants: [("my landlord", ""), ("my manager", ""), ("a client", ""), ("my neighbour", ""), ("my child's teacher", "")],
        turns: [
            ("Help me write a short, polite email to {v} asking to move our meeting to next week.",
             "Here is a draft:\n\nHello,\n\nWould it be possible to move our meeting to next week? Something came up on my side. Any weekday afternoon works for me.\n\nThank you for understanding!\n\nBest regards"),
            ("Please add my contact details at the end: minji.park@example.com and 010-2345-6789.",
             "Done. The signature now reads:\n\nBest regards,\nMinji Park\nminji.park@example.com · 010-2345-6789"),
            ("Can you make it a little more formal?",
             "Of course:\n\nDear Sir or Madam,\n\nI am writing to ask whether our meeting could be moved to next week, as an unexpected commitment has arisen. I am available on any weekday afternoon.\n\nThank you for your understanding.\n\nKind regards,\nMinji Park"),
            ("Perfect, thank you.",
             "You're welcome. Good luck with the meeting!"),
        ],
    },
    Topic {
        title: "Starting {v}",
        system: None,
        variants: [("running", ""), ("swimming", ""), ("cycling", ""), ("strength training", ""), ("yoga", "")],
        turns: [
            ("I want to start {v} but I'm out of shape. How often should I do it in the first month?",
             "Three short sessions a week is plenty at first: 20 to 30 minutes, easy enough that you could hold a conversation. Add a little each week and rest a day between sessions."),
            ("My knees hurt a bit afterwards. Should I stop?",
             "Mild soreness that fades within a day is normal; sharp pain, or pain that gets worse, is not. Ease off, and if it persists, see a doctor or a physiotherapist."),
            ("How do I stay motivated?",
             "Put the sessions in your calendar like appointments, keep a simple log, and find a friend to join you once a week. Seeing your own progress is the best motivation."),
            ("What should I eat before a session?",
             "A light snack one to two hours before, such as a banana or toast with peanut butter, and water. Avoid a heavy meal right before."),
        ],
    },
    Topic {
        title: "Grammar check {v}",
        system: Some("You are a patient English teacher. Correct mistakes and explain briefly."),
        variants: [
            ("\"Me and him goes to the store yesterday.\"", "He and I went to the store yesterday."),
            ("\"Their going to announce it tomorrow, isnt it?\"", "They're going to announce it tomorrow, aren't they?"),
            ("\"The data shows that less people was affected.\"", "The data show that fewer people were affected."),
            ("\"Each of the students have their own locker.\"", "Each of the students has their own locker."),
            ("\"I could of finished it if I would have known.\"", "I could have finished it if I had known."),
        ],
        turns: [
            ("Can you fix the grammar in this sentence? {v}",
             "Corrected: \"{w}\" I changed the verb forms so they agree with the subject and match the time you describe."),
            ("Why was the original wrong?",
             "Mostly agreement and tense: a verb has to match its subject in number, and a finished past action needs the past tense. Mix-ups like their/they're or of/have happen because they sound alike."),
            ("Is there a trick to remember it?",
             "Read the sentence aloud with a simpler subject, like \"he\" or \"they\". If the verb sounds wrong with the simple subject, it is wrong with the long one too."),
            ("Thanks, that helps.",
             "Glad it helped! Send me more sentences any time."),
        ],
    },
    Topic {
        title: "{v} 추천",
        system: Some("당신은 친절하고 간결하게 답하는 한국어 비서입니다."),
        variants: [
            ("주말에 갈 만한 서울 근교 여행지", "가평 남이섬이나 양평 두물머리"),
            ("비 오는 날 읽기 좋은 책", "한강의 『소년이 온다』나 김영하의 『여행의 이유』"),
            ("집에서 키우기 쉬운 식물", "스투키나 몬스테라"),
            ("혼자 보기 좋은 영화", "〈리틀 포레스트〉나 〈패터슨〉"),
            ("피곤할 때 먹기 좋은 간단한 요리", "달걀죽이나 된장국"),
        ],
        turns: [
            ("{v} 추천해 주세요.",
             "{w} 어떠세요? 부담 없이 시작하기 좋고 만족도가 높은 편이에요."),
            ("왜 그걸 추천하시는 거예요?",
             "처음 시도하기에 어렵지 않고 시간이나 비용이 많이 들지 않기 때문이에요. 마음에 드시면 비슷한 것으로 조금씩 넓혀 가시면 됩니다."),
            ("다른 선택지도 하나 더 알려 주세요.",
             "물론이죠. 주변 분들께 최근에 좋았던 것을 물어보는 것도 좋은 방법이에요. 직접 경험한 추천이 가장 믿을 만하거든요."),
            ("고마워요!",
             "천만에요! 즐거운 시간 보내세요."),
        ],
    },
    Topic {
        title: "번역: {v}",
        system: None,
        variants: [
            ("오늘 회의는 오후 세 시로 미뤄졌습니다.", "Today's meeting has been moved to 3 p.m."),
            ("이 근처에 조용한 카페가 있나요?", "Is there a quiet café near here?"),
            ("주문한 물건이 아직 도착하지 않았어요.", "The item I ordered hasn't arrived yet."),
            ("내일 비가 온다고 하니 우산 챙기세요.", "They say it will rain tomorrow, so take an umbrella."),
            ("처음 뵙겠습니다. 잘 부탁드립니다.", "Nice to meet you. I look forward to working with you."),
        ],
        turns: [
            ("Translate into English: {v}",
             "\"{w}\""),
            ("Is that natural, or too literal?",
             "It's natural. A word-for-word version would sound stiff, so I kept the meaning and used the phrasing a native speaker would choose."),
            ("How would I say it more casually in Korean?",
             "반말로 하려면 문장 끝을 '-어/아'나 '-야'로 바꾸면 돼요. 친한 친구나 가족에게만 쓰는 게 좋아요."),
            ("감사합니다!",
             "천만에요! 궁금한 표현이 있으면 언제든지 물어보세요."),
        ],
    },
    Topic {
        title: "Focus when working from {v}",
        system: None,
        variants: [("home", ""), ("a café", ""), ("a shared office", ""), ("the library", ""), ("a small flat", "")],
        turns: [
            ("I keep getting distracted when I work from {v}. Any tips?",
             "Work in 25-minute blocks with 5-minute breaks, put your phone in another room, and write down the one thing you want finished before you start. Small, visible goals beat willpower."),
            ("What if I still procrastinate?",
             "Make the first step tiny: open the document and write one sentence. Starting is the hardest part; momentum usually follows."),
            ("Is listening to music okay?",
             "For many people, yes. Instrumental music or steady background noise helps, while songs with lyrics compete with reading and writing."),
            ("Thanks, I'll try it tomorrow.",
             "Good luck! Notice what worked and keep that part."),
        ],
    },
    Topic {
        title: "Budget for {v}",
        system: None,
        variants: [
            ("a student", "$900 a month"),
            ("a new parent", "$3,200 a month"),
            ("a freelancer", "an irregular income"),
            ("someone saving for a car", "$2,500 a month"),
            ("a retiree", "a fixed pension"),
        ],
        turns: [
            ("I'm {v} living on {w}. How should I budget?",
             "Start with fixed costs (rent, bills, transport), move a set amount into savings on payday, and split what is left into weekly spending money. Track it for one month before you change anything."),
            ("Should I pay off debt or save first?",
             "Keep a small emergency fund first, even one month of expenses, then put every extra amount on the debt with the highest interest rate. Saving while paying 20% interest usually loses money."),
            ("What's an easy way to track spending?",
             "Your bank app's categories are enough to begin with. Look at them once a week; a simple spreadsheet works too if you prefer."),
            ("Great, thanks.",
             "You're welcome. Small habits add up quickly."),
        ],
    },
    Topic {
        title: "Fixing {v}",
        system: Some("You are a calm, practical tech-support assistant."),
        variants: [
            ("my laptop", "the Wi-Fi keeps disconnecting"),
            ("my phone", "the battery drains overnight"),
            ("the printer", "it prints blank pages"),
            ("my router", "the internet is very slow in the evening"),
            ("my tablet", "apps keep crashing"),
        ],
        turns: [
            ("Problem with {v}: {w}. What should I check first?",
             "First restart it fully, then install pending updates; that fixes a surprising number of problems. If it keeps happening, note when: a pattern (only at night, only on battery) points to the cause."),
            ("I restarted it and it's still happening.",
             "Then reset the settings related to the problem (network settings, battery optimisation or the driver) and try again. If you can, test with another network or cable to rule out the other side."),
            ("Should I just buy a new one?",
             "Not yet. If it is under warranty, contact the manufacturer; otherwise a repair shop can usually diagnose it cheaply. Replace it only if the repair costs more than half the price of a new one."),
            ("OK, I'll call the shop.",
             "Good plan. Write down what you already tried; it saves time."),
        ],
    },
    Topic {
        title: "Quick maths: {v}",
        system: None,
        variants: [
            ("15% of 80", "12"),
            ("the square root of 144", "12"),
            ("7 times 8", "56"),
            ("20% off a $45 jacket", "$36"),
            ("the minutes in 3.5 hours", "210"),
        ],
        turns: [
            ("What is {v}?",
             "It's {w}."),
            ("Can you show how you got that?",
             "Break it into easy steps, work out each one, and combine them. For percentages, find 10% first and scale it; that also makes the answer easy to check."),
            ("Can you give me a short trick?",
             "For percentages, move the decimal point one place left to get 10%, then multiply. For squares and times tables, knowing the first twelve by heart covers most everyday sums."),
            ("Thanks.",
             "Any time!"),
        ],
    },
];

/// The sample conversations, with times before `now` (Unix ms).
pub fn history(now: i64) -> Vec<NewConversation> {
    let mut rng = Rng(SEED);
    let mut conversations = Vec::with_capacity(TOPICS.len() * 5 + 3);
    for (t, topic) in TOPICS.iter().enumerate() {
        for (v, &(a, b)) in topic.variants.iter().enumerate() {
            let fill = |s: &str| s.replace("{v}", a).replace("{w}", b);
            let exchanges = usize::try_from(rng.between(1, 4)).unwrap_or(1);
            let days_ago = rng.unit() * SPREAD_DAYS;
            let quality = rng.unit();
            let explicit = rng.unit() < 0.5;
            let start = now - 60 * MINUTE_MS - (days_ago * DAY_MS as f64) as i64;

            let mut at = start;
            let mut messages = Vec::with_capacity(exchanges * 2 + 1);
            if let Some(system) = topic.system {
                messages.push(NewMessage {
                    role: Role::System,
                    content: system.to_owned(),
                    created_at: at,
                    model: None,
                    thumbs: None,
                });
            }
            for (question, answer) in topic.turns.iter().take(exchanges) {
                messages.push(NewMessage {
                    role: Role::User,
                    content: fill(question),
                    created_at: at,
                    model: None,
                    thumbs: None,
                });
                at += rng.between(5, 40) * 1000;
                let thumbs = (rng.unit() < 0.6).then(|| if rng.unit() < quality { 1 } else { -1 });
                messages.push(NewMessage {
                    role: Role::Assistant,
                    content: fill(answer),
                    created_at: at,
                    model: Some(MODEL.to_owned()),
                    thumbs,
                });
                at += rng.between(1, 5) * MINUTE_MS;
            }
            conversations.push(NewConversation {
                source_ref: format!("sample-{:02}-{}", t + 1, v + 1),
                title: format!("[sample] {}", fill(topic.title)),
                created_at: start,
                messages,
                satisfaction: explicit.then(|| (quality * 100.0).round() / 100.0),
            });
        }
    }
    // Near-duplicates: the same conversation again, its first question reworded a little.
    let originals: Vec<NewConversation> = [0, 5, 10]
        .iter()
        .filter_map(|&i| conversations.get(i).cloned())
        .collect();
    for (i, original) in originals.into_iter().enumerate() {
        let mut copy = original;
        copy.source_ref = format!("sample-near-duplicate-{}", i + 1);
        copy.title = format!("{} (again)", copy.title);
        copy.created_at -= DAY_MS;
        for message in &mut copy.messages {
            message.created_at -= DAY_MS;
        }
        if let Some(first) = copy.messages.iter_mut().find(|m| m.role == Role::User) {
            first.content = format!(
                "{}, please?",
                first.content.trim_end_matches(['?', '.', '!'])
            );
        }
        conversations.push(copy);
    }
    conversations
}

/// A fingerprint of the sample's content (not its times), recorded as the import's `sha256`.
pub fn fingerprint(conversations: &[NewConversation]) -> String {
    let mut hasher = Sha256::new();
    for c in conversations {
        hasher.update(c.source_ref.as_bytes());
        hasher.update([0]);
        hasher.update(content_ref(&c.messages).as_bytes());
    }
    hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{all, db};
    use super::super::{import_sample, list_imports};
    use super::*;
    use crate::conversations::{self, ListQuery, RatingFilter};

    #[test]
    fn the_sample_is_large_rated_varied_and_idempotent() {
        let (_dir, db) = db();
        let before = crate::now_ms();
        let first = import_sample(&db).unwrap();
        assert_eq!(
            (first.kind.as_str(), first.path.as_str()),
            ("sample", "(sample)")
        );
        assert!(first.stored.conversations > 50, "{:?}", first.stored);
        assert!(first.stored.ratings > 30, "{:?}", first.stored);
        assert!(first.skipped.is_empty());

        let stored = all(&db);
        assert_eq!(stored.len(), first.stored.conversations);
        assert!(stored
            .iter()
            .all(|c| c.summary.title.starts_with("[sample] ") && c.summary.source == "sample"));
        let earliest = before - 91 * DAY_MS;
        assert!(stored
            .iter()
            .flat_map(|c| &c.messages)
            .all(|m| (earliest..=before).contains(&m.created_at)));
        assert!(
            stored
                .iter()
                .all(|c| (1..=4)
                    .contains(&c.messages.iter().filter(|m| m.role == Role::User).count()))
        );
        let has = |f: &dyn Fn(&str) -> bool| {
            stored
                .iter()
                .flat_map(|c| &c.messages)
                .any(|m| f(&m.content))
        };
        assert!(
            has(&|t| t.contains("김치") || t.contains("추천")),
            "Korean text"
        );
        assert!(
            has(&|t| t.contains("@example.com")) && has(&|t| t.contains("010-2345-6789")),
            "PII"
        );
        assert!(stored.iter().any(|c| c.messages[0].role == Role::System));
        assert!(stored.iter().any(|c| c.summary.title.ends_with("(again)")));

        // Ratings spread so that a 0.8 threshold keeps some and drops some.
        let thumbs: Vec<i8> = stored
            .iter()
            .flat_map(|c| &c.messages)
            .filter_map(|m| m.thumbs)
            .collect();
        assert!(thumbs.contains(&1) && thumbs.contains(&-1));
        let explicit: Vec<f64> = stored
            .iter()
            .filter_map(|c| c.explicit_satisfaction)
            .collect();
        assert!(
            (20..=45).contains(&explicit.len()),
            "about half: {}",
            explicit.len()
        );
        assert!(explicit.iter().any(|&s| s >= 0.8) && explicit.iter().any(|&s| s < 0.8));
        let scores: Vec<f64> = stored
            .iter()
            .filter_map(|c| c.summary.satisfaction)
            .collect();
        let kept = scores.iter().filter(|&&s| s >= 0.8).count();
        assert!(
            kept > 0 && kept < scores.len(),
            "{kept} of {}",
            scores.len()
        );
        let unrated = db
            .with_conn(|conn| {
                conversations::list(
                    conn,
                    &ListQuery {
                        rating: Some(RatingFilter::Unrated),
                        ..Default::default()
                    },
                )
            })
            .unwrap();
        assert!(unrated.total > 0);

        let again = import_sample(&db).unwrap();
        assert_eq!(again.stored.conversations, 0);
        assert_eq!(again.stored.already, first.stored.conversations);
        assert_eq!(again.sha256, first.sha256);
        assert_eq!(all(&db).len(), stored.len());
        assert_eq!(db.with_conn(|conn| list_imports(conn)).unwrap().len(), 2);
    }

    #[test]
    fn the_sample_content_is_deterministic() {
        let a = history(1_800_000_000_000);
        let b = history(1_800_000_000_000);
        assert_eq!(a, b);
        let later = history(1_800_000_000_000 + DAY_MS);
        assert_eq!(
            fingerprint(&a),
            fingerprint(&later),
            "only the times move with now"
        );
        let refs: std::collections::HashSet<&str> =
            a.iter().map(|c| c.source_ref.as_str()).collect();
        assert_eq!(refs.len(), a.len(), "source refs are unique");
    }
}
