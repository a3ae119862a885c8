-- garden-eden schema, version 2: imports, one current rating per thing, and exported datasets.

-- A message has at most one thumbs (changing it replaces it); a conversation has at most one
-- explicit satisfaction (likewise). Comments may be added freely.
CREATE UNIQUE INDEX feedback_one_thumbs_per_message
    ON feedback (message_id) WHERE message_id IS NOT NULL AND thumbs IS NOT NULL;
CREATE UNIQUE INDEX feedback_one_rating_per_conversation
    ON feedback (conversation_id) WHERE message_id IS NULL AND satisfaction IS NOT NULL;

-- Each import run: what was read, what was added, what was skipped and why.
CREATE TABLE imports (
    id            TEXT PRIMARY KEY NOT NULL,
    kind          TEXT NOT NULL,
    path          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    conversations INTEGER NOT NULL,
    messages      INTEGER NOT NULL,
    ratings       INTEGER NOT NULL,
    already       INTEGER NOT NULL,
    skipped       TEXT NOT NULL DEFAULT '[]', -- JSON [{place, reason}]
    created_at    INTEGER NOT NULL
);

ALTER TABLE conversations ADD COLUMN import_id TEXT REFERENCES imports (id) ON DELETE SET NULL;

-- Exported training data sets.
CREATE TABLE datasets (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    format           TEXT NOT NULL,
    filter           TEXT NOT NULL,  -- JSON: the DataFilter and curation options used
    counts           TEXT NOT NULL,  -- JSON: counts before/after each step
    examples         INTEGER NOT NULL,
    validation       INTEGER NOT NULL,
    avg_satisfaction REAL,
    path             TEXT NOT NULL,  -- the training file
    validation_path  TEXT,
    dataset_info     TEXT NOT NULL,  -- the dataset_info.json written beside it
    sha256           TEXT NOT NULL,
    parent_ids       TEXT NOT NULL DEFAULT '[]', -- JSON: datasets this one was merged from
    created_at       INTEGER NOT NULL
);
CREATE INDEX datasets_created_at ON datasets (created_at);
