package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/eventstore"
)

func BenchmarkExpLinger(b *testing.B) {
	for _, linger := range []time.Duration{0, 200 * time.Microsecond, time.Millisecond} {
		b.Run(fmt.Sprint(linger), func(b *testing.B) {
			s, _ := openFresh(b, Options{})
			g := xNew(s.writeBatch, linger)
			defer g.Close()
			ctx := context.Background()
			per := (b.N + 63) / 64
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range 64 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						if _, err := g.Append(ctx, fmt.Sprint(w), eventstore.Any(), ev("X")); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			st := s.Stats()
			b.Logf("n=%d prelude=%v plan=%v insert+commit=%v", phases[3], phases[0]/max(phases[3], 1), phases[1]/max(phases[3], 1), phases[2]/max(phases[3], 1)); phases = [4]time.Duration{}
			b.ReportMetric(float64(per*64)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(st.Events)/float64(st.Batches), "events/commit")
		})
	}
}

func TestExpExplain(t *testing.T) {
	s, _ := openFresh(t, Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				s.Append(ctx, fmt.Sprint(w), eventstore.Any(), ev("X"))
			}
		}()
	}
	wg.Wait()
	evs := readEverything(t, s)
	var streams []string
	var ids [][16]byte
	for i := range 64 {
		streams = append(streams, fmt.Sprint(i))
		ids = append(ids, evs[i*100].ID)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"SELECT hash FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1", nil},
		{lastVersions, []any{streams}},
		{"SELECT event_id, stream_version, transaction_id, global_position FROM events WHERE event_id = ANY($1)", []any{ids}},
		{"SELECT nextval('events_global_position_seq') FROM generate_series(1, $1::int)", []any{64}},
		{readAll, []any{uint64(0), int64(0), 1000}},
	} {
		rows, err := s.Pool().Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var l string
			rows.Scan(&l)
			t.Log(l)
		}
	}
}
