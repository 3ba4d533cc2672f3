-- +goose Up
-- Usage per account, Asia/Taipei day of the request's start (YYYY-MM-DD),
-- key, model and app (the X-Title the request sent, '' for none), behind
-- the usage report's breakdowns by key and by app and the figures a key
-- with limits reads of the keys within them. Written under its own
-- checkpoint ("usage_keys"), which starts at the first event: a database
-- migrated here fills it at the next start without touching the other
-- rows.
CREATE TABLE usage_keys (
    account_id        TEXT   NOT NULL,
    day               TEXT   NOT NULL,
    model             TEXT   NOT NULL,
    key_id            TEXT   NOT NULL,
    app               TEXT   NOT NULL,
    requests          BIGINT NOT NULL,
    tokens_in         BIGINT NOT NULL,
    tokens_out        BIGINT NOT NULL,
    tokens_cached     BIGINT NOT NULL,
    tokens_reasoning  BIGINT NOT NULL,
    cost              TEXT   NOT NULL,
    PRIMARY KEY (account_id, day, model, key_id, app)
);

-- +goose Down
DROP TABLE usage_keys;
