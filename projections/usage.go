package projections

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/migrations"
)

// Dialect names the SQL database of the usage model.
type Dialect string

// Supported dialects: modernc.org/sqlite and PostgreSQL through pgx's
// database/sql driver.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// MigrateReadModels applies the read-model migrations (migrations.ReadModels)
// with goose, in their own version table. On PostgreSQL, instances starting
// together on a new schema take turns on a session advisory lock of that
// schema: two creating the same table at once would fail one of them.
func MigrateReadModels(ctx context.Context, db *sql.DB, d Dialect) error {
	gd := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithTableName(migrations.ReadModelsTable)}
	if d == Postgres {
		gd = goose.DialectPostgres
		var schema sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return fmt.Errorf("projections: read-model migrations: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("routefree/readmodels/migrations/" + schema.String))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("projections: read-model migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	} else if d != SQLite {
		return fmt.Errorf("projections: unknown dialect %q", d)
	}
	p, err := goose.NewProvider(gd, db, migrations.ReadModels(), opts...)
	if err != nil {
		return fmt.Errorf("projections: read-model migrations: %w", err)
	}
	if err := migrations.RefuseNewer(ctx, p); err != nil {
		return fmt.Errorf("projections: read-model migrations (%s): %w", migrations.ReadModelsTable, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("projections: read-model migrations: %w", err)
	}
	return nil
}

// UsageRow is usage of one account (or every account), period and model.
type UsageRow struct {
	AccountID       string // "" in ByMonth's per-model totals
	Period          string // YYYY-MM, or YYYY-MM-DD for days
	Model           string
	Requests        int64
	TokensIn        int64
	TokensOut       int64
	TokensCached    int64
	TokensReasoning int64
	Cost            decimal.Decimal
}

func (r *UsageRow) add(o *UsageRow) {
	r.Requests += o.Requests
	r.TokensIn += o.TokensIn
	r.TokensOut += o.TokensOut
	r.TokensCached += o.TokensCached
	r.TokensReasoning += o.TokensReasoning
	r.Cost = r.Cost.Add(o.Cost)
}

// Usage is the finance read model in SQL: usage per account, Taipei month
// (of the request's start) and model, and per Taipei day for charts. Rows and
// checkpoint commit in one transaction, so a restart never counts twice.
// The same machinery, under its own checkpoint, keeps the rows of
// OpenRouter's activity API (NewActivity) and of the usage by key and app
// (NewKeyUsage).
type Usage struct {
	db       *sql.DB
	d        Dialect
	name     string
	tables   []usageTable // what it writes
	maxCache int          // past this many rows the cache restarts empty
	flushAt  int          // a catch-up writes every flushAt events

	// The activity rows' window: days before pruned are deleted (and
	// facts of them skipped); now is its clock (nil: time.Now).
	pruned string
	now    func() time.Time

	// cache holds the rows as this process last committed them, valid while
	// the stored checkpoint is still cacheAt (nobody else wrote since).
	// complete: the cache holds every row (the table started empty), so a
	// miss means no row and needs no SELECT — what makes a replay fast.
	mu       sync.Mutex
	pending  []usageFact         // request.completed events applied but not yet written
	last     eventstore.Position // position of the last event applied
	anchor   anchor              // the last event applied, stored with its position
	dirty    bool                // last is past the stored checkpoint
	cache    map[usageKey]UsageRow
	stmts    map[string]*sql.Stmt // prepared once, by SQL text
	cacheAt  eventstore.Position
	complete bool
	timer    *time.Timer // armed while live events wait for their write
}

// maxCachedRows bounds the usage model's cache; past it the cache
// restarts empty.
const maxCachedRows = 500_000

// usageTable is one table of rows a model writes.
type usageTable uint8

const (
	tableMonthly  usageTable = iota // usage_monthly: account × Taipei month × model
	tableDaily                      // usage_daily: account × Taipei day × model
	tableActivity                   // usage_activity: account × UTC day × key × model × provider × upstream
	tableKeys                       // usage_keys: account × Taipei day × key × model × app
)

// tableSpec names a table and its key columns after account_id, the
// period and model.
var tableSpec = [...]struct {
	name, period string
	extra        []string // key columns kept in usageKey.sub
}{
	tableMonthly:  {"usage_monthly", "month", nil},
	tableDaily:    {"usage_daily", "day", nil},
	tableActivity: {"usage_activity", "day", []string{"key_id", "provider", "upstream"}},
	tableKeys:     {"usage_keys", "day", []string{"key_id", "app"}},
}

// subSep joins the extra key columns of a row in usageKey.sub: one string
// rather than three keeps the cache's keys small.
const subSep = "\x00"

var _ Projection = (*Usage)(nil)

// NewUsage migrates the database and returns the usage model.
func NewUsage(ctx context.Context, db *sql.DB, d Dialect) (*Usage, error) {
	if err := MigrateReadModels(ctx, db, d); err != nil {
		return nil, err
	}
	u := &Usage{db: db, d: d, name: "usage", tables: []usageTable{tableMonthly, tableDaily}, maxCache: maxCachedRows, flushAt: flushEvery}
	if err := u.prepare(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

// Name implements Projection.
func (u *Usage) Name() string { return u.name }

// q rewrites ? placeholders as $n for PostgreSQL.
func (u *Usage) q(s string) string {
	if u.d != Postgres {
		return s
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

const selectCheckpoint = `SELECT commit_pos, prepare_pos FROM projection_checkpoints WHERE name = ?`

// Statements of a flush, prepared on the database once (parsing the SQL at
// every write showed in profiles) and used in each transaction through
// Tx.StmtContext. Prepared up front: with SQLite's single connection a
// prepare inside a transaction would wait for that connection.
func (u *Usage) prepare(ctx context.Context) error {
	queries := []string{lockCheckpoint, selectCheckpoint, updateCheckpoint}
	for _, t := range u.tables {
		queries = append(queries, selectRow(t), insertRow(t), upsertRow(t))
	}
	u.stmts = make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		st, err := u.db.PrepareContext(ctx, u.q(q))
		if err != nil {
			return err
		}
		u.stmts[q] = st
	}
	return nil
}

// txStmt returns a prepared statement for use in tx.
func (u *Usage) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, ok := u.stmts[query]
	if !ok {
		return nil, fmt.Errorf("projections: statement not prepared: %s", query)
	}
	return tx.StmtContext(ctx, st), nil
}

const (
	lockCheckpoint = `INSERT INTO projection_checkpoints (name, commit_pos, prepare_pos) VALUES (?, 0, 0)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name`
	updateCheckpoint = `UPDATE projection_checkpoints SET commit_pos = ?, prepare_pos = ?, event_id = ?, event_hash = ? WHERE name = ?`
)

// keyColumns are a table's key columns.
func keyColumns(t usageTable) []string {
	return append([]string{"account_id", tableSpec[t].period, "model"}, tableSpec[t].extra...)
}

func selectRow(t usageTable) string {
	return `SELECT requests, tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost
		FROM ` + tableSpec[t].name + ` WHERE ` + strings.Join(keyColumns(t), ` = ? AND `) + ` = ?`
}

// insertRow adds a row that is not there yet, and nothing otherwise.
func insertRow(t usageTable) string {
	keys := strings.Join(keyColumns(t), ", ")
	return `INSERT INTO ` + tableSpec[t].name + ` (` + keys + `, requests, tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost)
		VALUES (` + strings.Repeat("?, ", len(keyColumns(t))) + `?, ?, ?, ?, ?, ?) ON CONFLICT (` + keys + `) DO NOTHING`
}

func upsertRow(t usageTable) string {
	keys := strings.Join(keyColumns(t), ", ")
	return `INSERT INTO ` + tableSpec[t].name + ` (` + keys + `, requests, tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost)
		VALUES (` + strings.Repeat("?, ", len(keyColumns(t))) + `?, ?, ?, ?, ?, ?)
		ON CONFLICT (` + keys + `) DO UPDATE SET requests = excluded.requests, tokens_in = excluded.tokens_in,
		tokens_out = excluded.tokens_out, tokens_cached = excluded.tokens_cached, tokens_reasoning = excluded.tokens_reasoning, cost = excluded.cost`
}

func (u *Usage) checkpoint(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}) (eventstore.Position, error) {
	var c, p int64
	err := q.QueryRowContext(ctx, u.name).Scan(&c, &p)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Start, nil
	}
	return eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}, err
}

