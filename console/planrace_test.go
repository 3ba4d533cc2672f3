package console

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// appendRacer is a real store on which another writer's change lands just
// before the console's first append to one stream: after the console has
// read the account's terms, before it records what it decided on them.
type appendRacer struct {
	eventstore.Store
	stream string
	once   sync.Once
	other  func()
}

func (s *appendRacer) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	if stream == s.stream {
		s.once.Do(s.other)
	}
	return s.Store.Append(ctx, stream, exp, evs...)
}

// An admin's plan change through the API and finance's credit limit set at
// the same moment by another process (the CLI, another instance) are both
// kept: the plan change is decided again on the newer terms, neither
// refused nor putting back the credit limit it read.
func TestPlanChangeBesideAConcurrentCreditLimit(t *testing.T) {
	var racer *appendRacer
	e := buildWithDeps(t, false, true, func(_ *echo.Echo, d *Deps) {
		racer = &appendRacer{Store: d.Store, stream: domain.AccountStream("acct_r")}
		d.Store = racer
	})
	e.openAccount("acct_r", "併發公司", domain.PlanEnterprise)
	if err := e.cmds.SetCreditLimit(e.ctx, "acct_r", mustDec("1000")); err != nil {
		t.Fatal(err)
	}
	racer.other = func() {
		if err := e.cmds.SetCreditLimit(e.ctx, "acct_r", mustDec("5000")); err != nil {
			t.Error(err)
		}
	}
	if code, body := e.call("POST", "/admin/api/accounts/acct_r/plan", e.admin, map[string]any{"rpm": 100}); code != http.StatusOK {
		t.Fatalf("plan change beside finance's credit limit: %d %s", code, body)
	}
	st, err := e.cmds.AccountState(e.ctx, "acct_r")
	if err != nil {
		t.Fatal(err)
	}
	if st.RPM != 100 || !st.CreditLimit.Equal(mustDec("5000")) {
		t.Fatalf("after the plan change: rpm %d, credit limit %s; want rpm 100 and finance's 5000", st.RPM, st.CreditLimit)
	}
}
