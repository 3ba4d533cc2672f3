// Package kurrent is the KurrentDB / EventStoreDB event store, the
// customer's production backend, reached through EventStore-Client-Go v4
// (package esdb) over gRPC.
//
// KurrentDB owns streams, expected revisions, the global order ($all) and
// the deduplication of event IDs. RouteFree adds what KurrentDB does not
// have: every event carries, in its user metadata, the hash of its
// predecessor in the global order (eventstore.ChainHash). That hash must be
// known before the write, so this package appends through a single writer
// per process (eventstore.GroupCommitter) that keeps the chain tip in memory,
// loaded at Open from the last non-system event of $all, and writes each
// request of a batch in order, one AppendToStream call per request.
//
// What that guarantees, honestly:
//
//   - With one writer process the chain is exact: each append lands after the
//     previous one in $all, so the predecessor hashed is the predecessor
//     stored.
//   - With several writer processes on one database, their appends
//     interleave in $all and each writer chains off its own tip: Verify over
//     $all then reports a break where the writers interleave. Such
//     deployments either keep one writer (other instances forward their
//     appends to it) or verify per writer. This package does not pretend
//     otherwise.
//   - A batch that spans several streams is several appends, so it is not
//     atomic: each request of the batch succeeds or fails on its own (as the
//     eventstore.BatchWriter contract allows per request).
//   - Idempotency: KurrentDB only deduplicates IDs within a stream (exactly
//     for NoStream, StreamExists and exact revisions, best effort for Any).
//     The writer adds a window of recent event IDs (Options.IDWindow,
//     refilled from $all at Open) so that an ID is stored once across
//     streams too, and repeats within one call are dropped. Beyond the window
//     only KurrentDB's per-stream idempotency remains. A reply to a write the
//     server recognised is noticed (its position is not past the chain tip)
//     and the tip is kept.
//   - Options.Namespace prefixes stream names so several histories (or
//     tests) share one server; each has its own chain.
//   - Stream revisions that an Any or StreamExists append will get are taken
//     from a per-stream cache (exact for a single writer) or read from the
//     server. Streams must not be deleted: a soft-deleted stream reads as
//     missing but continues its revisions, and the hash would name the wrong
//     one (the writer logs such a mismatch).
//
// ReadAll reads $all forwards, skips the event at the start position
// (positions are exclusive) and every system event (types starting with
// "$"). KurrentDB's $all is in commit order, so nothing can later appear
// before an event already read. SubscribeAll polls ReadAll
// (eventstore.Poll), woken at once by this process's own appends.
package kurrent
