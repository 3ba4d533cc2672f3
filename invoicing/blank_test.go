package invoicing

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/twrules"
)

// TestE0402ReportsAPeriodsUnusedNumbers: a period with two ranges of one
// 字軌 and one of another, three numbers used (one of them voided). While
// the period runs its blank numbers cannot be reported; once it has ended,
// E0402 names, per 字軌, every number assigned and never used, in runs,
// and nothing used.
func TestE0402ReportsAPeriodsUnusedNumbers(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345009)
	e.assign("2026-11", "CD", 22220000, 22220004)
	e.assign("2026-11", "AB", 12345100, 12345104)
	e.open("shop", "空白字軌股份有限公司", "", domain.PlanStarter)
	for _, ref := range []string{"TX-1", "TX-2", "TX-3"} {
		if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "shop", Amount: dec("100"), Method: domain.MethodBankTransfer, Reference: ref}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	invs := e.svc.Invoices("", "shop")
	if len(invs) != 3 {
		t.Fatalf("%d invoices, want 3", len(invs))
	}
	if _, err := e.svc.Void(e.ctx, invs[1].Number, "buyer asked for B2B"); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	if err := e.svc.Export(&buf, MessageE0402, "2026-11"); !errors.Is(err, ErrInvalid) || buf.Len() != 0 {
		t.Fatalf("E0402 of a running period: %v, %d bytes", err, buf.Len())
	}

	e.clock.Set(taipei(2027, 1, 3, 10, 0))
	if err := e.svc.Export(&buf, MessageE0402, "2026-11"); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		var m mig.BranchTrackBlank
		if err := xml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v\n%s", f.Name, err, b)
		}
		if m.Xmlns != mig.NamespaceE0402 || m.Main.YearMonth != "11512" || m.Main.InvoiceType != "07" ||
			m.Main.HeadBan != DevSeller().TaxID || m.Main.BranchBan != DevSeller().TaxID {
			t.Fatalf("%s: %+v", f.Name, m)
		}
		if want := "E0402_11512_" + m.Main.InvoiceTrack + ".xml"; f.Name != want {
			t.Fatalf("file %s holds 字軌 %s", f.Name, m.Main.InvoiceTrack)
		}
		for _, d := range m.Details {
			got[m.Main.InvoiceTrack] = append(got[m.Main.InvoiceTrack], d.InvoiceBeginNo+"-"+d.InvoiceEndNo)
		}
	}
	want := map[string][]string{"AB": {"12345003-12345009", "12345100-12345104"}, "CD": {"22220000-22220004"}}
	if len(got) != len(want) || !slices.Equal(got["AB"], want["AB"]) || !slices.Equal(got["CD"], want["CD"]) {
		t.Fatalf("blank numbers %v, want %v", got, want)
	}
	for _, inv := range invs {
		if inv.Number < "AB12345000" || inv.Number > "AB12345002" {
			t.Fatalf("invoice %s is not among the numbers E0402 leaves out", inv.Number)
		}
	}
}

// TestE0402RefusesASellerItCannotName: the message names the seller's
// 統一編號; one that fails its checksum writes nothing.
func TestE0402RefusesASellerItCannotName(t *testing.T) {
	p, _ := twrules.ParsePeriod("2026-11")
	var buf bytes.Buffer
	err := mig.ExportE0402(&buf, []mig.Blank{{Period: p, Track: "AB", Runs: []twrules.Range{{Prefix: "AB", From: 1, To: 9}}}}, mig.Seller{TaxID: "12345678"})
	if err == nil || buf.Len() != 0 {
		t.Fatalf("E0402 with seller 12345678: %v, %d bytes", err, buf.Len())
	}
}

// TestSkippedNumbersAreNotBlank: numbers taken out of use across the end of
// a range were used outside the history: the period gives the number after
// them next, and E0402 reports only what follows.
func TestSkippedNumbersAreNotBlank(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345004)
	e.assign("2026-11", "CD", 22220000, 22220009)
	e.open("shop", "跳號股份有限公司", "", domain.PlanStarter)
	topUp := func(ref string) string {
		t.Helper()
		if _, err := e.cmd.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "shop", Amount: dec("100"), Method: domain.MethodBankTransfer, Reference: ref}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.InvoiceTopUps(e.ctx); err != nil {
			t.Fatal(err)
		}
		invs := e.svc.Invoices("", "shop")
		return invs[len(invs)-1].Number
	}
	if n := topUp("TX-1"); n != "AB12345000" {
		t.Fatalf("first invoice %s", n)
	}
	sk, err := e.svc.SkipNumbers(e.ctx, "2026-11", "CD22220001", "issued before the store was restored")
	if err != nil {
		t.Fatal(err)
	}
	if sk.First != "AB12345001" || sk.Count != 6 || sk.Next != "CD22220002" {
		t.Fatalf("skip: %+v", sk)
	}
	if again, err := e.svc.SkipNumbers(e.ctx, "2026-11", "AB12345003", "already"); err != nil || again.Count != 0 {
		t.Fatalf("skipping used numbers: %+v, %v", again, err)
	}
	if n := topUp("TX-2"); n != "CD22220002" {
		t.Fatalf("the invoice after the skip is %s", n)
	}
	if st := e.svc.RangeStatus("2026-11"); st.Used != 8 || st.Skipped != 6 || st.Left != 7 {
		t.Fatalf("range status %+v", st)
	}
	e.clock.Set(taipei(2027, 1, 3, 10, 0))
	blanks := e.svc.Blanks(twrules.Period{Year: 2026, StartMonth: time.November})
	if len(blanks) != 1 || blanks[0].Track != "CD" || len(blanks[0].Runs) != 1 || blanks[0].Runs[0].From != 22220003 || blanks[0].Runs[0].To != 22220009 {
		t.Fatalf("blanks after the skip: %+v", blanks)
	}
	for _, bad := range []string{"AB12345005", "EF12345000", "AB123"} {
		if _, err := e.svc.SkipNumbers(e.ctx, "2026-11", bad, "x"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("skip through %s: %v", bad, err)
		}
	}
	if _, err := e.svc.SkipNumbers(e.ctx, "2026-11", "CD22220009", " "); !errors.Is(err, ErrInvalid) {
		t.Fatalf("skip without a reason: %v", err)
	}
}
