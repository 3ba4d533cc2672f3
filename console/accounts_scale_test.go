package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// scaleAccounts is the size the console's account pages are measured at.
const scaleAccounts = 100_000

// foldAccounts opens n accounts, each with a top-up of its own size, by
// folding their events into the balance model directly: writing 100,000
// accounts through the store would take minutes. It returns each account's
// balance by ID. It runs after every event of the store is folded (its
// positions lie past the store's), and nothing is written to the store
// after it.
func foldAccounts(t testing.TB, e *env, n int) map[string]decimal.Decimal {
	t.Helper()
	balances := make(map[string]decimal.Decimal, n)
	batch := make([]projections.Event, 0, 2*n)
	pos := uint64(1 << 40)
	add := func(stream string, body domain.Event, typ string) {
		pos++
		batch = append(batch, projections.Event{Body: body, RecordedEvent: eventstore.RecordedEvent{
			EventData: eventstore.EventData{ID: uuid.New(), Type: typ, SchemaVersion: 1, OccurredAt: testNow},
			Stream:    stream, Position: eventstore.Position{Commit: pos}}})
	}
	for i := range n {
		id := fmt.Sprintf("acct_%06d", i)
		add(domain.AccountStream(id), &domain.AccountOpened{AccountID: id, Organisation: fmt.Sprintf("公司 %d 股份有限公司", i),
			Plan: domain.PlanStarter}, domain.TypeAccountOpened)
		amount := decimal.New(int64((i*7919)%50_021), -2) // a spread of balances, each twice
		add(domain.TopUpStream(id), &domain.CreditsToppedUp{AccountID: id, Amount: amount, Method: "bank_transfer",
			Reference: "r" + id}, domain.TypeCreditsToppedUp)
		balances[id] = amount
	}
	if err := e.models.Balances.Apply(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	return balances
}

// usedBy is the bytes and allocations the process made while f ran.
func usedBy(f func()) (bytes, allocs uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// pageAccounts are the account IDs of a rendered accounts page, in order.
func pageAccounts(body []byte) []string {
	var ids []string
	for _, part := range strings.Split(string(body), `data-account="`)[1:] {
		ids = append(ids, part[:strings.IndexByte(part, '"')])
	}
	return ids
}

// One page of /console/accounts costs what its 50 rows cost, not what the
// directory holds: sorting 100,000 accounts by balance used to build every
// account's row (its decimals, its copy of the account) to show 50 of them.
func TestAccountsPageAllocatesItsPage(t *testing.T) {
	e := newEnv(t, false)
	balances := foldAccounts(t, e, scaleAccounts)
	ids := make([]string, 0, len(balances))
	for id := range balances {
		ids = append(ids, id)
	}
	// What the page should show: by balance, the larger first, and accounts
	// of the same balance in the order they were opened (their IDs here).
	slices.SortFunc(ids, func(a, b string) int {
		if c := balances[b].Cmp(balances[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	get := func(q string) []byte {
		t.Helper()
		code, body := e.call("GET", "/console/accounts"+q, e.admin, nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		return body
	}
	get("?sort=balance&dir=desc") // sign-in caches warmed
	var body []byte
	bytes, allocs := usedBy(func() { body = get("?sort=balance&dir=desc") })
	t.Logf("one page of %d accounts by balance: %d bytes, %d allocations", scaleAccounts, bytes, allocs)
	if got, want := pageAccounts(body), ids[:defaultPageSize]; !slices.Equal(got, want) {
		t.Fatalf("the first page by balance shows %v, want %v", got, want)
	}
	if bytes > 4<<20 {
		t.Fatalf("one page of %d accounts allocated %d bytes (%d allocations)", scaleAccounts, bytes, allocs)
	}
	// Further pages, the last one and the ascending order hold the rows the
	// whole sorted list has there.
	last := (scaleAccounts + defaultPageSize - 1) / defaultPageSize
	for _, p := range []int{2, 1000, last - 1, last} {
		got := pageAccounts(get(fmt.Sprintf("?sort=balance&dir=desc&page=%d", p)))
		from := (p - 1) * defaultPageSize
		if want := ids[from:min(from+defaultPageSize, len(ids))]; !slices.Equal(got, want) {
			t.Fatalf("page %d by balance shows %v, want %v", p, got, want)
		}
	}
	asc := slices.Clone(ids)
	slices.SortStableFunc(asc, func(a, b string) int { return balances[a].Cmp(balances[b]) })
	slices.SortStableFunc(asc, func(a, b string) int { // same balance: opening order
		if c := balances[a].Cmp(balances[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	if got := pageAccounts(get("?sort=balance&dir=asc&page=3")); !slices.Equal(got, asc[100:150]) {
		t.Fatalf("page 3 by balance, ascending, shows %v, want %v", got, asc[100:150])
	}
	// A search finds its accounts among all of them.
	if got := pageAccounts(get("?q=" + "公司+4242+股份")); !slices.Equal(got, []string{"acct_004242"}) {
		t.Fatalf("a search shows %v", got)
	}
	bytes, allocs = usedBy(func() { body = get("?sort=org&page=7") })
	t.Logf("page 7 of %d accounts by organisation: %d bytes, %d allocations", scaleAccounts, bytes, allocs)
	if bytes > 4<<20 {
		t.Fatalf("page 7 by organisation allocated %d bytes (%d allocations)", bytes, allocs)
	}
}

// liveHeap is the heap the process holds after a collection.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A CSV of 100,000 accounts holds neither the accounts' rows nor their
// copies while it is written: read halfway, the download holds little more
// than the directory did before it began. It held every account's row
// (with its decimals) and a copy of the list to sort: 50 MB live at
// 100,000 accounts, and twice that in its peak.
func TestAccountsCSVHoldsNoRowsWhileWritten(t *testing.T) {
	e := newEnv(t, false)
	foldAccounts(t, e, scaleAccounts)
	e.call("GET", "/console/accounts", e.admin, nil) // sign-in caches warmed
	before := liveHeap()
	req, err := http.NewRequest("GET", e.srv.URL+"/console/accounts?format=csv&table=accounts&sort=balance&dir=desc", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.admin)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("csv: %d %s", resp.StatusCode, b)
	}
	r := bufio.NewReader(resp.Body)
	lines := 0
	var held uint64
	for {
		_, err := r.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if lines++; lines == scaleAccounts/2 {
			held = max(liveHeap(), before) - before
		}
	}
	if lines != scaleAccounts+1 {
		t.Fatalf("the CSV holds %d lines, want a header and %d accounts", lines, scaleAccounts)
	}
	t.Logf("halfway through the CSV of %d accounts: %d bytes live beyond the directory", scaleAccounts, held)
	if held > 16<<20 {
		t.Fatalf("halfway through the CSV of %d accounts, %d bytes were live beyond the directory", scaleAccounts, held)
	}
}
