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
		return false, fmt.Errorf("projections: usage checkpoint: %w", err)
	}
	want, err := uuid.Parse(id.String)
	if err != nil {
		return false, fmt.Errorf("projections: usage checkpoint names event %q: %w", id.String, err)
	}
	e, err := r.ReadEvent(ctx, want)
	switch {
	case errors.Is(err, eventstore.ErrEventNotFound):
	case err != nil:
		return false, fmt.Errorf("projections: usage checkpoint: %w", err)
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
	for _, st := range []struct {
		q    string
		args []any
	}{
		{lockCheckpoint, []any{u.name}},
		{`DELETE FROM usage_monthly`, nil},
		{`DELETE FROM usage_daily`, nil},
		{`UPDATE projection_checkpoints SET commit_pos = 0, prepare_pos = 0, event_id = NULL, event_hash = NULL WHERE name = ?`, []any{u.name}},
	} {
		if _, err = tx.ExecContext(ctx, u.q(st.q), st.args...); err != nil {
			return fmt.Errorf("projections: usage rebuild: %w", err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("projections: usage rebuild: %w", err)
	}
	u.release()
	u.last, u.anchor, u.dirty = eventstore.Start, anchor{}, false
	u.cache, u.cacheAt, u.complete = nil, eventstore.Start, false
	return nil
}