// Checkpoint implements Projection: the position stored with the rows.
func (u *Usage) Checkpoint(ctx context.Context) (eventstore.Position, error) {
	row := u.db.QueryRowContext(ctx, u.q(selectCheckpoint), u.name)
	var c, p int64
	err := row.Scan(&c, &p)
	if errors.Is(err, sql.ErrNoRows) {
		return eventstore.Start, nil
	}
	return eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}, err
}

// consistentTries bounds the reads of consistent: each retry means
// another process wrote the tables meanwhile, which it does a few times a
// second at most.
const consistentTries = 20

// consistent runs read, which reads the model's tables, between two reads
// of the stored checkpoint, until both are the same, and returns it: what
// read saw is then the tables at that position, even where another
// process (a second serve) writes them too.
func (u *Usage) consistent(ctx context.Context, read func() error) (eventstore.Position, error) {
	for range consistentTries {
		before, err := u.Checkpoint(ctx)
		if err != nil {
			return before, err
		}
		if err := read(); err != nil {
			return before, err
		}
		after, err := u.Checkpoint(ctx)
		if err != nil || after == before {
			return after, err
		}
	}
	return eventstore.Start, fmt.Errorf("projections: %s kept changing while its figures were read", u.name)
}

type usageKey struct {
	table                  usageTable
	account, period, model string
	sub                    string // the table's extra key columns, joined by subSep
}

