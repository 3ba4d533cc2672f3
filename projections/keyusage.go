package projections

import (
	"context"
	"database/sql"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/eventstore"
)

// The key usage model's memory, kept as small as the activity model's: an
// account's rows multiply by its keys and apps, and a first start reads
// the whole history through the buffer.
const (
	keyUsageCachedRows = 4096
	keyUsageFlushEvery = 5000
)

// KeyUsage is the read model behind the usage report's breakdowns by key
// and by app, in SQL beside the usage model (table usage_keys): requests
// summed per account, Taipei day of their start, key, model and app (the
// X-Title a request sent). It keeps the whole history, on disk rather
// than in the gateway's memory, and writes in batches as the usage model
// does, under its own checkpoint ("usage_keys"): read models of a release
// without it fill it from the first event at the next start, and the
// other rows stay as they were.
type KeyUsage struct{ u *Usage }

var _ Projection = (*KeyUsage)(nil)

// NewKeyUsage migrates the database and returns the key usage model.
func NewKeyUsage(ctx context.Context, db *sql.DB, d Dialect) (*KeyUsage, error) {
	if err := MigrateReadModels(ctx, db, d); err != nil {
		return nil, err
	}
	u := &Usage{db: db, d: d, name: "usage_keys", tables: []usageTable{tableKeys}, maxCache: keyUsageCachedRows, flushAt: keyUsageFlushEvery}
	if err := u.prepare(ctx); err != nil {
		return nil, err
	}
	return &KeyUsage{u: u}, nil
}

// Name implements Projection.
func (k *KeyUsage) Name() string { return k.u.Name() }

// Checkpoint implements Projection: the position stored with the rows.
func (k *KeyUsage) Checkpoint(ctx context.Context) (eventstore.Position, error) {
	return k.u.Checkpoint(ctx)
}

// Apply implements Projection, buffering as Usage.Apply does.
func (k *KeyUsage) Apply(ctx context.Context, batch []Event) error { return k.u.Apply(ctx, batch) }

// Flush writes buffered events now.
func (k *KeyUsage) Flush(ctx context.Context) error { return k.u.Flush(ctx) }

// Close writes what is buffered and stops the live write; call it once
// the runner has stopped.
func (k *KeyUsage) Close() error { return k.u.Close() }

// VerifyCheckpoint drops the rows when the store no longer holds the event
// of the stored checkpoint, as Usage.VerifyCheckpoint does.
func (k *KeyUsage) VerifyCheckpoint(ctx context.Context, r eventstore.EventReader) (rebuilt bool, err error) {
	return k.u.VerifyCheckpoint(ctx, r)
}

// costs sums the cost of every row, written out first, by Taipei month,
// account, key and app.
func (k *KeyUsage) costs(ctx context.Context) (map[string]map[KeyFigure]decimal.Decimal, error) {
	return sumCosts(ctx, k.u, `SELECT day, account_id, key_id, app, cost FROM usage_keys`, func(day string) string { return day[:len("2006-01")] })
}

// sumCosts sums the cost of the rows query selects (day, account, key,
// app, cost) by the period period makes of their day, written out first.
// The rows are read one at a time and summed in Go: the costs are exact
// decimals in text, which SQL would add as floats.
func sumCosts(ctx context.Context, u *Usage, query string, period func(day string) string, args ...any) (map[string]map[KeyFigure]decimal.Decimal, error) {
	if err := u.Flush(ctx); err != nil {
		return nil, err
	}
	rows, err := u.db.QueryContext(ctx, u.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[KeyFigure]decimal.Decimal{}
	var day, cost string
	var k KeyFigure
	for rows.Next() {
		if err := rows.Scan(&day, &k.Account, &k.Key, &k.App, &cost); err != nil {
			return nil, err
		}
		c, err := decimal.NewFromString(cost)
		if err != nil {
			return nil, err
		}
		p := period(day)
		if out[p] == nil {
			out[p] = map[KeyFigure]decimal.Decimal{}
		}
		out[p][k] = out[p][k].Add(c)
	}
	return out, rows.Err()
}

// KeyUsageRow is the usage of one key and app on one Taipei day and model.
type KeyUsageRow struct {
	Day, KeyID, Model, App                                       string
	Requests, TokensIn, TokensOut, TokensCached, TokensReasoning int64
	Cost                                                         decimal.Decimal
}

// Each calls fn with each row of account on the Taipei days from..to
// (YYYY-MM-DD, inclusive), written out first, in no particular order. The
// rows are read one at a time: a busy account has many, and a caller sums
// them rather than keeping them.
func (k *KeyUsage) Each(ctx context.Context, account, from, to string, fn func(*KeyUsageRow)) error {
	u := k.u
	if err := u.Flush(ctx); err != nil {
		return err
	}
	rows, err := u.db.QueryContext(ctx, u.q(`SELECT day, key_id, model, app, requests, tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost
		FROM usage_keys WHERE account_id = ? AND day >= ? AND day <= ?`), account, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r KeyUsageRow
	var cost string
	for rows.Next() {
		if err := rows.Scan(&r.Day, &r.KeyID, &r.Model, &r.App, &r.Requests, &r.TokensIn, &r.TokensOut, &r.TokensCached, &r.TokensReasoning, &cost); err != nil {
			return err
		}
		if r.Cost, err = decimal.NewFromString(cost); err != nil {
			return err
		}
		fn(&r)
	}
	return rows.Err()
}
