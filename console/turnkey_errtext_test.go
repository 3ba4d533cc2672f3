package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

// TestTurnkeyForeignNumbersSpeakChinese: the outbox's refusal when Turnkey's
// folders hold invoices this history never issued (a restored store) reads
// in the page's language, keeping the number and the command to run.
func TestTurnkeyForeignNumbersSpeakChinese(t *testing.T) {
	e := newEnv(t, false)
	e.clock.set(time.Date(2026, 3, 4, 9, 0, 0, 0, projections.Taipei))
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 12345000, 12345049); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	bak := invoicing.TurnkeyDir(root, invoicing.MessageF0401, "BAK")
	if err := os.MkdirAll(bak, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bak, "F0401_2026-03_AB12345003.xml"), []byte("<Invoice/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Outbox(e.ctx, root)
	if err == nil {
		t.Fatal("outbox with a foreign number in BAK succeeded")
	}
	text, detail := errorText(langZH, 409, err.Error())
	if detail != "" || !strings.Contains(string(text), "AB-12345003") || !strings.Contains(string(text), "routefree invoices skip --period 2026-03 --through AB12345003") || !strings.Contains(string(text), "其他買受人") {
		t.Fatalf("the refusal in Chinese: %s (untranslated: %q)", text, detail)
	}
}

// TestTurnkeyClashSpeaksChinese: an invoice of this history whose number
// Turnkey's BAK holds for another invoice is held back, and the refusal
// reads in the page's language with both invoices named.
func TestTurnkeyClashSpeaksChinese(t *testing.T) {
	e := newEnv(t, false)
	e.clock.set(time.Date(2026, 3, 4, 9, 0, 0, 0, projections.Taipei))
	svc := e.deps.Invoices.(*invoicing.Service)
	if err := svc.AssignRange(e.ctx, "2026-03", "AB", 12345000, 12345049); err != nil {
		t.Fatal(err)
	}
	e.openAccount("acct_b", "乙公司", domain.PlanStarter)
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: "acct_b", Amount: mustDec("1000"), Method: domain.MethodBankTransfer, Reference: "T-B"}); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.InvoiceTopUps(e.ctx); err != nil {
		t.Fatal(err)
	}
	if invs := svc.Invoices("", "acct_b"); len(invs) != 1 || invs[0].Number != "AB12345000" {
		t.Fatalf("乙公司's top-up invoice: %+v", invs)
	}
	root := t.TempDir()
	bak := invoicing.TurnkeyDir(root, invoicing.MessageF0401, "BAK")
	if err := os.MkdirAll(bak, 0o755); err != nil {
		t.Fatal(err)
	}
	lost := `<Invoice><Main><InvoiceNumber>AB12345000</InvoiceNumber><InvoiceDate>20260303</InvoiceDate><InvoiceTime>10:00:00</InvoiceTime>` +
		`<Buyer><Identifier>04595257</Identifier><Name>甲公司</Name></Buyer><RandomNumber>1234</RandomNumber></Main><Amount><TotalAmount>500</TotalAmount></Amount></Invoice>`
	if err := os.WriteFile(filepath.Join(bak, "F0401_2026-03_AB12345000.xml"), []byte(lost), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := svc.Outbox(e.ctx, root)
	if err == nil || rep.Uploaded != 0 {
		t.Fatalf("outbox with another invoice's AB12345000 in BAK: %d uploaded, %v", rep.Uploaded, err)
	}
	text, detail := errorText(langZH, 409, err.Error())
	if detail != "" || !strings.Contains(string(text), "開立了兩次") || !strings.Contains(string(text), "甲公司") || !strings.Contains(string(text), "NT$1000") {
		t.Fatalf("the refusal in Chinese: %s (untranslated: %q)", text, detail)
	}
}

// TestTurnkeyFolderMissingSpeaksChinese: ROUTEFREE_TURNKEY_DIR naming a
// folder that does not exist (a typo) is refused by the outbox, never made,
// and the refusal reads in the page's language, naming the folder.
func TestTurnkeyFolderMissingSpeaksChinese(t *testing.T) {
	e := newEnv(t, false)
	svc := e.deps.Invoices.(*invoicing.Service)
	root := filepath.Join(t.TempDir(), "turnky")
	_, err := svc.Outbox(e.ctx, root)
	if err == nil {
		t.Fatal("outbox into a folder that does not exist succeeded")
	}
	if _, serr := os.Stat(root); !os.IsNotExist(serr) {
		t.Fatalf("the outbox made the folder: %v", serr)
	}
	text, detail := errorText(langZH, 400, err.Error())
	if detail != "" || !strings.Contains(string(text), root) || !strings.Contains(string(text), "不存在") {
		t.Fatalf("the refusal in Chinese: %s (untranslated: %q)", text, detail)
	}
}