// args are the key's column values, in keyColumns' order.
func (k usageKey) args() []any {
	args := []any{k.account, k.period, k.model}
	if len(tableSpec[k.table].extra) > 0 {
		for _, v := range strings.Split(k.sub, subSep) {
			args = append(args, v)
		}
	}
	return args
}

// usageFact is what one buffered request.completed event adds to the rows.
// The buffer keeps these rather than the events: a catch-up buffers up to
// flushEvery of them, and the events' decoded bodies and stored bytes were
// tens of megabytes on top of the read models.
type usageFact struct {
	pos                     eventstore.Position
	account, model          string
	key, provider, upstream string
	app                     string // the X-Title the request sent
	at                      time.Time
	usage                   domain.Usage
	cost                    decimal.Decimal
	err                     error // the event could not be decoded: the write fails with it
}

// factOf is what a request.completed event adds (ok false: another event).
func factOf(e *Event) (usageFact, bool) {
	if v, ok := e.Body.(*domain.RequestCompleted); ok {
		at := v.StartedAt
		if at.IsZero() {
			at = e.OccurredAt
		}
		return usageFact{pos: e.Position, account: v.AccountID, model: v.Model, key: v.KeyID, provider: v.Provider,
			upstream: v.Upstream, app: v.AppTitle, at: at, usage: v.Usage, cost: v.Cost}, true
	}
	if e.Err != nil && e.Type == domain.TypeRequestCompleted {
		return usageFact{pos: e.Position, err: e.Err}, true
	}
	return usageFact{}, false
}

