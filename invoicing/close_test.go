package invoicing

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/invoicing/pdf/pdftest"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Geometry of the printed proof (mm), as invoicing/pdf lays it out.
const (
	qrY, qrSize, qrLeftX, qrRightX = 86.0, 34.0, 66.0, 110.0
	code39Y, code39H               = 66.0, 12.0
)

// november sets up a month of usage: a B2B business account with two
// models, a B2C enterprise account, a starter account (prepaid, never in
// the close) and a business account whose usage costs nothing.
func november(t *testing.T) *env {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("acme", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.open("solo", "王小明工作室", "", domain.PlanEnterprise)
	e.open("starter", "小商店", "", domain.PlanStarter)
	e.open("free", "零元公司", "04595257", domain.PlanBusiness)
	// acme: 1,000.1234 + 2,345.6789 = 3,345.8023 → 3,346 (half-up once, on the total)
	e.use("acme", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1_000_000, 200_000, "600.0617")
	e.use("acme", "gpt-4o", taipei(2026, 11, 20, 10, 0), 1_000_000, 200_000, "400.0617")
	e.use("acme", "claude-sonnet", taipei(2026, 11, 15, 10, 0), 3_000_000, 500_000, "2345.6789")
	e.use("solo", "gpt-4o-mini", taipei(2026, 11, 7, 10, 0), 500_000, 100_000, "104.5")
	e.use("starter", "gpt-4o", taipei(2026, 11, 7, 10, 0), 10, 10, "50")
	e.use("free", "gpt-4o-mini", taipei(2026, 11, 7, 10, 0), 10, 10, "0.4")
	return e
}

func TestCloseEndToEnd(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	pdfDir := t.TempDir()
	rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{PDFDir: pdfDir})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Issued) != 2 || rep.PDFs != 2 || rep.Existing != 0 || len(rep.Skipped) != 1 || rep.Skipped[0].AccountID != "free" {
		t.Fatalf("report: %+v", rep)
	}
	if !strings.Contains(rep.Skipped[0].Reason, "no zero or negative invoice") {
		t.Errorf("skip reason %q", rep.Skipped[0].Reason)
	}
	b2b, b2c := rep.Issued[0], rep.Issued[1] // accounts in ID order: acme, solo
	if b2b.Number != "AB12345000" || b2c.Number != "AB12345001" || b2b.Period != "2026-11" {
		t.Fatalf("numbers %s %s period %s", b2b.Number, b2c.Number, b2b.Period)
	}
	// B2B: total is the month's cost rounded once; tax split once on the total.
	if b2b.Kind != "b2b" || b2b.BuyerTaxID != "22099131" || b2b.Total != 3346 || b2b.Tax != 159 || b2b.Sales != 3187 {
		t.Fatalf("b2b invoice %+v", b2b.InvoiceIssued)
	}
	if len(b2b.Lines) != 2 || !strings.HasPrefix(b2b.Lines[0].Description, "claude-sonnet") ||
		!strings.Contains(b2b.Lines[1].Description, "輸入 2000000／輸出 400000 tokens") {
		t.Fatalf("lines %+v", b2b.Lines)
	}
	// 104.5 rounds half-up to 105 → 100 + 5.
	if b2c.Kind != "b2c" || b2c.BuyerTaxID != "" || b2c.Total != 105 || b2c.Sales != 100 || b2c.Tax != 5 || !twrules.ValidRandomCode(b2c.RandomCode) {
		t.Fatalf("b2c invoice %+v", b2c.InvoiceIssued)
	}

	// The PDF written by the close is the one rendered on demand.
	var buf bytes.Buffer
	if err := e.svc.InvoicePDF(&buf, "AB-12345000"); err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(filepath.Join(pdfDir, "2026-11-AB12345000.pdf"))
	if err != nil || !bytes.Equal(onDisk, buf.Bytes()) {
		t.Fatalf("PDF on disk differs from the on-demand rendering (%v)", err)
	}
	doc := buf.Bytes()
	pdftest.MustContain(t, pdftest.Text(t, doc), "電子發票證明聯", "115年11-12月", "AB-12345000", "2026-12-01 02:00:00",
		"買方 22099131", "賣方 12345675", "艾克米股份有限公司", "總計 3,346", "銷售額合計", "3,187", "營業稅（5%）", "159",
		"參仟參佰肆拾陸元整", "計費月份：2026-11", "claude-sonnet 用量 2026-11", "格式 25")

	// Barcodes decode from the rendered page to what the MOF spec says.
	key, _ := twrules.ParseQRKey(DevQRKeyHex)
	proof := twrules.Proof{Number: b2b.Number, IssuedAt: b2b.IssuedAt, RandomCode: b2b.RandomCode, Sales: b2b.Sales,
		Total: b2b.Total, BuyerTaxID: b2b.BuyerTaxID, SellerTaxID: "12345675"}
	for _, l := range b2b.Lines {
		proof.Items = append(proof.Items, twrules.QRItem{Name: l.Description, Quantity: l.Quantity, UnitPrice: l.UnitPrice})
	}
	wantLeft, wantRight, err := proof.QRContents(key, twrules.DefaultQRBudget)
	if err != nil {
		t.Fatal(err)
	}
	// 300 dpi: gozxing's detector misses this right-hand code at exactly 200.
	const dpi = 300
	page := pdftest.Rasterize(t, doc, dpi)
	q := 4.0
	left := pdftest.DecodeQR(t, pdftest.Crop(page, dpi, qrLeftX-q, qrY-q, qrSize+2*q, qrSize+2*q))
	if left != wantLeft {
		t.Errorf("left QR = %q\nwant %q", left, wantLeft)
	}
	head := fmt.Sprintf("AB123450001151201%s%08x%08x2209913112345675", b2b.RandomCode, 3187, 3346)
	if !strings.HasPrefix(left, head) {
		t.Errorf("left QR header %q, want prefix %q", left[:min(77, len(left))], head)
	}
	if right := pdftest.DecodeQR(t, pdftest.Crop(page, dpi, qrRightX-q, qrY-q, qrSize+2*q, qrSize+2*q)); right != wantRight {
		t.Errorf("right QR = %q, want %q", right, wantRight)
	}
	if got := pdftest.DecodeCode39(t, pdftest.Crop(page, dpi, 15, code39Y, 180, code39H)); got != "11512AB12345000"+b2b.RandomCode {
		t.Errorf("Code 39 = %q", got)
	}

	// The B2C proof is tax-inclusive and names no buyer.
	buf.Reset()
	if err := e.svc.InvoicePDF(&buf, b2c.Number); err != nil {
		t.Fatal(err)
	}
	text := pdftest.Text(t, buf.Bytes())
	pdftest.MustContain(t, text, "AB-12345001", "總計（含稅）", "105", "壹佰零伍元整")
	if strings.Contains(text, "買方") {
		t.Error("B2C proof names a buyer")
	}

	// The F0401 export carries both invoices.
	buf.Reset()
	if err := e.svc.ExportF0401(&buf, "2026-11"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("F0401_AB12345000.xml")) || !bytes.Contains(buf.Bytes(), []byte("F0401_AB12345001.xml")) {
		t.Error("F0401 zip lacks an invoice")
	}
}

