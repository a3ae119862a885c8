-- garden-eden schema, version 7: the base model as its own phase of a run. Before the trainer
-- starts, the base model is found (a local folder, the Hugging Face cache) or downloaded; the run
-- page and the CLI show that phase and its progress.

-- NULL before the run starts; 'model' while the base model is resolved or downloaded;
-- 'training' once the trainer runs.
ALTER TABLE runs ADD COLUMN phase TEXT CHECK (phase IN ('model', 'training'));
-- JSON (ModelProgress): repository, bytes done and total, speed, ETA, where it was found.
ALTER TABLE runs ADD COLUMN model_progress TEXT;
