-- garden-eden schema, version 1: the conversation history and the person's feedback on it.
-- Timestamps are Unix epoch milliseconds (UTC). Ids are UUIDs as text.

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    -- where it came from: 'chat' (garden-eden's own chat), 'goe-v3', 'openwebui', 'chatgpt',
    -- 'sharegpt', 'alpaca', 'jsonl', 'sample'
    source        TEXT NOT NULL,
    -- the conversation's id in its source, so that re-importing adds nothing twice
    source_ref    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (source, source_ref)
);
CREATE INDEX conversations_created_at ON conversations (created_at);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- order inside the conversation, from 0
    position        INTEGER NOT NULL CHECK (position >= 0),
    role            TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    -- which model (and adapter, once the registry exists) produced an assistant message
    model           TEXT,
    adapter_id      TEXT,
    UNIQUE (conversation_id, position)
);
CREATE INDEX messages_conversation ON messages (conversation_id, position);

-- Feedback is explicit and kept as given. A row either rates one message (message_id set:
-- thumbs up = 1 / down = -1) or the whole conversation (message_id NULL: satisfaction 0..1).
CREATE TABLE feedback (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      TEXT REFERENCES messages (id) ON DELETE CASCADE,
    thumbs          INTEGER CHECK (thumbs IN (-1, 1)),
    satisfaction    REAL CHECK (satisfaction >= 0.0 AND satisfaction <= 1.0),
    comment         TEXT,
    source          TEXT NOT NULL DEFAULT 'user',
    created_at      INTEGER NOT NULL,
    CHECK (thumbs IS NOT NULL OR satisfaction IS NOT NULL OR comment IS NOT NULL),
    CHECK (message_id IS NOT NULL OR thumbs IS NULL)
);
CREATE INDEX feedback_conversation ON feedback (conversation_id);
CREATE INDEX feedback_message ON feedback (message_id);