func TestCloseTwiceIssuesNothingNew(t *testing.T) {
	e := november(t)
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	first, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Again, from this service and from a fresh one (another process).
	for _, svc := range []*Service{e.svc, e.newService()} {
		again, err := svc.Close(e.ctx, "2026-11", CloseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Issued) != 0 || again.Existing != len(first.Issued) {
			t.Fatalf("second close: issued %d, existing %d; first issued %d", len(again.Issued), again.Existing, len(first.Issued))
		}
	}
	// Immediate issuance of an invoiced month returns the existing invoice.
	inv, created, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil || created || inv.Number != first.Issued[0].Number {
		t.Fatalf("IssueMonthly after close: %s created=%v err=%v", inv.Number, created, err)
	}
	if _, used, _ := e.svc.Range("2026-11"); used != 2 {
		t.Fatalf("range used %d numbers, want 2", used)
	}
	// The current month cannot be closed before it ends.
	if _, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{}); err == nil {
		t.Fatal("closed a month that has not ended")
	}
}

// A request at 2026-11-30 17:30 UTC is 2026-12-01 01:30 in Taipei: it is
// December's, whatever the server's zone.
func TestCloseTaipeiBoundary(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.assign("2027-01", "CD", 100, 199)
	e.open("acme", "艾克米股份有限公司", "22099131", domain.PlanBusiness)
	e.use("acme", "gpt-4o", time.Date(2026, 11, 30, 15, 59, 0, 0, time.UTC), 1, 1, "100") // 23:59 Taipei
	e.use("acme", "gpt-4o", time.Date(2026, 11, 30, 17, 30, 0, 0, time.UTC), 1, 1, "200") // 01:30 on 1 Dec

	e.clock.Set(time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC)) // 1 Dec 02:00 Taipei, still 30 Nov in UTC
	nov, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nov.Issued) != 1 || nov.Issued[0].Total != 100 {
		t.Fatalf("November close: %+v", nov.Issued)
	}
	if _, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{}); err == nil {
		t.Fatal("December closed on 1 December")
	}
	e.clock.Set(time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)) // 1 Jan 2027 00:00 Taipei
	dec, err := e.svc.Close(e.ctx, "2026-12", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dec.Issued) != 1 || dec.Issued[0].Total != 200 || dec.Issued[0].Period != "2027-01" || dec.Issued[0].Number != "CD00000100" {
		t.Fatalf("December close: %+v", dec.Issued)
	}
}

