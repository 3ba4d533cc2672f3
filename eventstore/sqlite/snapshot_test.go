package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// A snapshot reads what the file holds, streams and global order alike,
// refuses appends, and leaves nothing beside the file.
func TestSnapshotReadsAndNeverWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ev := eventstore.EventData{ID: uuid.New(), Type: "t", Data: []byte(`{"i":` + string(rune('0'+i)) + `}`)}
		if _, err := s.Append(ctx, "s-1", eventstore.Any(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(dir)

	snap, err := sqlite.OpenSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	all, err := snap.ReadAll(ctx, eventstore.Start, 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("ReadAll: %d events, %v", len(all), err)
	}
	if evs, err := snap.ReadStream(ctx, "s-1", 1, 10); err != nil || len(evs) != 2 {
		t.Fatalf("ReadStream from 1: %d events, %v", len(evs), err)
	}
	if _, err := snap.ReadStream(ctx, "nope", 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("a missing stream: %v", err)
	}
	if _, err := snap.Append(ctx, "s-1", eventstore.Any(), eventstore.EventData{ID: uuid.New(), Type: "t", Data: []byte(`{}`)}); !errors.Is(err, sqlite.ErrSnapshot) {
		t.Fatalf("Append: %v, want ErrSnapshot", err)
	}
	if after, _ := os.ReadDir(dir); len(after) != len(before) {
		t.Fatalf("files beside the store: %v → %v", before, after)
	}
}
