-- +goose Up
-- The event a checkpoint was taken at, by its ID and chain hash: a store put
-- back from an older copy, or replaced, no longer holds that event there,
-- and the read model is rebuilt from the store rather than trusted.
ALTER TABLE projection_checkpoints ADD COLUMN event_id TEXT;
ALTER TABLE projection_checkpoints ADD COLUMN event_hash TEXT;

-- +goose Down
ALTER TABLE projection_checkpoints DROP COLUMN event_hash;
ALTER TABLE projection_checkpoints DROP COLUMN event_id;
