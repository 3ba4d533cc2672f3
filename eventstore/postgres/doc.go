// Package postgres is the PostgreSQL event store, for several gateway
// instances sharing one history. It implements eventstore.Store on pgx v5.
//
// # Global order without skips
//
// A BIGSERIAL is taken when a row is inserted, not when its transaction
// commits, so in general position 2 can become visible before position 1,
// and a reader that advanced past 2 would lose 1 for good. Here it cannot:
// every append takes the chain's advisory lock (below) before its
// transaction id and its positions, and a transaction's commit is visible
// before its locks are released. So the order (transaction_id,
// global_position), in which ReadAll reads, is the order in which appends
// commit, and a reader always sees a prefix of it. No fence below the
// oldest running transaction is needed, and a long transaction elsewhere on
// the server (another application, a session left open) never holds readers
// back.
//
// A trigger (migrations/postgres/00002) holds every other INSERT to the same
// rule: it takes the lock too, and refuses a transaction whose id is older
// than an append that has committed since, or that is not READ COMMITTED.
//
// The id stored is the transaction's id plus an offset kept beside the
// lock key (migrations/postgres/00003), which Open raises under the lock
// when the history holds ids ahead of this cluster's: a pg_dump restored
// into another server keeps the ids of the one it came from.
//
// # One writer at a time, amortized by group commit
//
// Every event carries the hash of its predecessor in the global order, so the
// writers of all instances need one order. Each write transaction takes
// pg_advisory_xact_lock(key) as its first statement; its transaction id and
// its positions are allocated under the lock, so (xid, position) order is the
// order in which the lock was held, which is the chain's order. The chain tip
// is simply the last row in that order.
//
// Serializing writers would cost throughput if every append were its own
// transaction. Appends go through eventstore.GroupCommitter instead: all the
// appends waiting while one transaction commits share the next one, so the
// lock is taken once per batch and its cost (a few round trips plus the
// commit's fsync) is shared by up to MaxBatchEvents events. A write
// transaction costs two pipelined round trips: BEGIN, the lock, the xid, the
// chain tip, the batch's stream versions, its already stored event IDs and
// its positions; then the INSERT of every row through unnest, pg_notify and
// COMMIT. The hash chain is computed in between, in Go.
//
// # Subscriptions
//
// SubscribeAll polls ReadAll (eventstore.Poll). Appends of this process wake
// subscribers through an in-process Notifier; appends of other processes
// send pg_notify in their write transaction, which a LISTEN connection turns
// into the same wake-up. Polling at PollInterval stays as the fallback.
//
// # Schema
//
// migrations/postgres is applied by goose at Open, in the schema named by
// the URL's search_path (the default is public), with its own version table
// so that other migration sets can live in the same schema.
package postgres
