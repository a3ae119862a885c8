-- garden-eden schema, version 4: training runs and their metrics.

CREATE TABLE runs (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    dataset_id      TEXT REFERENCES datasets (id) ON DELETE SET NULL,
    backend         TEXT NOT NULL,
    config          TEXT NOT NULL,  -- JSON: the typed TrainConfig
    yaml            TEXT NOT NULL,  -- exactly what the trainer was given
    status          TEXT NOT NULL CHECK (status IN
                        ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
    pid             INTEGER,        -- the trainer's process (and process group) while running
    output_dir      TEXT NOT NULL,
    log_path        TEXT NOT NULL,  -- the trainer's stdout and stderr
    metrics_offset  INTEGER NOT NULL DEFAULT 0, -- bytes of trainer_log.jsonl already stored
    error           TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    exit_code       INTEGER,
    total_steps     INTEGER,
    created_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER
);
CREATE INDEX runs_created_at ON runs (created_at);
-- One training job at a time, enforced by the database.
CREATE UNIQUE INDEX runs_one_running ON runs (status) WHERE status = 'running';

-- One point per step: a resumed run logs steps again; the latest value wins, and train and eval
-- lines of the same step fill different columns of the same point.
CREATE TABLE run_metrics (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step         INTEGER NOT NULL,
    total_steps  INTEGER,
    epoch        REAL,
    loss         REAL,
    eval_loss    REAL,
    lr           REAL,
    percentage   REAL,
    elapsed_s    REAL,
    remaining_s  REAL,
    throughput   REAL,
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (run_id, step)
);