// Apply implements Projection. Events are buffered and written in large
// transactions: while the runner is catching up (full batches) until the
// buffer is full, and live for at most liveDelay, so a busy gateway writes
// this finance model a few times a second rather than once per request.
// A read writes the buffer out first, so readers never see it lag. A crash
// loses only the buffer, and the stored checkpoint brings those events back.
func (u *Usage) Apply(ctx context.Context, batch []Event) error {
	if len(batch) == 0 {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := range batch {
		e := &batch[i]
		if !u.last.Less(e.Position) {
			continue // redelivered after a failed write: already buffered
		}
		if f, ok := factOf(e); ok {
			u.pending = append(u.pending, f)
		}
		u.last, u.dirty = e.Position, true
		u.anchor = anchor{id: e.ID, hash: e.Hash}
	}
	if len(batch) >= catchUpBatch && len(u.pending) < u.flushAt {
		return nil
	}
	if len(u.pending) < liveMax {
		u.flushLater()
		return nil
	}
	return u.flushLocked(ctx)
}

// release empties the buffer once it is written. Its entries hold strings
// of the events' bodies: truncating it alone would keep them, up to
// flushEvery of them after a catch-up, for the process's life. A buffer
// grown past what live traffic needs is dropped altogether.
func (u *Usage) release() {
	if cap(u.pending) > 2*liveMax {
		u.pending = nil
		return
	}
	clear(u.pending)
	u.pending = u.pending[:0]
}

// Buffering bounds: a batch this large means history is still being read.
// A catch-up writes every flushEvery events; a replay of 400,000 events took
// as long as with eight times as many per write.
const (
	catchUpBatch = 1000
	flushEvery   = 25_000
	liveMax      = 2000
	liveDelay    = 250 * time.Millisecond
)

// flushLater arms the live write if it is not armed; a failed write tries
// again after the same delay (and every read tries too).
func (u *Usage) flushLater() {
	if u.timer != nil {
		return
	}
	u.timer = time.AfterFunc(liveDelay, func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.timer = nil
		if err := u.flushLocked(context.Background()); err != nil {
			u.flushLater()
		}
	})
}

// Close writes what is buffered and stops the live write. Apply after Close
// buffers again; call it once the runner has stopped.
func (u *Usage) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.timer != nil {
		u.timer.Stop()
		u.timer = nil
	}
	return u.flushLocked(context.Background())
}

// Flush writes buffered events now.
func (u *Usage) Flush(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.flushLocked(ctx)
}

