-- garden-eden schema, version 10: training on a Ray cluster. Clusters are registered once by name
-- and dashboard URL; a run records the cluster it was handed to, the job's submission id, how much
-- of the job's log has been read, and where its outputs stay on the cluster.

CREATE TABLE clusters (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    url        TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

ALTER TABLE runs ADD COLUMN cluster_id TEXT REFERENCES clusters (id);
ALTER TABLE runs ADD COLUMN job_id TEXT;
-- Bytes of the job's log (as the Jobs API returns it) already read.
ALTER TABLE runs ADD COLUMN job_log_offset INTEGER NOT NULL DEFAULT 0;
-- The run's output folder on the cluster's node (checkpoints stay there) and that node's address.
ALTER TABLE runs ADD COLUMN remote_output TEXT;
ALTER TABLE runs ADD COLUMN remote_node TEXT;
