package invoicing

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/internal/testenv"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/twrules"
)

// topUpInvoice records a paid top-up of acct and invoices it.
func topUpInvoice(ctx context.Context, cmd *commands.Handler, svc *Service, acct, ref string) error {
	if _, err := cmd.TopUp(ctx, domain.CreditsToppedUp{AccountID: acct, Amount: dec("100"), Method: domain.MethodBankTransfer, Reference: ref}); err != nil {
		return err
	}
	if err := svc.Sync(ctx); err != nil {
		return err
	}
	return svc.InvoiceTopUps(ctx)
}

// A range typed for the wrong period is withdrawn with a reason and the
// actor: it numbers nothing from then on, no E0402 (export or outbox)
// reports it, an E0402 file the outbox had already left in Turnkey's SRC
// for it is taken back, it is listed as withdrawn, and a service reading
// the history again agrees. The same range may be assigned again later.
func TestWithdrawnRangeNumbersNothingAndIsReportedBlankNowhere(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345001)
	e.assign("2026-11", "CD", 22220000, 22220004) // the typo: meant for 2027-01
	e.assign("2026-11", "EF", 33330000, 33330009)
	ctx := domain.WithActor(e.ctx, domain.Actor{Kind: domain.ActorCLI, ID: "finance-clerk"})
	if ok, err := e.svc.WithdrawRange(ctx, "2026-11", "CD", 22220000, 22220004, "typed for 2026-11, assigned for 2027-01"); !ok || err != nil {
		t.Fatalf("withdraw an unused range: %v, %v", ok, err)
	}
	if ok, err := e.svc.WithdrawRange(ctx, "2026-11", "CD", 22220000, 22220004, "again"); ok || err != nil {
		t.Fatalf("withdraw it again: %v, %v; want nothing done and no error", ok, err)
	}

	e.open("shop", "空白字軌股份有限公司", "", domain.PlanStarter)
	for i := range 3 {
		if err := topUpInvoice(e.ctx, e.cmd, e.svc, "shop", fmt.Sprintf("TX-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var numbers []string
	for _, inv := range e.svc.Invoices("", "") {
		numbers = append(numbers, inv.Number)
	}
	if strings.Join(numbers, ",") != "AB12345000,AB12345001,EF33330000" {
		t.Fatalf("numbers issued %v: the withdrawn CD range must number nothing", numbers)
	}

	check := func(svc *Service, who string) {
		t.Helper()
		st := svc.RangeStatus("2026-11")
		if len(st.Ranges) != 2 || st.Size != 12 || st.Used != 3 || st.Left != 9 {
			t.Fatalf("%s: status %+v: want AB and EF, 12 numbers, 3 used, 9 left", who, st)
		}
		if len(st.Withdrawn) != 1 || st.Withdrawn[0].Range.String() != "CD22220000-CD22220004" ||
			st.Withdrawn[0].Reason != "typed for 2026-11, assigned for 2027-01" || st.Withdrawn[0].Actor.ID != "finance-clerk" {
			t.Fatalf("%s: withdrawn %+v", who, st.Withdrawn)
		}
		for _, b := range svc.Blanks(twrules.Period{Year: 2026, StartMonth: time.November}) {
			if b.Track == "CD" {
				t.Fatalf("%s: blank numbers %+v report the withdrawn range", who, b)
			}
		}
	}
	check(e.svc, "live")
	again := e.newService()
	if err := again.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	check(again, "history read again")

	// After the period: E0402 export and outbox name EF only.
	e.clock.Set(taipei(2027, 1, 3, 10, 0))
	var zipped bytes.Buffer
	if err := e.svc.Export(&zipped, MessageE0402, "2026-11"); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "E0402_11512_EF.xml" {
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		t.Fatalf("E0402 export holds %v, want EF's only", names)
	}
	root := t.TempDir()
	rep, err := e.svc.Outbox(e.ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Written {
		if strings.Contains(f, "_CD") {
			t.Fatalf("outbox wrote %s for a withdrawn range", f)
		}
	}
	if _, err := os.Stat(filepath.Join(TurnkeyDir(root, MessageE0402, "SRC"), "E0402_11512_EF.xml")); err != nil {
		t.Fatal(err)
	}

	// The same range assigned again (it was right after all) counts again.
	if added, err := e.svc.AddRange(e.ctx, "2026-11", "CD", 22220000, 22220004); !added || err != nil {
		t.Fatalf("the withdrawn range assigned again: %v, %v", added, err)
	}
	if st := e.svc.RangeStatus("2026-11"); len(st.Ranges) != 3 || st.Left != 14 {
		t.Fatalf("after assigning it again: %+v", st)
	}
}

// A typo noticed after the period ended, once the outbox had already left
// the range's E0402 in Turnkey's SRC folder: the withdrawal takes the file
// back on the next run, before Turnkey sends it.
func TestOutboxTakesBackTheE0402OfAWithdrawnRange(t *testing.T) {
	e := newEnv(t, taipei(2027, 1, 3, 10, 0))
	e.assign("2026-11", "XY", 10000000, 10000049) // ended period: the typo
	root := t.TempDir()
	if _, err := e.svc.Outbox(e.ctx, root); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(TurnkeyDir(root, MessageE0402, "SRC"), "E0402_11512_XY.xml")
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("the E0402 was not written before the withdrawal: %v", err)
	}
	if ok, err := e.svc.WithdrawRange(e.ctx, "2026-11", "XY", 10000000, 10000049, "meant for 2027-01"); !ok || err != nil {
		t.Fatalf("withdraw: %v, %v", ok, err)
	}
	rep, err := e.svc.Outbox(e.ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the withdrawn range's E0402 is still in SRC (%v); report %+v", err, rep)
	}
	for _, d := range e.svc.Documents() {
		if d.Message == MessageE0402 {
			t.Fatalf("document %+v listed for a withdrawn range", d)
		}
	}

	// A 字軌 that keeps blanks of another range keeps its file, written
	// again with those only.
	e.assign("2026-11", "QR", 40000000, 40000009)
	e.assign("2026-11", "QR", 50000000, 50000004) // the typo
	if _, err := e.svc.Outbox(e.ctx, root); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.WithdrawRange(e.ctx, "2026-11", "QR", 50000000, 50000004, "numbers typed wrong"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Outbox(e.ctx, root); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(TurnkeyDir(root, MessageE0402, "SRC"), "E0402_11512_QR.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var m mig.BranchTrackBlank
	if err := xml.Unmarshal(b, &m); err != nil || len(m.Details) != 1 || m.Details[0].InvoiceBeginNo != "40000000" || m.Details[0].InvoiceEndNo != "40000009" {
		t.Fatalf("QR's E0402 after one of its ranges was withdrawn: %+v (%v)", m, err)
	}
}

// A range any number was used from (an invoice, or numbers skipped as
// used outside the history) is refused, saying why and what to do instead.
func TestWithdrawRefusesARangeWithNumbersUsed(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345009)
	e.assign("2026-11", "CD", 22220000, 22220009)
	e.open("shop", "空白字軌股份有限公司", "", domain.PlanStarter)
	if err := topUpInvoice(e.ctx, e.cmd, e.svc, "shop", "TX-1"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.WithdrawRange(e.ctx, "2026-11", "AB", 12345000, 12345009, "typo")
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("withdraw a range an invoice was numbered from: %v, want a conflict", err)
	}
	for _, want := range []string{"AB12345000-AB12345009", "1 of its numbers is used", "Void the invoices", "E0402"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("refusal %q lacks %q", err, want)
		}
	}
	// Numbers skipped as used elsewhere count as used too.
	e.assign("2026-11", "EF", 33330000, 33330009)
	if _, err := e.svc.SkipNumbers(e.ctx, "2026-11", "CD22220009", "issued before a restore"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.WithdrawRange(e.ctx, "2026-11", "CD", 22220000, 22220009, "typo"); !errors.Is(err, ErrConflict) {
		t.Fatalf("withdraw a range with skipped numbers: %v", err)
	}
	if _, err := e.svc.WithdrawRange(e.ctx, "2026-11", "EF", 33330000, 33330009, " "); !errors.Is(err, ErrInvalid) {
		t.Fatalf("withdraw without a reason: %v", err)
	}
	if _, err := e.svc.WithdrawRange(e.ctx, "2026-11", "EF", 33330000, 33330008, "typo"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("withdraw a range the period does not have: %v", err)
	}
	if st := e.svc.RangeStatus("2026-11"); len(st.Ranges) != 3 || len(st.Withdrawn) != 0 {
		t.Fatalf("after the refusals: %+v", st)
	}
}

// withdrawRace races, round after round, a withdrawal of the period's only
// range with numbers left against an issuer drafting an invoice from it,
// each on its own store connection (two processes). Whichever wins, the
// other must see it: a withdrawn range carries no invoice, a refused
// withdrawal names a range that does, and a fresh reading of the history
// agrees with what each was told.
func withdrawRace(t *testing.T, stores [2]eventstore.Store, c *clock) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := &commands.Handler{Store: stores[0], Now: c.Now}
	var svcs [2]*Service
	for i, s := range stores {
		svc, err := New(s, Config{Seller: DevSeller(), Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		svcs[i] = svc
	}
	if _, err := cmd.OpenAccount(ctx, domain.AccountOpened{AccountID: "shop", Organisation: "空白字軌股份有限公司", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	const rounds = 30
	withdrawn := map[string]bool{}
	for round := range rounds {
		// One number per range: earlier ranges are used up or withdrawn,
		// so this round's is the only one an invoice can take.
		r := twrules.Range{Prefix: "AB", From: int64(10000000 + round), To: int64(10000000 + round)}
		if _, err := svcs[1].AddRange(ctx, "2026-11", r.Prefix, r.From, r.To); err != nil {
			t.Fatal(err)
		}
		errs := concurrently(2, func(i int) error {
			// An issue finds no number once the range is withdrawn (or
			// when a top-up left over from a round it lost takes it).
			if i == 0 {
				return topUpInvoice(ctx, cmd, svcs[0], "shop", fmt.Sprintf("TX-%d", round))
			}
			_, err := svcs[1].WithdrawRange(ctx, "2026-11", r.Prefix, r.From, r.To, "typo")
			return err
		})
		if errs[0] != nil && !errors.Is(errs[0], ErrNoRange) && !errors.Is(errs[0], ErrRangeExhausted) {
			t.Fatalf("round %d: issue beside a withdrawal: %v", round, errs[0])
		}
		switch {
		case errs[1] == nil:
			withdrawn[r.String()] = true
		case errors.Is(errs[1], ErrConflict):
			// Refused: the range has a number used (checked below).
		default:
			t.Fatalf("round %d: withdraw: %v", round, errs[1])
		}
	}
	fresh, err := New(stores[0], Config{Seller: DevSeller(), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for _, inv := range fresh.Invoices("", "") {
		r := twrules.Range{Prefix: "AB", From: 0, To: 0}
		fmt.Sscanf(inv.Number[2:], "%d", &r.From)
		r.To = r.From
		if withdrawn[r.String()] {
			t.Fatalf("invoice %s carries a number of a range whose withdrawal was accepted", inv.Number)
		}
	}
	st := fresh.RangeStatus("2026-11")
	if len(st.Withdrawn) != len(withdrawn) || len(st.Ranges)+len(st.Withdrawn) != rounds || st.Left != 0 {
		t.Fatalf("history: %d ranges, %d withdrawn, %d left; the callers were told %d withdrawn of %d", len(st.Ranges), len(st.Withdrawn), st.Left, len(withdrawn), rounds)
	}
	for _, w := range st.Withdrawn {
		if !withdrawn[w.Range.String()] {
			t.Fatalf("range %s withdrawn in the history, but its withdrawal was refused", w.Range)
		}
	}
	if len(withdrawn) == 0 || len(withdrawn) == rounds {
		t.Logf("every round went one way (%d of %d withdrawn)", len(withdrawn), rounds)
	}
}

func TestWithdrawRangeRacesAnIssuerOnSQLite(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	other, err := sqlite.Open(e.path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	withdrawRace(t, [2]eventstore.Store{e.store, other}, e.clock)
}

func TestWithdrawRangeRacesAnIssuerOnPostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	var stores [2]eventstore.Store
	for i := range stores {
		s, err := postgres.Open(context.Background(), url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	withdrawRace(t, stores, &clock{t: taipei(2026, 11, 10, 9, 0)})
}

// A range for a period more than one away from the current one is most
// likely a typo of the year or month: refused, naming the flag that says
// it is meant. The previous, current and next periods are taken as before.
func TestFarPeriodRangeIsRefusedUnlessMeant(t *testing.T) {
	e := newEnv(t, taipei(2026, 12, 7, 9, 0)) // period 2026-11
	for _, p := range []string{"2026-09", "2026-11", "2027-01"} {
		if added, err := e.svc.AddRange(e.ctx, p, "AB", 12345000, 12345099); !added || err != nil {
			t.Fatalf("range of period %s: %v, %v", p, added, err)
		}
	}
	for _, p := range []string{"2026-01", "2026-07", "2027-03", "2027-11"} {
		_, err := e.svc.AddRange(e.ctx, p, "CD", 12345000, 12345099)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "2026-11") || !strings.Contains(err.Error(), "--far-period") {
			t.Fatalf("range of far period %s: %v; want refused, naming the current period and the flag", p, err)
		}
		if st := e.svc.RangeStatus(p); len(st.Ranges) != 0 {
			t.Fatalf("refused range of %s recorded: %+v", p, st)
		}
		if added, err := e.svc.AddRange(e.ctx, p, "CD", 12345000, 12345099, FarPeriodMeant); !added || err != nil {
			t.Fatalf("range of far period %s, meant: %v, %v", p, added, err)
		}
	}
}
