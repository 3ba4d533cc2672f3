-- +goose Up
-- Usage per account, UTC day of the request's start (YYYY-MM-DD), key,
-- model and upstream (provider and its model), behind OpenRouter's activity
-- API. Kept for today and the 30 completed UTC days before it by the clock
-- (rows older are dropped as days pass). Written under its own checkpoint
-- ("activity"), which starts at the first event: a database migrated here
-- fills it at the next start without touching the usage rows.
CREATE TABLE usage_activity (
    account_id        TEXT   NOT NULL,
    day               TEXT   NOT NULL,
    key_id            TEXT   NOT NULL,
    model             TEXT   NOT NULL,
    provider          TEXT   NOT NULL,
    upstream          TEXT   NOT NULL,
    requests          BIGINT NOT NULL,
    tokens_in         BIGINT NOT NULL,
    tokens_out        BIGINT NOT NULL,
    tokens_cached     BIGINT NOT NULL,
    tokens_reasoning  BIGINT NOT NULL,
    cost              TEXT   NOT NULL,
    PRIMARY KEY (account_id, day, key_id, model, provider, upstream)
);
CREATE INDEX usage_activity_day ON usage_activity (day);

-- +goose Down
DROP TABLE usage_activity;
