-- +goose Up
-- A history restored with pg_dump into another cluster (a new server, one
-- rebuilt) keeps the transaction ids of the cluster it came from, which may
-- be far ahead of the new one's counter: every append would then sort
-- before what was restored, and the trigger of 00002 would refuse them all
-- until the counter caught up. The order column therefore takes this
-- cluster's transaction id plus an offset kept with the chain's lock key;
-- the store raises the offset when it opens, under the chain's lock, so
-- that every append sorts after the history it finds. Adding a constant
-- keeps the order of the ids it is added to, and the offset only grows.
ALTER TABLE event_chain ADD COLUMN xid_offset BIGINT NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION events_commit_id() RETURNS xid8
LANGUAGE sql SET search_path FROM CURRENT AS $$
    SELECT (pg_current_xact_id()::text::numeric
            + COALESCE((SELECT xid_offset FROM event_chain WHERE id = 1), 0))::text::xid8
$$;
-- +goose StatementEnd

ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT events_commit_id();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events_append_in_order() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    k BIGINT;
BEGIN
    -- Under REPEATABLE READ the check below would read an old snapshot.
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'events are appended in READ COMMITTED transactions, not %', current_setting('transaction_isolation')
            USING ERRCODE = 'serialization_failure';
    END IF;
    SELECT lock_key INTO k FROM event_chain WHERE id = 1;
    IF k IS NULL THEN
        RAISE EXCEPTION 'the event chain has no lock key: open the event store with RouteFree first'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    PERFORM pg_advisory_xact_lock(k);
    IF (SELECT max(transaction_id) FROM events) > events_commit_id() THEN
        RAISE EXCEPTION 'this transaction began before an append that has committed since: append in a new transaction'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION events_append_in_order() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    k BIGINT;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'events are appended in READ COMMITTED transactions, not %', current_setting('transaction_isolation')
            USING ERRCODE = 'serialization_failure';
    END IF;
    SELECT lock_key INTO k FROM event_chain WHERE id = 1;
    IF k IS NULL THEN
        RAISE EXCEPTION 'the event chain has no lock key: open the event store with RouteFree first'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    PERFORM pg_advisory_xact_lock(k);
    IF (SELECT max(transaction_id) FROM events) > pg_current_xact_id() THEN
        RAISE EXCEPTION 'this transaction began before an append that has committed since: append in a new transaction'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT pg_current_xact_id();
DROP FUNCTION events_commit_id();
ALTER TABLE event_chain DROP COLUMN xid_offset;
