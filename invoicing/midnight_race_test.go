package invoicing

import (
	"sort"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Two issuers on one store race across Taipei midnight: the one that read
// the clock at 23:59:59.999 loses the range stream to one that issues at
// 00:00 and numbers after it. A number never carries an earlier date than
// a lower number of its range (numbers are used in the order of their
// dates), whether the rival reads the same clock or one running ahead.
func TestNumbersNeverCarryAnEarlierDate(t *testing.T) {
	beforeMidnight := taipei(2026, 11, 20, 23, 59).Add(59*time.Second + 999*time.Millisecond)
	midnight := taipei(2026, 11, 21, 0, 0)
	for _, c := range []struct {
		name     string
		ownClock bool // the rival has its own clock, at midnight already
	}{{"one clock", false}, {"rival's clock ahead", true}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, taipei(2026, 11, 10, 9, 0))
			e.assign("2026-11", "AB", 12345000, 12345999)
			for _, acct := range []string{"acct-a", "acct-b"} {
				e.open(acct, "公司"+acct, "", domain.PlanBusiness)
				e.use(acct, "gpt-4o", taipei(2026, 11, 2, 10, 0), 10, 10, "100")
			}
			rival := e.newService()
			rivalClock := &clock{t: midnight}
			if c.ownClock {
				var err error
				if rival, err = New(e.store, Config{Seller: DevSeller(), Now: rivalClock.Now}); err != nil {
					t.Fatal(err)
				}
			}
			racing := &racingStore{Store: e.store, stream: domain.InvoiceRangeStream("2026-11"), n: 1}
			svc, err := New(racing, Config{Seller: DevSeller(), Now: e.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Set(beforeMidnight)
			racing.race = func(int) {
				if !c.ownClock {
					e.clock.Set(midnight)
				}
				if _, _, err := rival.IssueMonthly(e.ctx, "acct-b", "2026-11"); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := svc.IssueMonthly(e.ctx, "acct-a", "2026-11"); err != nil {
				t.Fatal(err)
			}
			fresh := e.newService()
			if err := fresh.Sync(e.ctx); err != nil {
				t.Fatal(err)
			}
			invs := fresh.PeriodInvoices("2026-11")
			if len(invs) != 2 {
				t.Fatalf("%d invoices", len(invs))
			}
			sort.Slice(invs, func(i, j int) bool { return invs[i].Number < invs[j].Number })
			for i := 1; i < len(invs); i++ {
				if invs[i].IssuedAt.Before(invs[i-1].IssuedAt) {
					t.Fatalf("%s (%s) is dated %s, before %s's %s", invs[i].Number, invs[i].AccountID,
						invs[i].IssuedAt.In(time.FixedZone("CST", 8*3600)), invs[i-1].Number, invs[i-1].IssuedAt.In(time.FixedZone("CST", 8*3600)))
				}
			}
			for _, inv := range invs {
				if !inv.IssuedAt.Equal(midnight) || !inv.UploadBy.Equal(twrules.UploadDeadline(inv.Kind == pdf.KindB2B, inv.IssuedAt)) {
					t.Fatalf("%s issued %s, to upload by %s", inv.Number, inv.IssuedAt, inv.UploadBy)
				}
			}
		})
	}
}
