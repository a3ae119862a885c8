-- garden-eden schema, version 6: models to chat with, side-by-side votes, A/B experiments.

-- Where answers come from: an Ollama model or an OpenAI-compatible server's model.
CREATE TABLE endpoints (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('ollama', 'openai')),
    url         TEXT NOT NULL,
    model       TEXT NOT NULL,
    adapter_id  TEXT REFERENCES adapters (id) ON DELETE SET NULL, -- the adapter it serves, if any
    created_at  INTEGER NOT NULL
);

CREATE TABLE experiments (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    arm_a       TEXT NOT NULL REFERENCES endpoints (id),
    arm_b       TEXT NOT NULL REFERENCES endpoints (id),
    split_b     REAL NOT NULL DEFAULT 0.5 CHECK (split_b > 0.0 AND split_b < 1.0), -- share of subjects sent to B
    status      TEXT NOT NULL CHECK (status IN ('running', 'stopped')),
    winner      TEXT CHECK (winner IN ('a', 'b')),
    verdict     TEXT,               -- the verdict line when it was stopped
    created_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    CHECK (arm_a <> arm_b)
);
-- One running experiment routes the chat.
CREATE UNIQUE INDEX experiments_one_running ON experiments (status) WHERE status = 'running';

-- Sticky assignment: a subject (a chat conversation) stays in its arm.
CREATE TABLE assignments (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    arm           TEXT NOT NULL CHECK (arm IN ('a', 'b')),
    assigned_at   INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, subject)
);

-- Which model answered a chat conversation, and in which experiment arm.
ALTER TABLE conversations ADD COLUMN endpoint_id TEXT REFERENCES endpoints (id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN experiment_id TEXT REFERENCES experiments (id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN arm TEXT CHECK (arm IN ('a', 'b'));
CREATE INDEX conversations_experiment ON conversations (experiment_id, arm);

-- Side-by-side comparisons: one prompt, two answers, one vote.
CREATE TABLE votes (
    id            TEXT PRIMARY KEY NOT NULL,
    prompt        TEXT NOT NULL,
    endpoint_a    TEXT NOT NULL REFERENCES endpoints (id),
    endpoint_b    TEXT NOT NULL REFERENCES endpoints (id),
    answer_a      TEXT,
    answer_b      TEXT,
    left_arm      TEXT NOT NULL CHECK (left_arm IN ('a', 'b')), -- which answer was shown on the left
    blind         INTEGER NOT NULL DEFAULT 1,
    winner        TEXT CHECK (winner IN ('a', 'b', 'tie', 'both_bad')),
    prompt_set    TEXT,               -- where the prompt came from (dataset id or 'typed')
    created_at    INTEGER NOT NULL,
    voted_at      INTEGER
);
CREATE INDEX votes_pair ON votes (endpoint_a, endpoint_b);
