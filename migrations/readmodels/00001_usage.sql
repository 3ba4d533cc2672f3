-- +goose Up
-- Checkpoints of SQL read models: the last global position applied, written
-- in the same transaction as the rows it covers.
CREATE TABLE projection_checkpoints (
    name         TEXT PRIMARY KEY,
    commit_pos   BIGINT NOT NULL,
    prepare_pos  BIGINT NOT NULL
);

-- Usage per account, Asia/Taipei month (YYYY-MM) and model. Cost is an exact
-- decimal kept as text and summed in Go, never as a float.
CREATE TABLE usage_monthly (
    account_id        TEXT   NOT NULL,
    month             TEXT   NOT NULL,
    model             TEXT   NOT NULL,
    requests          BIGINT NOT NULL,
    tokens_in         BIGINT NOT NULL,
    tokens_out        BIGINT NOT NULL,
    tokens_cached     BIGINT NOT NULL,
    tokens_reasoning  BIGINT NOT NULL,
    cost              TEXT   NOT NULL,
    PRIMARY KEY (account_id, month, model)
);
CREATE INDEX usage_monthly_month ON usage_monthly (month);

-- The same per Asia/Taipei day (YYYY-MM-DD), for charts.
CREATE TABLE usage_daily (
    account_id        TEXT   NOT NULL,
    day               TEXT   NOT NULL,
    model             TEXT   NOT NULL,
    requests          BIGINT NOT NULL,
    tokens_in         BIGINT NOT NULL,
    tokens_out        BIGINT NOT NULL,
    tokens_cached     BIGINT NOT NULL,
    tokens_reasoning  BIGINT NOT NULL,
    cost              TEXT   NOT NULL,
    PRIMARY KEY (account_id, day, model)
);

-- +goose Down
DROP TABLE usage_daily;
DROP TABLE usage_monthly;
DROP TABLE projection_checkpoints;