func TestTopUpInvoices(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 1, 99)
	e.open("shop", "小商店", "", domain.PlanStarter)
	e.open("corp", "艾克米股份有限公司", "22099131", domain.PlanStarter)
	for _, tu := range []domain.CreditsToppedUp{
		{AccountID: "shop", Amount: dec("500"), Method: domain.MethodCard, Reference: "pay-1"},
		{AccountID: "corp", Amount: dec("1050"), Method: domain.MethodBankTransfer, Reference: "wire-9"},
		{AccountID: "shop", Amount: dec("300"), Method: domain.MethodAdjustment, Reference: "goodwill"},
	} {
		if _, err := e.cmd.TopUp(e.ctx, tu); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.InvoiceTopUps(e.ctx); err != nil { // again: nothing new
		t.Fatal(err)
	}
	invs := e.svc.Invoices("2026-11", "")
	if len(invs) != 2 {
		t.Fatalf("%d invoices, want 2 (the adjustment is not invoiced)", len(invs))
	}
	if invs[0].TopUpRef != "pay-1" || invs[0].Kind != "b2c" || invs[0].Total != 500 || invs[0].Number != "AB00000001" {
		t.Errorf("card top-up invoice %+v", invs[0].InvoiceIssued)
	}
	if invs[1].TopUpRef != "wire-9" || invs[1].Kind != "b2b" || invs[1].Sales != 1000 || invs[1].Tax != 50 {
		t.Errorf("transfer top-up invoice %+v", invs[1].InvoiceIssued)
	}
	if _, created, err := e.svc.IssueTopUp(e.ctx, "shop", "pay-1"); err != nil || created {
		t.Errorf("re-issuing a top-up invoice: created=%v err=%v", created, err)
	}
}

