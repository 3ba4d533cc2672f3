package console

import (
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Instances started together on a new store each find no staff token, and
// each would issue and print a first admin token of its own: one is kept
// and printed, the others revoke theirs and say another instance printed
// it.
func TestBootstrapOfInstancesStartedTogether(t *testing.T) {
	t.Setenv(AdminTokenEnv, "")
	token := regexp.MustCompile(`rf-staff-[A-Za-z0-9]{40}`)
	for round := range 5 {
		fresh := newEnvNoStaff(t)
		const n = 3
		outs := make([]strings.Builder, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = Bootstrap(fresh.ctx, fresh.deps, &outs[i])
			}()
		}
		wg.Wait()
		var printed []string
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d, instance %d: %v", round, i, errs[i])
			}
			printed = append(printed, token.FindAllString(outs[i].String(), -1)...)
		}
		live := 0
		for _, tk := range fresh.views.StaffTokens() {
			if !tk.Revoked {
				live++
			}
		}
		if len(printed) != 1 || live != 1 {
			t.Fatalf("round %d: %d first admin tokens printed, %d live", round, len(printed), live)
		}
		if code, _ := fresh.call("GET", "/admin/api/staff/tokens", printed[0], nil); code != 200 {
			t.Fatalf("round %d: the printed token is not a working admin's: %d", round, code)
		}
	}
}
