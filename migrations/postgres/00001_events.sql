-- +goose Up
-- The event store. Global order is (transaction_id, global_position).
-- Writers take a global advisory lock first, so that order is also the hash
-- chain's order and the order of commits (00002 explains why readers need no
-- fence).
CREATE TABLE events (
    global_position BIGSERIAL NOT NULL,
    transaction_id  XID8      NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       TEXT      NOT NULL,
    stream_version  BIGINT    NOT NULL,  -- 0-based, as KurrentDB's revision
    event_id        UUID      NOT NULL UNIQUE,  -- an event ID is stored once
    event_type      TEXT      NOT NULL,
    schema_version  INTEGER   NOT NULL,
    occurred_at     BIGINT    NOT NULL,  -- unix nanoseconds, exactly what ChainHash hashes
    data            BYTEA     NOT NULL,  -- not JSONB: the bytes must round-trip for the hash
    prev_hash       BYTEA     NOT NULL,  -- empty for the first event
    hash            BYTEA     NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT now(),  -- for operators; not hashed
    PRIMARY KEY (stream_id, stream_version)
);

CREATE INDEX events_global_order ON events (transaction_id, global_position);

-- +goose Down
DROP TABLE events;
