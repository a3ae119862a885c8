"""The reference for `scripts/bench-export`: a straightforward Python sqlite3 + json export of the
same history with the same filter (min satisfaction, garden-eden's satisfaction rule, newest
first) to Alpaca, the way a person would write it by hand."""
import json
import sqlite3
import sys


def main(db_path, out_path, min_satisfaction):
    conn = sqlite3.connect(db_path)
    examples = []
    conversations = conn.execute(
        "SELECT id FROM conversations ORDER BY created_at DESC, id").fetchall()
    for (cid,) in conversations:
        row = conn.execute(
            "SELECT satisfaction FROM feedback WHERE conversation_id = ? AND message_id IS NULL "
            "AND satisfaction IS NOT NULL", (cid,)).fetchone()
        if row is not None:
            score = row[0]
        else:
            thumbs = conn.execute(
                "SELECT thumbs FROM feedback WHERE conversation_id = ? AND thumbs IS NOT NULL",
                (cid,)).fetchall()
            score = sum(1 for (t,) in thumbs if t == 1) / len(thumbs) if thumbs else None
        if score is None or score < min_satisfaction:
            continue
        messages = conn.execute(
            "SELECT role, content FROM messages WHERE conversation_id = ? ORDER BY position",
            (cid,)).fetchall()
        system, turns, pending = "", [], None
        for role, content in messages:
            if role == "system":
                system = content if not system else system + "\n\n" + content
            elif role == "user":
                pending = content if pending is None else pending + "\n\n" + content
            elif role == "assistant" and pending is not None:
                turns.append((pending, content))
                pending = None
        if not turns:
            continue
        examples.append({
            "instruction": turns[-1][0], "input": "", "output": turns[-1][1],
            "system": system, "history": [list(t) for t in turns[:-1]],
        })
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(examples, f, ensure_ascii=False)
    print(len(examples))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
