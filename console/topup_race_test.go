package console

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// Distinct top-ups to one account posted at once are all recorded, and the
// balance is their sum.
func TestAPIConcurrentTopUps(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_many", "多筆公司", domain.PlanStarter)
	const n = 30
	var wg sync.WaitGroup
	codes := make([]int, n)
	bodies := make([][]byte, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i], bodies[i] = e.call("POST", "/admin/api/accounts/acct_many/topups", e.finance,
				map[string]any{"amount": fmt.Sprint(100 + i), "method": domain.MethodBankTransfer, "reference": fmt.Sprintf("TX-%02d", i)})
		}(i)
	}
	wg.Wait()
	want := decimal.Zero
	for i := 0; i < n; i++ {
		if codes[i] != http.StatusCreated {
			t.Errorf("top-up %d: %d %s", i, codes[i], bodies[i])
		}
		want = want.Add(decimal.NewFromInt(int64(100 + i)))
	}
	e.sync()
	if v, _ := e.models.Balances.View("acct_many", "", e.clock.Now()); !v.Balance.Equal(want) {
		t.Fatalf("balance %s, want %s", v.Balance, want)
	}
}
