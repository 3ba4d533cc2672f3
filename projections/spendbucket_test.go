package projections

import (
	"testing"
	"unsafe"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// A bucket keeps the spending of its latest period exactly, whatever order
// the costs come in: checked against a plain model (the start in Unix
// seconds beside a decimal sum) over random period starts, big and small
// costs included. It takes 24 bytes.
func TestSpendBucketKeepsTheLatestPeriod(t *testing.T) {
	if n := unsafe.Sizeof(spendBucket{}); n != 24 {
		t.Errorf("spendBucket takes %d bytes, want 24", n)
	}
	rapid.Check(t, func(t *rapid.T) {
		var b spendBucket
		var model struct {
			start int64
			spend decimal.Decimal
		}
		// Period starts a whole hour apart from 2020 to 2100, as Taipei's are.
		starts := rapid.SliceOfNDistinct(rapid.Int64Range(1_577_836_800/3600, 4_102_444_800/3600), 1, 5, rapid.ID[int64]).Draw(t, "hours")
		for i, n := 0, rapid.IntRange(1, 40).Draw(t, "n"); i < n; i++ {
			start := starts[rapid.IntRange(0, len(starts)-1).Draw(t, "period")] * 3600
			cost := decimal.New(rapid.Int64().Draw(t, "coef"), int32(rapid.IntRange(-12, 2).Draw(t, "exp")))
			b.add(start, cost)
			switch {
			case start > model.start:
				model.start, model.spend = start, cost
			case start == model.start:
				model.spend = model.spend.Add(cost)
			}
			for _, s := range starts {
				want := decimal.Zero
				if s*3600 == model.start {
					want = model.spend
				}
				if got := b.at(s * 3600); !got.Equal(want) {
					t.Fatalf("after %d costs, period %d holds %s, want %s", i+1, s*3600, got, want)
				}
			}
		}
	})
}
