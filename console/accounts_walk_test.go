package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// One page of GET /admin/api/accounts costs what its accounts cost: the
// directory's 100,000 accounts used to be copied (each with its decimals)
// to cut out at most 1,000 of them.
func TestStaffAccountsAPIAllocatesItsPage(t *testing.T) {
	e := newEnv(t, false)
	balances := foldAccounts(t, e, scaleAccounts)
	type page struct {
		Data       []AccountJSON `json:"data"`
		Total      int           `json:"total"`
		NextOffset *int          `json:"next_offset"`
	}
	get := func(q string) (p page) {
		t.Helper()
		code, body := e.call("GET", "/admin/api/accounts"+q, e.admin, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	get("?limit=1") // sign-in caches warmed
	var p page
	bytes, allocs := usedBy(func() { p = get("?limit=20&offset=50000") })
	t.Logf("20 of %d accounts by the API: %d bytes, %d allocations", scaleAccounts, bytes, allocs)
	if p.Total != scaleAccounts || p.NextOffset == nil || *p.NextOffset != 50020 || len(p.Data) != 20 {
		t.Fatalf("offset 50000: %d accounts of %d, next %v", len(p.Data), p.Total, p.NextOffset)
	}
	for i, a := range p.Data {
		id := fmt.Sprintf("acct_%06d", 50000+i)
		if a.ID != id || !a.Balance.Equal(balances[id]) || a.Organisation != fmt.Sprintf("公司 %d 股份有限公司", 50000+i) {
			t.Fatalf("row %d is %s (balance %s, %q), want %s (balance %s)", i, a.ID, a.Balance, a.Organisation, id, balances[id])
		}
	}
	if bytes > 1<<20 {
		t.Fatalf("20 of %d accounts allocated %d bytes (%d allocations)", scaleAccounts, bytes, allocs)
	}
	// The end of the list, and past it.
	if p := get("?offset=99990"); p.Total != scaleAccounts || p.NextOffset != nil || len(p.Data) != 10 || p.Data[9].ID != "acct_099999" {
		t.Fatalf("the last page: %d accounts of %d, next %v", len(p.Data), p.Total, p.NextOffset)
	}
	if p := get("?offset=200000"); p.Total != scaleAccounts || p.NextOffset != nil || len(p.Data) != 0 {
		t.Fatalf("past the end: %d accounts of %d, next %v", len(p.Data), p.Total, p.NextOffset)
	}
	bytes, allocs = usedBy(func() { p = get("") })
	t.Logf("a full page (1,000) of %d accounts by the API: %d bytes, %d allocations", scaleAccounts, bytes, allocs)
	if len(p.Data) != accountsPage || *p.NextOffset != accountsPage || p.Data[999].ID != "acct_000999" {
		t.Fatalf("the first page: %d accounts, next %v", len(p.Data), p.NextOffset)
	}
}

// Staff act on a key (revoke, disable, enable) found by its ID, not by
// going through the keys of every one of 100,000 accounts; an unknown key
// went through them twice (once more after catching up) to answer 404.
func TestStaffFindsAKeyByItsID(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_keys", "鑰匙公司", domain.PlanStarter)
	keyID, _ := e.issueKey("acct_keys")
	foldAccounts(t, e, scaleAccounts)
	var code int
	var body []byte
	post := func(path string) { code, body = e.call("POST", path, e.admin, nil) }
	post("/admin/api/keys/key_none/revoke") // sign-in caches warmed
	bytes, allocs := usedBy(func() { post("/admin/api/keys/key_none/revoke") })
	t.Logf("an unknown key among %d accounts: %d bytes, %d allocations", scaleAccounts, bytes, allocs)
	if code != http.StatusNotFound || !strings.Contains(string(body), "not found") {
		t.Fatalf("an unknown key: %d %s", code, body)
	}
	unknown, unknownAllocs := bytes, allocs
	// A known key: disabling it asks first, naming its account.
	bytes, allocs = usedBy(func() { post("/console/keys/" + keyID + "/disable") })
	t.Logf("a key among %d accounts: %d bytes, %d allocations", scaleAccounts, bytes, allocs)
	if code != http.StatusOK || !strings.Contains(string(body), "acct_keys") {
		t.Fatalf("disabling %s: %d %s", keyID, code, body)
	}
	if unknown > 1<<20 {
		t.Fatalf("an unknown key among %d accounts allocated %d bytes (%d allocations)", scaleAccounts, unknown, unknownAllocs)
	}
	if bytes > 2<<20 {
		t.Fatalf("a key among %d accounts allocated %d bytes (%d allocations)", scaleAccounts, bytes, allocs)
	}
}

// The dashboard's balances owed cost what the accounts that owe cost: it
// used to copy all 100,000 accounts and read each one's balance (its
// decimals) to find the three that owe.
func TestDashboardOwedAllocatesWhatIsOwed(t *testing.T) {
	e := newEnv(t, false)
	foldAccounts(t, e, scaleAccounts)
	// Three accounts spend beyond their credit; one of them is postpaid,
	// with a credit limit.
	owes := map[string]string{"acct_000007": "-1000.5", "acct_050000": "-2000", "acct_099998": "-1000.5"}
	var batch []projections.Event
	pos := uint64(1 << 41)
	add := func(stream string, body domain.Event, typ string) {
		pos++
		batch = append(batch, projections.Event{Body: body, RecordedEvent: eventstore.RecordedEvent{
			EventData: eventstore.EventData{ID: uuid.New(), Type: typ, SchemaVersion: 1, OccurredAt: testNow},
			Stream:    stream, Position: eventstore.Position{Commit: pos}}})
	}
	add(domain.AccountStream("acct_050000"), &domain.PlanChanged{AccountID: "acct_050000", Plan: domain.PlanBusiness,
		CreditLimit: decimal.NewFromInt(5000)}, domain.TypePlanChanged)
	want := decimal.Zero
	for id, owed := range owes {
		a, _ := e.models.Balances.View(id, "", testNow)
		add(domain.TopUpStream(id), &domain.CreditsAdjusted{AccountID: id, Amount: a.Balance.Neg().Add(decimal.RequireFromString(owed)),
			Reason: "test"}, domain.TypeCreditsAdjusted)
		want = want.Add(decimal.RequireFromString(owed).Neg())
	}
	if err := e.models.Balances.Apply(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	e.call("GET", "/console/dashboard", e.admin, nil) // sign-in caches warmed
	var code int
	var body []byte
	bytes, allocs := usedBy(func() { code, body = e.call("GET", "/console/dashboard", e.admin, nil) })
	t.Logf("the dashboard with %d accounts, 3 owing: %d bytes, %d allocations", scaleAccounts, bytes, allocs)
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d %s", code, body)
	}
	page := string(body)
	var labels, values []string
	for _, r := range chartBars(t, page, "chart-owed") {
		labels, values = append(labels, r["data-label"]), append(values, r["data-value"])
	}
	// Largest first; the same amount by account ID.
	wantLabels := []string{"公司 50000 股份有限公司 (acct_050000)", "公司 7 股份有限公司 (acct_000007)", "公司 99998 股份有限公司 (acct_099998)"}
	if !slices.Equal(labels, wantLabels) {
		t.Fatalf("owed chart %v, want %v", labels, wantLabels)
	}
	for i, v := range values {
		if w := decimal.RequireFromString(owes[wantLabels[i][strings.Index(wantLabels[i], "(")+1:len(wantLabels[i])-1]]).Neg(); !decimal.RequireFromString(v).Equal(w) {
			t.Fatalf("owed %s: %s, want %s", labels[i], v, w)
		}
	}
	if got := attrOf(t, page, "div", "id", "tile-owed", "data-value"); !decimal.RequireFromString(got).Equal(want) {
		t.Fatalf("owed tile %s, want %s", got, want)
	}
	if !strings.Contains(page, "3 ") {
		t.Fatalf("the dashboard does not count 3 accounts owing")
	}
	if bytes > 8<<20 {
		t.Fatalf("the dashboard with %d accounts allocated %d bytes (%d allocations)", scaleAccounts, bytes, allocs)
	}
}
