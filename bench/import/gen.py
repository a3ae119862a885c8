"""Writes the inputs of scripts/bench-import, streaming, so it needs little memory itself.

  gen.py chatgpt OUT SIZE_MB   a ChatGPT export (conversations.json) of about SIZE_MB MB: a JSON
                               array of conversations, each a `mapping` tree of user/assistant
                               messages (with an edited-away branch), like ChatGPT writes it.
  gen.py longline OUT SIZE_MB  JSON Lines whose one line is SIZE_MB MB long.
"""
import json
import random
import sys

WORDS = ("the of and to in is that for it as with was on be by this are at from or an have not "
         "which but all were when we there can more if no out so said what up its about into than "
         "them only other new some could time these two may then do first any my now such like "
         "김치 서울 날씨 안녕하세요 감사합니다 réseau naïve 東京 🙂").split()


def text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def node(nid, parent, children, role, body, t, slug=None):
    message = {
        "id": nid, "author": {"role": role, "name": None, "metadata": {}},
        "create_time": t, "update_time": None,
        "content": {"content_type": "text", "parts": [body]},
        "status": "finished_successfully", "end_turn": role == "assistant", "weight": 1.0,
        "metadata": {"model_slug": slug} if slug else {}, "recipient": "all",
    }
    return {"id": nid, "message": message, "parent": parent, "children": children}


def conversation(rng, i):
    t0 = 1_700_000_000 + i * 97.5
    turns = rng.randint(4, 16)
    mapping = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
    parent, t = "root", t0
    for k in range(turns):
        for role in ("user", "assistant"):
            nid = f"{i}-{k}-{role[0]}"
            t += rng.random() * 30
            words = rng.randint(20, 120) if role == "user" else rng.randint(150, 600)
            mapping[parent]["children"].append(nid)
            mapping[nid] = node(nid, parent, [], role, text(rng, words), t,
                                "gpt-4o" if role == "assistant" else None)
            if k == 1 and role == "assistant":  # a regenerated answer, off the current branch
                alt = nid + "-old"
                mapping[parent]["children"].append(alt)
                mapping[alt] = node(alt, parent, [], role, text(rng, 80), t - 1, "gpt-4o")
            parent = nid
    return {"title": text(rng, 4), "create_time": t0, "update_time": t, "mapping": mapping,
            "moderation_results": [], "current_node": parent, "plugin_ids": None,
            "conversation_id": f"conv-{i}", "id": f"conv-{i}"}


def chatgpt(out, size):
    rng = random.Random(12)
    written, i = 0, 0
    with open(out, "w", encoding="ascii") as f:
        f.write("[")
        while written < size:
            chunk = ("" if i == 0 else ", ") + json.dumps(conversation(rng, i))
            f.write(chunk)
            written += len(chunk)
            i += 1
        f.write("]")
    print(f"{i} conversations", file=sys.stderr)


def longline(out, size):
    block = "x" * (1 << 20)
    with open(out, "w", encoding="ascii") as f:
        f.write('{"user": "')
        for _ in range(size >> 20):
            f.write(block)
        f.write('", "assistant": "ok"}\n')


if __name__ == "__main__":
    what, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"chatgpt": chatgpt, "longline": longline}[what](out, mb << 20)
