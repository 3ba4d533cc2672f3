// Package admission decides, before a request reaches an upstream, whether
// it may go: per-key rate limits (RPM and TPM) and a credit hold for the
// request's maximum cost. Each has an in-memory implementation for one
// process and a Redis one, atomic through Lua, for several gateway
// instances sharing limits and credit. Both pass one shared test table.
//
// # Rate limits: GCRA on two dimensions
//
// The limiter is the generic cell rate algorithm (GCRA, as in
// github.com/go-redis/redis_rate) with burst = the per-minute limit. Each
// key keeps one "theoretical arrival time" (TAT) per dimension; a unit
// (request or token) advances it by 60s/limit, and a request is admitted
// iff the TAT after admission lies at most one minute ahead of now. So on
// Starter (10 RPM) ten requests may come at once, the 11th is refused with
// Retry-After = 6s, and capacity comes back smoothly, one request every 6s.
// Why GCRA rather than a sliding window: a few integers of state per key
// (no per-request log), O(1) per call, Retry-After and reset fall out
// exactly, and a plan change only rescales the backlog: each TAT is kept
// with the limit it was taken under, and a request under another limit
// first counts the same units at the new rate, so a change applies to the
// very next request (an upgrade is not refused for a backlog taken at the
// old rate, a downgrade not admitted past the new limit). redis_rate itself does not fit
// because a request must take one request AND its estimated tokens, or
// neither: one Lua script checks both dimensions and commits both or none.
//
// Times are integer microseconds (exact in Lua's doubles until 2^53, i.e.
// far past year 2200); the increment for n units is floor(n·60s/limit),
// the same integer formula in Go and in Lua, so both implementations give
// identical decisions. TPM admits on the estimate; Settle then moves the
// token TAT by (actual − estimate) from the moment the usage is known (a
// stream's end): more tokens push it forward (later requests wait longer),
// fewer give the difference back.
//
// Key names given to the limiter and ledger are key IDs, never API key
// secrets (they end up in Redis key names).
//
// # Credit holds: the ledger
//
// Balances come from a projection that lags the events. A request's cost
// is therefore kept by the ledger as "settled at usage-stream version v"
// until the caller's view says its projection has applied v:
//
//	available = Balance + CreditLimit − Σ active holds − Σ settled(version > AppliedVersion)
//
// and a hold of amount is admitted iff amount ≤ available (plus the same
// rule for a key's spending limit). Amounts are integer micro-NTD: holds,
// costs and spend rounded up, balances and limits rounded down, so
// admission is never optimistic.
//
// Settled entries may be forgotten once the projection has applied them —
// but several instances (and goroutines holding a view read a moment ago)
// see different AppliedVersions, and trimming at the highest would let a
// lagging view count a cost neither in its balance nor in the ledger. So an
// entry is dropped only when its version ≤ the AppliedVersion passed in AND
// it was settled more than SettledGrace ago (default 2 minutes): safe as
// long as no view used for admission lags its projection by more than the
// grace. Holds expire HoldTTL (default 15 minutes) after they are taken or
// last renewed, and a running request renews its own every third of that:
// a hold lasts as long as its request, and a crashed instance's holds stop
// locking credit within HoldTTL (serve gives the Redis ledger, which
// instances share, one minute); whole-account state expires after it has
// been idle for longer than both.
//
// The Redis ledger is the shared copy of what each instance also keeps for
// its own requests: a settle or release that could not reach Redis is sent
// again until Redis answers or the hold would have lapsed (a settle counts
// once however often it arrives), and when Redis has lost its state (an
// epoch key gone, or written by another Redis process: a snapshot, a
// failover) each instance writes its holds and unapplied costs back while
// Holds wait (ErrLedgerRestoring). So they do when Redis evicted keys: the
// key of an account's holds is gone while an instance still has a hold in
// it, or INFO stats' evicted_keys moved since the epoch was written. The
// instance that notices drops the epoch, logs an error, and every instance
// writes its state back. See ledger_redis.go.
package admission
