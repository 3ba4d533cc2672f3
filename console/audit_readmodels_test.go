package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// The audit comparison sets the live activity (per completed UTC day of
// the window, account and key) and the live usage by key and app (per
// Taipei month, account, key and app) beside a replay's, which agree.
func TestAuditFiguresCompareActivityAndUsageByKey(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_fig", "圖表公司", domain.PlanStarter)
	k1, _ := e.issueKey("acct_fig")
	k2, _ := e.issueKey("acct_fig")
	m := e.cat.IDs()[0]
	req := func(key, app string, at time.Time, cost string) {
		t.Helper()
		rc := &domain.RequestCompleted{RequestID: "gen-" + uuid.NewString(), KeyID: key, AccountID: "acct_fig", Model: m,
			Provider: "openai", Upstream: "gpt-up", Usage: domain.Usage{Input: 3, Output: 2}, Cost: decimal.RequireFromString(cost),
			StartedAt: at.UTC(), Outcome: domain.OutcomeCompleted, Attempts: 1, AppTitle: app}
		d, err := commands.Event(uuid.New(), at, rc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.cap.Append(e.ctx, domain.UsageStream("acct_fig"), eventstore.Any(), d); err != nil {
			t.Fatal(err)
		}
	}
	now := e.clock.Now()
	req(k1, "看板", now.Add(-26*time.Hour), "1.25")
	req(k2, "", now.Add(-50*time.Hour), "0.000020864197523")
	req(k1, "My App", now.AddDate(0, 0, -45), "2")
	e.sync()

	compare := func() Comparison {
		t.Helper()
		code, body := e.call("GET", "/admin/api/audit/figures", e.auditor, nil)
		var api struct{ Data Comparison }
		if err := json.Unmarshal(body, &api); code != http.StatusOK || err != nil {
			t.Fatalf("GET /admin/api/audit/figures: %d %s", code, body)
		}
		return api.Data
	}
	from, to := projections.ActivityWindow(now)
	got := map[string]FigureRow{}
	cmp := compare()
	for _, r := range cmp.Rows {
		got[r.Figure+" "+r.Key] = r
	}
	want := map[string]string{
		"activity " + now.Add(-26*time.Hour).UTC().Format(time.DateOnly) + " acct_fig " + k1:                  "1.25",
		"activity " + now.Add(-50*time.Hour).UTC().Format(time.DateOnly) + " acct_fig " + k2:                  "0.000020864197523",
		"keys " + projections.MonthOf(now.Add(-26*time.Hour)) + " acct_fig " + k1 + " " + strconv.Quote("看板"): "1.25",
		"keys " + projections.MonthOf(now.Add(-50*time.Hour)) + " acct_fig " + k2 + ` ""`:                     "0.000020864197523",
		"keys " + projections.MonthOf(now.AddDate(0, 0, -45)) + " acct_fig " + k1 + ` "My App"`:               "2",
	}
	for k, v := range want {
		r, ok := got[k]
		if !ok || r.Live != v || r.Replay != v || !r.Match {
			t.Errorf("%s: %+v, want live and replay %s", k, r, v)
		}
	}
	for k, r := range got {
		if strings.HasPrefix(k, "activity ") {
			if day := strings.Fields(r.Key)[0]; day < from || day > to {
				t.Errorf("activity row %+v outside the window %s..%s", r, from, to)
			}
		}
	}
	if !cmp.Match {
		t.Errorf("the comparison does not match: %+v", cmp.Rows)
	}
}