// flushLocked sums the buffered events per row in Go, then reads, adds and
// writes each touched row once, with the checkpoint, in one transaction. The
// checkpoint row is written first: it locks out a second writer (another
// instance) until commit, and its stored value trims what an earlier run or
// another instance already applied.
func (u *Usage) flushLocked(ctx context.Context) (err error) {
	if !u.dirty {
		return nil
	}
	last, at := u.last, u.anchor
	batch := u.pending
	tx, err := u.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	lock, err := u.txStmt(ctx, tx, lockCheckpoint)
	if err != nil {
		return err
	}
	if _, err = lock.ExecContext(ctx, u.name); err != nil {
		return err
	}
	sel, err := u.txStmt(ctx, tx, selectCheckpoint)
	if err != nil {
		return err
	}
	cp, err := u.checkpoint(ctx, sel)
	if err != nil {
		return err
	}
	for len(batch) > 0 && !cp.Less(batch[0].pos) {
		batch = batch[1:] // applied by an earlier run or another instance
	}
	if !cp.Less(last) { // another writer got further: nothing of ours is new
		u.release()
		u.dirty, u.cache = false, nil
		return tx.Commit()
	}
	switch {
	case cp == eventstore.Start: // nothing applied yet: the tables are empty
		u.cache, u.complete = map[usageKey]UsageRow{}, true
	case u.cache == nil || cp != u.cacheAt:
		u.cache, u.complete = map[usageKey]UsageRow{}, false
	}
	cutoff := u.cutoff()
	sums := make([]map[usageKey]*UsageRow, len(u.tables))
	for i := range sums {
		sums[i] = map[usageKey]*UsageRow{}
	}
	for i := range batch {
		f := &batch[i]
		if f.err != nil {
			return f.err
		}
		one := UsageRow{Requests: 1, TokensIn: f.usage.Input, TokensOut: f.usage.Output,
			TokensCached: f.usage.Cached, TokensReasoning: f.usage.Reasoning, Cost: f.cost}
		local := f.at.In(Taipei)
		for j, t := range u.tables {
			k := usageKey{table: t, account: f.account, model: f.model}
			switch t {
			case tableMonthly:
				k.period = local.Format("2006-01")
			case tableDaily:
				k.period = local.Format(time.DateOnly)
			case tableActivity:
				if k.period = activityDay(f.at); k.period < cutoff {
					continue // past the window: OpenRouter's activity never shows it
				}
				k.sub = f.key + subSep + f.provider + subSep + f.upstream
			case tableKeys:
				k.period = local.Format(time.DateOnly)
				k.sub = f.key + subSep + f.app
			}
			r, ok := sums[j][k]
			if !ok {
				r = &UsageRow{AccountID: k.account, Period: k.period, Model: k.model}
				sums[j][k] = r
			}
			r.add(&one)
		}
	}
	for j, rows := range sums {
		if err = u.merge(ctx, tx, u.tables[j], rows); err != nil {
			return err
		}
	}
	prune := cutoff > u.pruned
	if prune {
		if _, err = tx.ExecContext(ctx, u.q(`DELETE FROM usage_activity WHERE day < ?`), cutoff); err != nil {
			return err
		}
	}
	upd, err := u.txStmt(ctx, tx, updateCheckpoint)
	if err != nil {
		return err
	}
	if _, err = upd.ExecContext(ctx, int64(last.Commit), int64(last.Prepare), at.id.String(), hex.EncodeToString(at.hash), u.name); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		u.cache = nil
		return err
	}
	u.cacheAt = last
	u.release()
	u.dirty = false
	if prune {
		u.pruned = cutoff
		for k := range u.cache {
			if k.table == tableActivity && k.period < cutoff {
				delete(u.cache, k)
			}
		}
	}
	for _, m := range sums {
		for k, r := range m {
			u.cache[k] = *r
		}
	}
	if len(u.cache) > u.maxCache {
		u.cache, u.complete = map[usageKey]UsageRow{}, false
	}
	return nil
}

// cutoff is the first UTC day the activity rows keep: the first of the
// ActivityDays completed days before the clock's today ("" for a model
// without activity rows). Days after it stay, today's and any a request
// started on by a clock ahead of this one included.
func (u *Usage) cutoff() string {
	if !slices.Contains(u.tables, tableActivity) {
		return ""
	}
	from, _ := ActivityWindow(u.clock())
	return from
}

// clock is the time by the activity window's clock.
func (u *Usage) clock() time.Time {
	if u.now != nil {
		return u.now()
	}
	return time.Now()
}

// activityDay is the UTC day a request counts on in the activity: the day
// it started, as OpenRouter's days are UTC.
func activityDay(at time.Time) string { return at.UTC().Format(time.DateOnly) }

// merge adds sums to the stored rows of table t.
func (u *Usage) merge(ctx context.Context, tx *sql.Tx, t usageTable, rows map[usageKey]*UsageRow) error {
	if len(rows) == 0 {
		return nil
	}
	sel, err := u.txStmt(ctx, tx, selectRow(t))
	if err != nil {
		return err
	}
	defer sel.Close()
	ins, err := u.txStmt(ctx, tx, insertRow(t))
	if err != nil {
		return err
	}
	defer ins.Close()
	up, err := u.txStmt(ctx, tx, upsertRow(t))
	if err != nil {
		return err
	}
	defer up.Close()
	for k, r := range rows {
		if old, ok := u.cache[k]; ok {
			r.add(&old)
		} else if !u.complete {
			// A row the cache does not know is most often new (the cache
			// keeps the rows written lately): one insert writes it where
			// reading it first took two statements.
			res, err := ins.ExecContext(ctx, r.args(k)...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				continue
			}
			if err := u.load(ctx, sel, k, r); err != nil {
				return err
			}
		}
		if _, err := up.ExecContext(ctx, r.args(k)...); err != nil {
			return err
		}
	}
	return nil
}