// A close that loses the race for its invoices to another close (another
// process) counts each account of its month once among those already
// invoiced: the earlier month's invoice the other close issued beside the
// month's is not an account of the month.
func TestCloseLosingARaceCountsEachAccountOnce(t *testing.T) {
	e := newEnv(t, taipei(2026, 10, 5, 9, 0))
	e.assign("2026-11", "AB", 100, 999)
	e.open("acct-a", "甲公司", "", domain.PlanBusiness)
	e.use("acct-a", "gpt-4o", taipei(2026, 10, 20, 10, 0), 10, 10, "300")
	e.use("acct-a", "gpt-4o", taipei(2026, 11, 20, 10, 0), 10, 10, "400")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	winner := e.newService()
	var won CloseReport
	calls := 0
	// The loser reads its clock once as it starts and again as it numbers
	// its drafts: the winner closes in between.
	now := func() time.Time {
		if calls++; calls == 2 {
			rep, err := winner.Close(e.ctx, "2026-11", CloseOptions{})
			if err != nil {
				t.Error(err)
			}
			won = rep
		}
		return e.clock.Now()
	}
	loser, err := New(e.store, Config{Seller: DevSeller(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	lost, err := loser.Close(e.ctx, "2026-11", CloseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(won.Issued) != 2 || won.Existing != 0 {
		t.Fatalf("the winner: %d issued, %d already invoiced; want the invoices of October and November", len(won.Issued), won.Existing)
	}
	if len(lost.Issued) != 0 || lost.Existing != 1 {
		t.Fatalf("the loser: %d issued, %d accounts of 2026-11 already invoiced; want 0 and 1", len(lost.Issued), lost.Existing)
	}
}

// A gateway's ledger reads its own store's latest events from memory and
// learns of another process's appends by polling the file. A close it runs
// finds, on the range stream, the invoices another process's close has
// just issued — say one billing a late request that a third process (a
// second gateway) recorded. Its reconciliation must count that request
// with the invoice that bills it, never the invoice alone: invoiced +
// pending = used, with nothing invoiced beyond what was used.
func TestAGatewaysCloseBesideAnotherCloseNeverInvoicesBeyondUse(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 999)
	e.open("acct-x", "甲公司", "", domain.PlanBusiness)
	e.open("acct-y", "乙公司", "", domain.PlanBusiness)
	e.use("acct-x", "gpt-4o", taipei(2026, 11, 10, 10, 0), 10, 10, "100")
	e.use("acct-y", "gpt-4o", taipei(2026, 11, 10, 10, 0), 10, 10, "100")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	if _, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	// The gateway: its own store on the file, which polls it rarely here,
	// as any poll leaves a moment between another's commit and its notice.
	gw, err := sqlite.Open(e.path, sqlite.Options{PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	svc, err := New(gw, Config{Seller: DevSeller(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// It bills a late request of acct-x, and its ledger folds it.
	if _, err := gw.Append(e.ctx, domain.UsageStream("acct-x"), eventstore.Any(),
		e.usage("acct-x", "gpt-4o", taipei(2026, 11, 30, 23, 59), 10, 10, "50")); err != nil {
		t.Fatal(err)
	}
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	// Another gateway bills one of acct-y; the CLI closes again, billing both.
	e.use("acct-y", "gpt-4o", taipei(2026, 11, 30, 23, 59), 10, 10, "50")
	if rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil || len(rep.Issued) != 2 {
		t.Fatalf("the CLI's close: %d issued, %v; want both late requests billed", len(rep.Issued), err)
	}
	// The gateway closes too, finding acct-x's invoice issued already.
	if _, err := svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, err := svc.Reconcile(e.ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.Rows {
		if !r.Used.Equal(dec("150")) || !r.Invoiced.Equal(r.Used) || !r.Pending.IsZero() {
			t.Errorf("%s: used %s, invoiced %s, pending %s; want 150 used and invoiced", r.AccountID, r.Used, r.Invoiced, r.Pending)
		}
	}
}

// A process can fold another's invoice from the range stream (as it
// numbers) before the usage that invoice bills, which it has not read yet:
// its draft of the month must then wait rather than bill the difference as
// a negative line. Both read prefixes of one global order, so what this
// process knows of the month's usage is all within the invoice or all
// beyond it, never some of each: the draft comes out negative and is
// skipped, saying so. Once the usage is read, nothing is left to bill.
func TestADraftWaitsForUsageAnotherInvoiceBills(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 100, 999)
	e.open("acct-y", "乙公司", "", domain.PlanBusiness)
	e.use("acct-y", "gpt-4o", taipei(2026, 11, 10, 10, 0), 10, 10, "100")
	e.clock.Set(taipei(2026, 12, 1, 2, 0))
	gw, err := sqlite.Open(e.path, sqlite.Options{PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	svc, err := New(gw, Config{Seller: DevSeller(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SyncLatest(e.ctx); err != nil {
		t.Fatal(err)
	}
	// Another process bills a late request and closes the month.
	e.use("acct-y", "gpt-4o", taipei(2026, 11, 30, 23, 59), 10, 10, "50")
	if rep, err := e.svc.Close(e.ctx, "2026-11", CloseOptions{}); err != nil || len(rep.Issued) != 1 {
		t.Fatalf("the other close: %+v, %v", rep, err)
	}
	// This one reads the invoice from the range stream, not the usage.
	evs, err := e.store.ReadStream(e.ctx, domain.InvoiceRangeStream("2026-11"), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	svc.mu.Lock()
	for i := range evs {
		if err := svc.l.applyRange("2026-11", &evs[i]); err != nil {
			svc.mu.Unlock()
			t.Fatal(err)
		}
	}
	d, skip, ok := svc.monthlyDraft("acct-y", "2026-11", e.clock.Now())
	svc.mu.Unlock()
	if !ok || skip == nil || !strings.Contains(skip.Reason, "bill NT$50.00 of usage this process has not read yet") {
		t.Fatalf("beside an invoice of usage not read yet: draft %+v, skip %+v", d.inv, skip)
	}
	if err := svc.SyncLatest(e.ctx); err != nil {
		t.Fatal(err)
	}
	svc.mu.Lock()
	d, skip, ok = svc.monthlyDraft("acct-y", "2026-11", e.clock.Now())
	svc.mu.Unlock()
	if ok {
		t.Fatalf("after reading the usage: draft %+v, skip %+v; want nothing left", d.inv, skip)
	}
}
