package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/testenv"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openAt opens a store on url and closes it when the test ends.
func openAt(t testing.TB, url string, o Options) *Store {
	t.Helper()
	s, err := Open(testCtx(t), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openFresh opens a store in a schema of its own.
func openFresh(t testing.TB, o Options) (*Store, string) {
	t.Helper()
	url := testenv.PostgresURL(t)
	return openAt(t, url, o), url
}

var evSeq atomic.Int64

func ev(typ string) eventstore.EventData {
	n := evSeq.Add(1)
	return eventstore.EventData{
		ID:            uuid.New(),
		Type:          typ,
		SchemaVersion: 1,
		OccurredAt:    time.Date(2025, 7, 1, 0, 0, 0, 987654321, time.UTC).Add(time.Duration(n)),
		Data:          fmt.Appendf(nil, `{"n":%d,"tokens_in":120,"cost":"0.0042"}`, n),
	}
}

// readEverything pages through ReadAll from the start.
func readEverything(t testing.TB, s eventstore.Reader) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	pos := eventstore.Start
	for {
		evs, err := s.ReadAll(testCtx(t), pos, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return all
		}
		all = append(all, evs...)
		pos = evs[len(evs)-1].Position
	}
}

// verifyChain fails the test unless the whole history verifies.
func verifyChain(t testing.TB, s eventstore.Reader, want uint64) {
	t.Helper()
	res, err := eventstore.Verify(testCtx(t), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Break != nil {
		t.Fatalf("chain broken: %v", res.Break)
	}
	if res.Events != want {
		t.Fatalf("verified %d events, want %d", res.Events, want)
	}
}
