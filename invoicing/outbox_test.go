package invoicing

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/twrules"
)

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// The outbox writes every pending message where Turnkey picks it up, reads
// Turnkey's results back as events, and knows each document's deadline.
func TestTurnkeyOutbox(t *testing.T) {
	e := november(t) // acme: B2B, solo: B2C
	// Issued on 30 November, 23:30 Taipei: the deadlines cross the month end.
	e.clock.Set(taipei(2026, 11, 30, 23, 30))
	b2b, _, err := e.svc.IssueMonthly(e.ctx, "acme", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	b2c, _, err := e.svc.IssueMonthly(e.ctx, "solo", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if got := twrules.LastUploadDay(b2c.UploadBy); got != "2026-12-02" {
		t.Errorf("B2C upload deadline %s, want the end of 2026-12-02", got)
	}
	if got := twrules.LastUploadDay(b2b.UploadBy); got != "2026-12-07" {
		t.Errorf("B2B upload deadline %s, want the end of 2026-12-07", got)
	}
	e.clock.Set(taipei(2026, 12, 1, 9, 0))
	if _, err := e.svc.Void(e.ctx, b2c.Number, "金額誤植"); err != nil {
		t.Fatal(err)
	}
	al, err := e.svc.IssueAllowance(e.ctx, b2b.Number, 100, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.store.ReadStream(e.ctx, invoiceStream(b2c.Period, b2c.Number), 0, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("void stream: %v %d", err, len(evs))
	}
	if v, err := domain.Decode(evs[0].Type, evs[0].SchemaVersion, evs[0].Data); err != nil ||
		twrules.LastUploadDay(v.(*domain.InvoiceVoided).UploadBy) != "2026-12-03" {
		t.Errorf("void event records deadline %v (%v), want the end of 2026-12-03", v, err)
	}
	if got := twrules.LastUploadDay(al.UploadBy); got != "2026-12-08" {
		t.Errorf("allowance records upload deadline %s, want the end of 2026-12-08", got)
	}

	dir := t.TempDir()
	rep, err := e.svc.Outbox(e.ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	f0401 := "UpCast/B2SSTORAGE/F0401/SRC/F0401_2026-11_" + b2b.Number + ".xml"
	want := []string{
		f0401,
		"UpCast/B2SSTORAGE/F0401/SRC/F0401_2026-11_" + b2c.Number + ".xml",
		"UpCast/B2SSTORAGE/F0501/SRC/F0501_2026-11_" + b2c.Number + ".xml",
		"UpCast/B2SSTORAGE/G0401/SRC/G0401_2026-11_" + al.Number + ".xml",
	}
	sort.Strings(want)
	if got := listFiles(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") || len(rep.Written) != 4 {
		t.Fatalf("outbox files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Each file is the message the export gives.
	var exp bytes.Buffer
	if err := mig.WriteF0401(&exp, b2b.InvoiceIssued, e.svc.seller.MIG()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, f0401))
	var x mig.Invoice
	if !bytes.Equal(b, exp.Bytes()) || xml.Unmarshal(b, &x) != nil || x.Main.InvoiceNumber != b2b.Number {
		t.Fatalf("F0401 file differs from the message")
	}
	// Deadlines per document, in Taipei days: the void and the allowance
	// count from their own day (1 December).
	docs := map[string]Document{}
	for _, d := range e.svc.Documents() {
		docs[d.Message+" "+d.Number] = d
		if d.Status != FilingPending {
			t.Errorf("%s %s: status %s before Turnkey ran", d.Message, d.Number, d.Status)
		}
	}
	for k, last := range map[string]string{
		"F0401 " + b2b.Number: "2026-12-07", "F0401 " + b2c.Number: "2026-12-02",
		"F0501 " + b2c.Number: "2026-12-03", "G0401 " + al.Number: "2026-12-08",
	} {
		if got := twrules.LastUploadDay(docs[k].Deadline); got != last {
			t.Errorf("%s: last upload day %s, want %s", k, got, last)
		}
	}
	// 2 December, 10:00: the B2C invoice is due today.
	e.clock.Set(taipei(2026, 12, 2, 10, 0))
	near := map[string]bool{}
	for _, d := range e.svc.Documents() {
		if d.Due(e.clock.Now()) {
			near[d.Message+" "+d.Number] = true
		}
	}
	if !near["F0401 "+b2c.Number] || near["F0401 "+b2b.Number] {
		t.Errorf("near the deadline: %v", near)
	}

	// Turnkey sends the F0401s (moves them to BAK/<date>/<hour>, as its
	// manual lays out) and refuses the F0501 (moves it to ERR with its log).
	move := func(rel, to string) {
		src := filepath.Join(dir, rel)
		dst := filepath.Join(dir, strings.Replace(filepath.Dir(rel), "/SRC", "/"+to, 1), "20261202", "14", filepath.Base(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(src, dst); err != nil {
			t.Fatal(err)
		}
	}
	move(want[0], "BAK")
	move(want[1], "BAK")
	move("UpCast/B2SSTORAGE/F0501/SRC/F0501_2026-11_"+b2c.Number+".xml", "ERR")
	errLog := filepath.Join(dir, "UpCast/B2SSTORAGE/F0501/ERR/20261202/14/F0501_2026-11_"+b2c.Number+".txt")
	if err := os.WriteFile(errLog, []byte("CancelReason 長度超過限制\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err = e.svc.Outbox(e.ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uploaded != 2 || rep.Rejected != 1 || len(rep.Written) != 0 {
		t.Fatalf("second run: %+v", rep)
	}
	// The results are events: another process sees them; a third run
	// records nothing again and writes nothing back.
	fresh := e.newService()
	if err := fresh.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	status := map[string]Document{}
	for _, d := range fresh.Documents() {
		status[d.Message+" "+d.Number] = d
	}
	if status["F0401 "+b2b.Number].Status != FilingUploaded || status["F0401 "+b2c.Number].Status != FilingUploaded ||
		status["F0501 "+b2c.Number].Status != FilingRejected || !strings.Contains(status["F0501 "+b2c.Number].Reason, "CancelReason") ||
		status["G0401 "+al.Number].Status != FilingPending {
		t.Fatalf("statuses %+v", status)
	}
	rep, err = fresh.Outbox(e.ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Uploaded != 0 || rep.Rejected != 0 || len(rep.Written) != 0 {
		t.Fatalf("third run: %+v", rep)
	}

	// The allowance is voided on 31 December, 23:30 Taipei (15:30 UTC):
	// its G0501 is due by the end of 7 January, counted in Taipei days
	// across the month and year end, and it goes to Turnkey's G0501 folder.
	e.clock.Set(taipei(2026, 12, 31, 23, 30))
	va, err := fresh.VoidAllowance(e.ctx, al.Number, "折讓金額誤植")
	if err != nil {
		t.Fatal(err)
	}
	if got := twrules.LastUploadDay(va.VoidUploadBy); got != "2027-01-07" {
		t.Errorf("allowance void records upload deadline %s, want the end of 2027-01-07", got)
	}
	rep, err = fresh.Outbox(e.ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	g0501 := "UpCast/B2SSTORAGE/G0501/SRC/G0501_2026-11_" + al.Number + ".xml"
	if len(rep.Written) != 1 || rep.Written[0] != g0501 {
		t.Fatalf("after the allowance void, wrote %v, want %s", rep.Written, g0501)
	}
	exp.Reset()
	inv := mustInvoice(t, fresh, b2b.Number)
	a := inv.Allowances[0]
	if err := mig.WriteG0501(&exp, mig.AllowanceVoid{Invoice: inv.InvoiceIssued, Allowance: a.AllowanceIssued, IssuedAt: a.IssuedAt,
		At: a.VoidedAt, Event: domain.AllowanceVoided{Number: a.Number, InvoiceNumber: a.InvoiceNumber, Reason: a.VoidReason}}, fresh.seller.MIG()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, g0501)); !bytes.Equal(b, exp.Bytes()) || !strings.Contains(string(b), "折讓金額誤植") {
		t.Fatalf("G0501 file differs from the message:\n%s", b)
	}
	for _, d := range fresh.Documents() {
		if d.Message == MessageG0501 && twrules.LastUploadDay(d.Deadline) != "2027-01-07" {
			t.Errorf("G0501 %s: last upload day %s", d.Number, twrules.LastUploadDay(d.Deadline))
		}
	}
	// Turnkey sends it; the next run records the upload.
	move(g0501, "BAK")
	if rep, err = fresh.Outbox(e.ctx, dir); err != nil || rep.Uploaded != 1 || len(rep.Written) != 0 {
		t.Fatalf("after Turnkey sent the G0501: %+v %v", rep, err)
	}
}
