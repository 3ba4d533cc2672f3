package projections

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/eventstore"
)

// ActivityDays is how many completed UTC days OpenRouter's activity API
// covers. The activity model keeps today too, and any later day a request
// started on by a clock ahead of its own.
const ActivityDays = 30

// ActivityWindow is the window of OpenRouter's activity at now: the
// ActivityDays completed UTC days before now's, from and to (YYYY-MM-DD)
// inclusive.
func ActivityWindow(now time.Time) (from, to string) {
	today := now.UTC()
	return today.AddDate(0, 0, -ActivityDays).Format(time.DateOnly), today.AddDate(0, 0, -1).Format(time.DateOnly)
}

// The activity model's memory: its cache of written rows and the events
// a catch-up buffers between writes. Both are kept small: a busy
// deployment has millions of rows in the window, a first start reads the
// whole history through the buffer, and memory, not the database, is what
// the gateway is short of. A row the cache misses costs an insert (a new
// row) or a read and a write.
const (
	activityCachedRows = 4096
	activityFlushEvery = 5000
)

// Activity is the read model behind OpenRouter's GET /api/v1/activity, in
// SQL beside the usage model (table usage_activity): requests summed per
// account, UTC day of their start, key, model and upstream (provider and
// its model), for today by its clock and the ActivityDays before it; older
// days are deleted as the clock leaves them behind (at its next write),
// whatever day the newest request started on. It writes in batches
// as the usage model does, under its own checkpoint ("activity"): read
// models of a release without it fill it from the first event at the next
// start, and the usage rows stay as they were.
type Activity struct{ u *Usage }

var _ Projection = (*Activity)(nil)

// NewActivity migrates the database and returns the activity model.
func NewActivity(ctx context.Context, db *sql.DB, d Dialect) (*Activity, error) {
	if err := MigrateReadModels(ctx, db, d); err != nil {
		return nil, err
	}
	u := &Usage{db: db, d: d, name: "activity", tables: []usageTable{tableActivity}, maxCache: activityCachedRows, flushAt: activityFlushEvery}
	if err := u.prepare(ctx); err != nil {
		return nil, err
	}
	return &Activity{u: u}, nil
}

// Name implements Projection.
func (a *Activity) Name() string { return a.u.Name() }

// Checkpoint implements Projection: the position stored with the rows.
func (a *Activity) Checkpoint(ctx context.Context) (eventstore.Position, error) {
	return a.u.Checkpoint(ctx)
}

// Apply implements Projection, buffering as Usage.Apply does.
func (a *Activity) Apply(ctx context.Context, batch []Event) error { return a.u.Apply(ctx, batch) }

// WithClock sets the clock the window follows (time.Now when not set);
// call it before the model applies its first event.
func (a *Activity) WithClock(now func() time.Time) *Activity {
	a.u.now = now
	return a
}

// Window is the window of OpenRouter's activity by the model's clock
// (ActivityWindow).
func (a *Activity) Window() (from, to string) { return ActivityWindow(a.u.clock()) }

// Flush writes buffered events now.
func (a *Activity) Flush(ctx context.Context) error { return a.u.Flush(ctx) }

// Close writes what is buffered and stops the live write; call it once
// the runner has stopped.
func (a *Activity) Close() error { return a.u.Close() }

// VerifyCheckpoint drops the rows when the store no longer holds the event
// of the stored checkpoint, as Usage.VerifyCheckpoint does.
func (a *Activity) VerifyCheckpoint(ctx context.Context, r eventstore.EventReader) (rebuilt bool, err error) {
	return a.u.VerifyCheckpoint(ctx, r)
}

// ActivityRow is the usage of one key on one UTC day, model and upstream.
type ActivityRow struct {
	Day, KeyID, Model, Provider, Upstream          string
	Requests, TokensIn, TokensOut, TokensReasoning int64
	Cost                                           decimal.Decimal
}

// costs sums the cost of every account's rows on the UTC days from..to
// (inclusive), written out first, by day, account and key.
func (a *Activity) costs(ctx context.Context, from, to string) (map[string]map[KeyFigure]decimal.Decimal, error) {
	return sumCosts(ctx, a.u, `SELECT day, account_id, key_id, '', cost FROM usage_activity WHERE day >= ? AND day <= ?`, func(day string) string { return day }, from, to)
}

// Rows is an account's activity on the UTC days from..to (YYYY-MM-DD,
// inclusive), written out first: newest day first, then by model,
// provider, upstream and key.
func (a *Activity) Rows(ctx context.Context, account, from, to string) ([]ActivityRow, error) {
	u := a.u
	if err := u.Flush(ctx); err != nil {
		return nil, err
	}
	rows, err := u.db.QueryContext(ctx, u.q(`SELECT day, key_id, model, provider, upstream, requests, tokens_in, tokens_out, tokens_reasoning, cost
		FROM usage_activity WHERE account_id = ? AND day >= ? AND day <= ?`), account, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ActivityRow
	for rows.Next() {
		var r ActivityRow
		var cost string
		if err := rows.Scan(&r.Day, &r.KeyID, &r.Model, &r.Provider, &r.Upstream, &r.Requests, &r.TokensIn, &r.TokensOut, &r.TokensReasoning, &cost); err != nil {
			return nil, err
		}
		if r.Cost, err = decimal.NewFromString(cost); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Sorted here: PostgreSQL's collation may order text unlike SQLite.
	slices.SortFunc(out, func(a, b ActivityRow) int {
		return cmp.Or(-cmp.Compare(a.Day, b.Day), cmp.Compare(a.Model, b.Model), cmp.Compare(a.Provider, b.Provider),
			cmp.Compare(a.Upstream, b.Upstream), cmp.Compare(a.KeyID, b.KeyID))
	})
	return out, nil
}
