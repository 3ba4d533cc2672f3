package eventstore_test

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/storetest"
)

// TestChainHashKnownAnswers: ChainHash gives the written-down hashes of the
// known-answer sequence, each linked to its predecessor.
func TestChainHashKnownAnswers(t *testing.T) {
	var prev []byte
	for i, v := range storetest.Vectors {
		e := eventstore.RecordedEvent{EventData: v.Event, Stream: v.Stream, Version: v.Version, PrevHash: prev}
		got := eventstore.ChainHash(prev, &e)
		if hex.EncodeToString(got) != v.Hash {
			t.Fatalf("vector %d (%s@%d): hash %x, known answer %s", i, v.Stream, v.Version, got, v.Hash)
		}
		prev = got
	}
}

// events is a Reader over a fixed history.
type events []eventstore.RecordedEvent

func (h events) ReadAll(_ context.Context, from eventstore.Position, max int) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for _, e := range h {
		if from.Less(e.Position) && (max <= 0 || len(out) < max) {
			out = append(out, e)
		}
	}
	return out, nil
}

// TestVerifyKnownAnswers: Verify accepts the known-answer history with its
// written-down hashes, and names the event whose stream was renamed.
func TestVerifyKnownAnswers(t *testing.T) {
	var h events
	prev := []byte(nil)
	for i, v := range storetest.Vectors {
		hash, err := hex.DecodeString(v.Hash)
		if err != nil {
			t.Fatal(err)
		}
		p := uint64(i + 1)
		h = append(h, eventstore.RecordedEvent{EventData: v.Event, Stream: v.Stream, Version: v.Version,
			Position: eventstore.Position{Commit: p, Prepare: p}, PrevHash: prev, Hash: hash})
		prev = hash
	}
	res, err := eventstore.Verify(context.Background(), h, nil)
	if err != nil || res.Break != nil || res.Events != uint64(len(h)) || hex.EncodeToString(res.Head) != storetest.Vectors[len(h)-1].Hash {
		t.Fatalf("verify the known answers: %+v %v", res, err)
	}
	h[2].Stream = "usage-acct_other" // the same event, filed under another stream
	res, err = eventstore.Verify(context.Background(), h, nil)
	if err != nil || res.Break == nil || res.Break.Position != h[2].Position {
		t.Fatalf("verify after a stream was renamed: %+v %v", res.Break, err)
	}
}