// args are the values of the row of key k with the sums r, in the order
// of insertRow and upsertRow.
func (r *UsageRow) args(k usageKey) []any {
	return append(k.args(), r.Requests, r.TokensIn, r.TokensOut, r.TokensCached, r.TokensReasoning, r.Cost.String())
}

// load adds a stored row to r.
func (u *Usage) load(ctx context.Context, sel *sql.Stmt, k usageKey, r *UsageRow) error {
	var old UsageRow
	var cost string
	err := sel.QueryRowContext(ctx, k.args()...).Scan(&old.Requests, &old.TokensIn, &old.TokensOut, &old.TokensCached, &old.TokensReasoning, &cost)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		if old.Cost, err = decimal.NewFromString(cost); err != nil {
			return fmt.Errorf("projections: %s cost %q: %w", tableSpec[k.table].name, cost, err)
		}
		r.add(&old)
	}
	return nil
}

// ByAccountMonth is an account's usage in a Taipei month (YYYY-MM), per model.
func (u *Usage) ByAccountMonth(ctx context.Context, account, month string) ([]UsageRow, error) {
	return u.query(ctx, `SELECT account_id, month, model, requests, tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost
		FROM usage_monthly WHERE account_id = ? AND month = ? ORDER BY model`, account, month)
}

// ByMonth is every account's usage in a month, per account and model.
func (u *Usage) ByMonth(ctx context.Context, month string) ([]UsageRow, error) {
	return u.query(ctx, `SELECT account_id, month, model, requests, tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost
		FROM usage_monthly WHERE month = ? ORDER BY account_id, model`, month)
}

// All is every monthly row, by month, account and model.
func (u *Usage) All(ctx context.Context) ([]UsageRow, error) {
	return u.query(ctx, `SELECT account_id, month, model, requests, tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost
		FROM usage_monthly ORDER BY month, account_id, model`)
}

// DailyByAccount is an account's usage per Taipei day (YYYY-MM-DD, from and
// to inclusive) and model.
func (u *Usage) DailyByAccount(ctx context.Context, account, from, to string) ([]UsageRow, error) {
	return u.query(ctx, `SELECT account_id, day, model, requests, tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost
		FROM usage_daily WHERE account_id = ? AND day >= ? AND day <= ? ORDER BY day, model`, account, from, to)
}

// ByModel is an account's usage per model over days from..to (inclusive).
func (u *Usage) ByModel(ctx context.Context, account, from, to string) ([]UsageRow, error) {
	days, err := u.DailyByAccount(ctx, account, from, to)
	if err != nil {
		return nil, err
	}
	var out []UsageRow
	at := map[string]int{}
	for _, d := range days {
		i, ok := at[d.Model]
		if !ok {
			i = len(out)
			at[d.Model] = i
			out = append(out, UsageRow{AccountID: account, Period: from + ".." + to, Model: d.Model})
		}
		out[i].add(&d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Model < out[j].Model })
	return out, nil
}

func (u *Usage) query(ctx context.Context, q string, args ...any) ([]UsageRow, error) {
	if err := u.Flush(ctx); err != nil {
		return nil, err
	}
	rows, err := u.db.QueryContext(ctx, u.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UsageRow
	for rows.Next() {
		var r UsageRow
		var cost string
		if err := rows.Scan(&r.AccountID, &r.Period, &r.Model, &r.Requests, &r.TokensIn, &r.TokensOut, &r.TokensCached, &r.TokensReasoning, &cost); err != nil {
			return nil, err
		}
		if r.Cost, err = decimal.NewFromString(cost); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
