package sqlite_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// TestReadAllFromMemoryEqualsFile: the events ReadAll serves from memory
// behind the writer are exactly those the file holds, field for field, at
// every starting point, page size and across the ring's wrap-around; an
// appender reusing its buffer changes nothing.
func TestReadAllFromMemoryEqualsFile(t *testing.T) {
	s, _ := openTemp(t, sqlite.Options{})
	ctx := context.Background()
	buf := []byte(`{"reused":"buffer"}`)
	total := 0
	for i := 0; total < 9000; i++ {
		evs := make([]eventstore.EventData, 1+i%37)
		for j := range evs {
			evs[j] = usage(total + j)
		}
		if i%50 == 0 {
			evs[0].Data = nil // an empty body
		}
		if i%7 == 0 {
			evs[len(evs)-1].Data = buf
		}
		if _, err := s.Append(ctx, fmt.Sprintf("account-%d", i%5), eventstore.Any(), evs...); err != nil {
			t.Fatal(err)
		}
		buf[3]++ // the appender reuses its buffer after the append
		total += len(evs)
	}
	head := uint64(total)
	before := s.Stats().MemoryReads
	for _, from := range []uint64{0, 1, 100, head - 5000, head - 4097, head - 4096, head - 4095, head - 1000, head - 37, head - 1, head} {
		for _, max := range []int{0, 1, 10, 1000} {
			got, err := s.ReadAll(ctx, eventstore.Position{Commit: from, Prepare: from}, max)
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.ReadAllStored(ctx, eventstore.Position{Commit: from, Prepare: from}, max)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("from %d max %d: %d events, the file has %d", from, max, len(got), len(want))
			}
			for i := range got {
				if len(got[i].Data) == 0 && len(want[i].Data) == 0 {
					got[i].Data, want[i].Data = nil, nil // nil or empty: the same body
				}
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("from %d max %d, event %d:\nmemory %+v\nfile   %+v", from, max, i, got[i], want[i])
				}
			}
		}
	}
	if s.Stats().MemoryReads == before {
		t.Fatal("no read came from memory")
	}
	if res, err := eventstore.Verify(ctx, s, nil); err != nil || res.Break != nil || res.Events != uint64(total) {
		t.Fatalf("verify: %+v %v", res, err)
	}
}
