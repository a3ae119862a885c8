-- garden-eden schema, version 9: learning from judgements. Runs and adapters say what they taught
-- (sft, kto or dpo); a preference dataset records the votes and rated answers its pairs came from
-- (votes and thumbs → pairs dataset → run → adapter); run points carry the preference metrics
-- the trainer logs.

ALTER TABLE runs ADD COLUMN stage TEXT NOT NULL DEFAULT 'sft' CHECK (stage IN ('sft', 'kto', 'dpo'));
-- Bytes of the run's preference log (prefs_log.jsonl: every value the trainer logs, by step) read.
ALTER TABLE runs ADD COLUMN prefs_offset INTEGER NOT NULL DEFAULT 0;

ALTER TABLE adapters ADD COLUMN stage TEXT NOT NULL DEFAULT 'sft' CHECK (stage IN ('sft', 'kto', 'dpo'));

-- The judgements a dataset was built from: a side-by-side vote (`votes.id`) or a thumb on an
-- answer (the rated answer's `messages.id`), and the split it went to. Not foreign keys: the
-- lineage outlives a deleted conversation or vote.
CREATE TABLE dataset_judgements (
    dataset_id TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('vote', 'thumbs')),
    ref_id     TEXT NOT NULL,
    split      TEXT NOT NULL CHECK (split IN ('train', 'validation')),
    PRIMARY KEY (dataset_id, kind, ref_id)
);
CREATE INDEX dataset_judgements_ref ON dataset_judgements (kind, ref_id);

-- DPO/ORPO/SimPO and KTO: mean rewards of the chosen and rejected answers, their margin, the share
-- ranked right; the same at evaluation; KTO's KL estimate.
ALTER TABLE run_metrics ADD COLUMN rewards_chosen REAL;
ALTER TABLE run_metrics ADD COLUMN rewards_rejected REAL;
ALTER TABLE run_metrics ADD COLUMN rewards_margins REAL;
ALTER TABLE run_metrics ADD COLUMN rewards_accuracies REAL;
ALTER TABLE run_metrics ADD COLUMN eval_rewards_chosen REAL;
ALTER TABLE run_metrics ADD COLUMN eval_rewards_rejected REAL;
ALTER TABLE run_metrics ADD COLUMN eval_rewards_margins REAL;
ALTER TABLE run_metrics ADD COLUMN eval_rewards_accuracies REAL;
ALTER TABLE run_metrics ADD COLUMN kl REAL;
