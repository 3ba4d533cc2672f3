package invoicing

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/testenv"
)

// The projector invoices a paid top-up as it arrives, and closes the last
// month once CloseDelay has passed.
func TestProjectorRun(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 1, 0, 30)) // 30 min after November ended
	e.assign("2026-11", "AB", 1, 99)
	e.open("shop", "小商店", "", domain.PlanStarter)
	e.open("corp", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.use("corp", "gpt-4o", taipei(2026, 11, 20, 10, 0), 10, 10, "210")
	svc, err := New(e.store, Config{Seller: DevSeller(), Now: e.clock.Now, CloseDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "shop", Amount: dec("300"), Method: domain.MethodCard, Reference: "pay-7"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(svc.Invoices("", "shop")) == 1 })
	if inv := svc.Invoices("", "shop")[0]; inv.TopUpRef != "pay-7" || inv.Total != 300 || inv.Number != "AB00000001" {
		t.Fatalf("top-up invoice %+v", inv.InvoiceIssued)
	}
	// Within the delay, November is not closed yet.
	if len(svc.Invoices("2026-11", "corp")) != 0 {
		t.Fatal("closed before CloseDelay")
	}
	if m, due := svc.dueClose(); m != "2026-11" || due {
		t.Fatalf("dueClose = %s, %v", m, due)
	}
	e.clock.Set(taipei(2026, 12, 1, 1, 30))
	if m, due := svc.dueClose(); m != "2026-11" || !due {
		t.Fatalf("dueClose = %s, %v", m, due)
	}
	// A projector starting now closes November at once.
	late, err := New(e.store, Config{Seller: DevSeller(), Now: e.clock.Now, CloseDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = late.Run(ctx, nil) }()
	waitFor(t, func() bool { return len(late.Invoices("2026-11", "corp")) == 1 })
	if inv := late.Invoices("2026-11", "corp")[0]; inv.Kind != "b2b" || inv.Total != 210 || inv.Number != "AB00000002" {
		t.Fatalf("monthly invoice %+v", inv.InvoiceIssued)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Without a number range, the projector says so once a minute, not after
// every batch of events: each attempt walks every account with a top-up to
// invoice. A range assigned meanwhile is used at once.
func TestProjectorWaitsForARangeQuietly(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 10, 9, 0))
	e.open("shop", "小商店", "", domain.PlanStarter)
	if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "shop", Amount: dec("300"), Method: domain.MethodCard, Reference: "pay-1"}); err != nil {
		t.Fatal(err)
	}
	var logs testenv.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc := e.newService()
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, log) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	// Twenty batches of events, each waited for.
	for i := range 20 {
		e.use("shop", "gpt-4o", taipei(2026, 12, 10, 8, i), 10, 10, "1")
		head, err := e.store.LastPosition(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { svc.mu.Lock(); defer svc.mu.Unlock(); return !svc.l.pos.Less(head) })
	}
	if n := strings.Count(logs.String(), "top-up invoices"); n == 0 || n > 2 {
		t.Fatalf("the missing range was reported %d times over 20 batches:\n%s", n, logs.String())
	}
	e.assign("2026-11", "AB", 1, 99)
	waitFor(t, func() bool { return len(svc.Invoices("", "shop")) == 1 })
}

// refusingStore fails every append of an invoice, as a full disk would.
type refusingStore struct{ eventstore.Store }

func (s refusingStore) Append(ctx context.Context, stream string, exp eventstore.ExpectedVersion, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	for _, ev := range evs {
		if ev.Type == domain.TypeInvoiceIssued {
			return eventstore.AppendResult{}, errors.New("disk full")
		}
	}
	return s.Store.Append(ctx, stream, exp, evs...)
}

// A missing number range is a warning that says what to run; an invoice
// that cannot be recorded is an error.
func TestProjectorLogLevels(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 10, 9, 0))
	e.open("shop", "小商店", "", domain.PlanStarter)
	if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "shop", Amount: dec("300"), Method: domain.MethodCard, Reference: "pay-1"}); err != nil {
		t.Fatal(err)
	}
	var logs testenv.Buffer
	svc, err := New(refusingStore{e.store}, Config{Seller: DevSeller(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, slog.New(slog.NewJSONHandler(&logs, nil))) }()
	defer func() { cancel(); <-done }()
	record := func(level string) map[string]any {
		t.Helper()
		var found map[string]any
		waitFor(t, func() bool {
			for _, line := range strings.Split(logs.String(), "\n") {
				var r map[string]any
				if json.Unmarshal([]byte(line), &r) == nil && r["level"] == level {
					found = r
				}
			}
			return found != nil
		})
		return found
	}
	if r := record("WARN"); !strings.Contains(r["msg"].(string), "routefree invoices range --period 2026-11") || r["period"] != "2026-11" {
		t.Fatalf("missing range: %v", r)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Fatalf("a missing range logged as an error:\n%s", logs.String())
	}
	if err := svc.AssignRange(e.ctx, "2026-11", "AB", 1, 99); err != nil {
		t.Fatal(err)
	}
	e.use("shop", "gpt-4o", taipei(2026, 12, 10, 8, 0), 10, 10, "1")
	if r := record("ERROR"); r["msg"] != "invoicing: top-up invoices" || !strings.Contains(r["err"].(string), "disk full") {
		t.Fatalf("failed invoice: %v", r)
	}
}
