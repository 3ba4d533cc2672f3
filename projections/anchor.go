package projections

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
)

// anchor is the event a stored checkpoint was taken at.
type anchor struct {
	id   uuid.UUID
	hash []byte // its chain hash
}

const selectAnchor = `SELECT commit_pos, prepare_pos, event_id, event_hash FROM projection_checkpoints WHERE name = ?`

// VerifyCheckpoint checks that the store still holds the event the stored
// checkpoint was taken at, at that position and with that chain hash. A
// store put back from an older copy, or replaced by another, does not: the
// rows would count events the store no longer holds, and the model would
// skip the store's new events up to the old position. The rows are then
// dropped, to be built again from the first event (rebuilt is true). A
// checkpoint written before checkpoints named their event is kept.
// Call it before the runner starts.
func (u *Usage) VerifyCheckpoint(ctx context.Context, r eventstore.EventReader) (rebuilt bool, err error) {
	var c, p int64
	var id, hash sql.NullString
	err = u.db.QueryRowContext(ctx, u.q(selectAnchor), u.name).Scan(&c, &p, &id, &hash)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (!id.Valid || c == 0 && p == 0) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("projections: %s checkpoint: %w", u.name, err)
	}
	want, err := uuid.Parse(id.String)
	if err != nil {
		return false, fmt.Errorf("projections: %s checkpoint names event %q: %w", u.name, id.String, err)
	}
	e, err := r.ReadEvent(ctx, want)
	switch {
	case errors.Is(err, eventstore.ErrEventNotFound):
	case err != nil:
		return false, fmt.Errorf("projections: %s checkpoint: %w", u.name, err)
	case e.Position == (eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}) && hex.EncodeToString(e.Hash) == hash.String:
		return false, nil
	}
	return true, u.reset(ctx)
}

// reset drops the rows and the checkpoint, in one transaction under the
// checkpoint row's lock.
func (u *Usage) reset(ctx context.Context) (err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	tx, err := u.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	type stmt struct {
		q    string
		args []any
	}
	stmts := []stmt{{lockCheckpoint, []any{u.name}}}
	for _, t := range u.tables {
		stmts = append(stmts, stmt{`DELETE FROM ` + tableSpec[t].name, nil})
	}
	stmts = append(stmts, stmt{`UPDATE projection_checkpoints SET commit_pos = 0, prepare_pos = 0, event_id = NULL, event_hash = NULL WHERE name = ?`, []any{u.name}})
	for _, st := range stmts {
		if _, err = tx.ExecContext(ctx, u.q(st.q), st.args...); err != nil {
			return fmt.Errorf("projections: %s rebuild: %w", u.name, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("projections: usage rebuild: %w", err)
	}
	u.release()
	u.last, u.anchor, u.dirty = eventstore.Start, anchor{}, false
	u.cache, u.cacheAt, u.complete = nil, eventstore.Start, false
	u.pruned = ""
	return nil
}

// Applied is the last event the usage model stored as applied, with its
// rows: how far the history went when serve last wrote the read models.
type Applied struct {
	Position eventstore.Position
	ID       uuid.UUID // zero for a checkpoint written before checkpoints named their event
	Hash     []byte
}

// ReadApplied reads the usage model's stored checkpoint, migrating and
// writing nothing (the read models may belong to a serve that runs); ok is
// false when they hold none (never written, or dropped for a rebuild).
func ReadApplied(ctx context.Context, db *sql.DB, d Dialect) (a Applied, ok bool, err error) {
	exists := `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'`
	if d == Postgres {
		exists = `SELECT to_regclass('projection_checkpoints') IS NOT NULL`
	}
	var has bool
	if err := db.QueryRowContext(ctx, exists).Scan(&has); err != nil || !has {
		return a, false, err
	}
	var c, p int64
	var id, hash sql.NullString
	err = db.QueryRowContext(ctx, `SELECT commit_pos, prepare_pos, event_id, event_hash FROM projection_checkpoints WHERE name = 'usage'`).Scan(&c, &p, &id, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) { // read models of a release before checkpoints named their event
		err = db.QueryRowContext(ctx, `SELECT commit_pos, prepare_pos FROM projection_checkpoints WHERE name = 'usage'`).Scan(&c, &p)
	}
	if errors.Is(err, sql.ErrNoRows) || err == nil && c == 0 && p == 0 {
		return a, false, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("projections: usage checkpoint: %w", err)
	}
	a.Position = eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}
	if id.Valid {
		if a.ID, err = uuid.Parse(id.String); err != nil {
			return a, false, fmt.Errorf("projections: usage checkpoint names event %q: %w", id.String, err)
		}
		if a.Hash, err = hex.DecodeString(hash.String); err != nil {
			return a, false, fmt.Errorf("projections: usage checkpoint's event hash %q: %w", hash.String, err)
		}
	}
	return a, true, nil
}
