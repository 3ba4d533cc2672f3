-- +goose Up
-- Appends are ordered by the chain's advisory lock alone, so that readers
-- need no fence below the cluster's oldest running transaction (which any
-- long transaction anywhere on the server would hold back).
--
-- The store's writers take the lock first, then their transaction id and
-- positions, and a commit is visible before its lock is released: so
-- (transaction_id, global_position) order is commit order, and a reader
-- always sees a prefix of it. This trigger holds every other INSERT to the
-- same rule: it takes the lock (a writer that holds it already just holds
-- it again) and refuses a transaction whose id was taken before an append
-- that has committed since (it would sort before what readers have read).
CREATE TABLE event_chain (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    lock_key BIGINT  NOT NULL  -- set by the store when it opens
);

-- +goose StatementBegin
CREATE FUNCTION events_append_in_order() RETURNS trigger
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
    IF (SELECT max(transaction_id) FROM events) > pg_current_xact_id() THEN
        RAISE EXCEPTION 'this transaction began before an append that has committed since: append in a new transaction'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER events_append_in_order BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_in_order();

-- +goose Down
DROP TRIGGER events_append_in_order ON events;
DROP FUNCTION events_append_in_order();
DROP TABLE event_chain;
