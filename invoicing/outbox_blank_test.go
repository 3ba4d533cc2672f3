package invoicing

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/twrules"
)

// TestOutboxReportsAPeriodsUnusedNumbers: once a period has ended (and an
// hour has passed, for an issue a lagging clock dated in it), the outbox
// writes each 字軌's E0402 where Turnkey sends it, with the ten-day
// deadline, and no E0402 for a 字軌 whose numbers were all used. The file
// is the one the export writes, under the export's name, so a file finance
// exported and placed in Turnkey's folder counts as that document: in BAK
// it is recorded uploaded and never written again.
func TestOutboxReportsAPeriodsUnusedNumbers(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 12345000, 12345001) // both used below
	e.assign("2026-11", "CD", 22220000, 22220004)
	e.assign("2026-11", "EF", 33330000, 33330009)
	e.open("shop", "空白字軌股份有限公司", "", domain.PlanStarter)
	for _, ref := range []string{"TX-1", "TX-2"} {
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
	blankDocs := func() []Document {
		var out []Document
		for _, d := range e.svc.Documents() {
			if d.Message == MessageE0402 {
				out = append(out, d)
			}
		}
		return out
	}
	// While the period runs, and in the hour after it, nothing is blank yet.
	for _, at := range [][5]int{{2026, 12, 31, 23, 59}, {2027, 1, 1, 0, 30}} {
		e.clock.Set(taipei(at[0], time.Month(at[1]), at[2], at[3], at[4]))
		if d := blankDocs(); len(d) != 0 {
			t.Fatalf("at %v: E0402 documents %+v before the period settled", at, d)
		}
	}
	e.clock.Set(taipei(2027, 1, 3, 10, 0))
	docs := blankDocs()
	if len(docs) != 2 || docs[0].Number+docs[1].Number != "CDEF" && docs[0].Number+docs[1].Number != "EFCD" {
		t.Fatalf("E0402 documents %+v, want CD and EF (AB has no number left)", docs)
	}
	for _, d := range docs {
		if d.Status != FilingPending || d.Period != "2026-11" || twrules.LastUploadDay(d.Deadline) != "2027-01-10" {
			t.Fatalf("E0402 document %+v: want pending, period 2026-11, last day 2027-01-10", d)
		}
	}

	// Finance exported the period's E0402 and placed CD's file in Turnkey,
	// which sent it; EF is left to the outbox.
	var zipped bytes.Buffer
	if err := e.svc.Export(&zipped, MessageE0402, "2026-11"); err != nil {
		t.Fatal(err)
	}
	exported := map[string][]byte{}
	zr, err := zip.NewReader(bytes.NewReader(zipped.Bytes()), int64(zipped.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		exported[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	root := t.TempDir()
	bak := TurnkeyDir(root, MessageE0402, "BAK")
	if err := os.MkdirAll(bak, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bak, "E0402_11512_CD.xml"), exported["E0402_11512_CD.xml"], 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.Outbox(e.ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	var blanksWritten []string
	for _, f := range rep.Written {
		if strings.Contains(f, "/E0402/") {
			blanksWritten = append(blanksWritten, f)
		}
	}
	if rep.Uploaded != 1 || !slices.Equal(blanksWritten, []string{"UpCast/B2SSTORAGE/E0402/SRC/E0402_11512_EF.xml"}) {
		t.Fatalf("outbox: %d uploaded, wrote %v; want CD's exported file recorded and EF's written", rep.Uploaded, rep.Written)
	}
	written, err := os.ReadFile(filepath.Join(TurnkeyDir(root, MessageE0402, "SRC"), "E0402_11512_EF.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(written, exported["E0402_11512_EF.xml"]) {
		t.Fatalf("the outbox's E0402 differs from the export's:\n%s\n%s", written, exported["E0402_11512_EF.xml"])
	}
	var m mig.BranchTrackBlank
	if err := xml.Unmarshal(written, &m); err != nil || m.Main.InvoiceTrack != "EF" || len(m.Details) != 1 ||
		m.Details[0].InvoiceBeginNo != "33330000" || m.Details[0].InvoiceEndNo != "33330009" {
		t.Fatalf("EF's E0402: %+v (%v)", m, err)
	}

	// Turnkey sends EF's: the next run records it and writes nothing.
	if err := os.Rename(filepath.Join(TurnkeyDir(root, MessageE0402, "SRC"), "E0402_11512_EF.xml"), filepath.Join(bak, "E0402_11512_EF.xml")); err != nil {
		t.Fatal(err)
	}
	rep, err = e.svc.Outbox(e.ctx, root)
	if err != nil || rep.Uploaded != 1 || len(rep.Written) != 0 {
		t.Fatalf("second run: %+v, %v", rep, err)
	}
	for _, d := range blankDocs() {
		if d.Status != FilingUploaded {
			t.Fatalf("E0402 %s is %s after Turnkey sent it", d.Number, d.Status)
		}
	}
	// A fresh service reading the history agrees.
	again := e.newService()
	if err := again.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range again.Documents() {
		if d.Message == MessageE0402 && d.Status != FilingUploaded {
			t.Fatalf("after reading the history again, E0402 %s is %s", d.Number, d.Status)
		}
	}
}

// TestOutboxHoldsBackBlanksUsedOutsideTheHistory: Turnkey's folders hold an
// invoice of a number this history never used (issued before a restore):
// the period's E0402 would report it blank, so it waits until the number
// is taken out of use, and then reports only what follows it.
func TestOutboxHoldsBackBlanksUsedOutsideTheHistory(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "EF", 33330000, 33330009)
	e.clock.Set(taipei(2027, 1, 3, 10, 0))
	root := t.TempDir()
	bak := TurnkeyDir(root, MessageF0401, "BAK")
	if err := os.MkdirAll(bak, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bak, "F0401_2026-11_EF33330002.xml"), []byte("<Invoice/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := e.svc.Outbox(e.ctx, root)
	if err == nil || !strings.Contains(err.Error(), "EF33330002") {
		t.Fatalf("outbox beside a number used outside the history: %v", err)
	}
	if len(rep.Written) != 0 {
		t.Fatalf("outbox wrote %v while the period's blanks are unknown", rep.Written)
	}
	if _, err := e.svc.SkipNumbers(e.ctx, "2026-11", "EF33330002", "issued before the store was restored"); err != nil {
		t.Fatal(err)
	}
	if rep, err = e.svc.Outbox(e.ctx, root); err != nil || !slices.Equal(rep.Written, []string{"UpCast/B2SSTORAGE/E0402/SRC/E0402_11512_EF.xml"}) {
		t.Fatalf("outbox after the skip: wrote %v, %v", rep.Written, err)
	}
	var m mig.BranchTrackBlank
	b, err := os.ReadFile(filepath.Join(TurnkeyDir(root, MessageE0402, "SRC"), "E0402_11512_EF.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &m); err != nil || len(m.Details) != 1 || m.Details[0].InvoiceBeginNo != "33330003" {
		t.Fatalf("E0402 after the skip: %+v (%v)", m, err)
	}
}
