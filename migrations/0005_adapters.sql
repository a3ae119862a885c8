-- garden-eden schema, version 5: the adapter registry and deployments.

CREATE TABLE adapters (
    id                  TEXT PRIMARY KEY NOT NULL,
    name                TEXT NOT NULL,
    version             TEXT NOT NULL,          -- MAJOR.MINOR.PATCH
    description         TEXT NOT NULL DEFAULT '',
    base_model          TEXT NOT NULL,          -- what it was trained on (Ollama name or HF id/path)
    base_path           TEXT,                   -- the base model's folder on this machine, when known
    path                TEXT NOT NULL,          -- the PEFT adapter folder
    format              TEXT NOT NULL CHECK (format IN ('safetensors', 'bin')),
    rank                INTEGER NOT NULL,
    alpha               REAL NOT NULL,
    target_modules      TEXT NOT NULL,          -- JSON list
    checksum            TEXT NOT NULL,          -- sha256 of the weights file
    run_id              TEXT REFERENCES runs (id) ON DELETE SET NULL,
    dataset_id          TEXT REFERENCES datasets (id) ON DELETE SET NULL,
    parent_id           TEXT REFERENCES adapters (id) ON DELETE SET NULL, -- the version before
    is_active           INTEGER NOT NULL DEFAULT 0 CHECK (is_active IN (0, 1)),
    avg_satisfaction    REAL,
    total_conversations INTEGER,
    training_loss       REAL,
    eval_loss           REAL,
    perplexity          REAL,
    metrics_updated_at  INTEGER,
    created_at          INTEGER NOT NULL,
    activated_at        INTEGER,
    UNIQUE (name, version)
);
-- Exactly one active adapter, enforced by the database.
CREATE UNIQUE INDEX adapters_one_active ON adapters (is_active) WHERE is_active = 1;
CREATE UNIQUE INDEX adapters_run ON adapters (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX adapters_created_at ON adapters (created_at);

-- Every activation, so rollback has a history to show.
CREATE TABLE adapter_activations (
    adapter_id   TEXT NOT NULL REFERENCES adapters (id) ON DELETE CASCADE,
    previous_id  TEXT REFERENCES adapters (id) ON DELETE SET NULL,
    reason       TEXT NOT NULL DEFAULT '',
    at           INTEGER NOT NULL
);

CREATE TABLE deployments (
    id              TEXT PRIMARY KEY NOT NULL,
    adapter_id      TEXT NOT NULL REFERENCES adapters (id) ON DELETE CASCADE,
    target          TEXT NOT NULL,      -- the Ollama URL
    model_name      TEXT NOT NULL,
    strategy        TEXT NOT NULL CHECK (strategy IN ('adapter', 'merged')),
    ollama_version  TEXT,
    status          TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    progress        TEXT NOT NULL DEFAULT '[]', -- JSON list of the steps seen
    error           TEXT,
    hint            TEXT,               -- what to do about the error
    test_prompt     TEXT,
    test_answer     TEXT,
    modelfile       TEXT,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX deployments_adapter ON deployments (adapter_id, created_at);
