package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/pdf/pdftest"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Finance corrects an account's organisation, 統一編號, address and
// contact with a reason: what is not given keeps its value, the command
// says what changed, the event carries the whole new set and its actor,
// and what an account could not be opened with is refused as at opening.
func TestAccountsUpdateCorrectsTheDetails(t *testing.T) {
	dir := storeDir(t)
	mustCLI(t, "accounts", "open", "--data-dir", dir, "--id", "acct_u", "--organisation", "範列公司",
		"--address", "臺北市信義區", "--contact", "王小明")

	update := func(args ...string) []string {
		return append([]string{"accounts", "update", "--data-dir", dir, "--account", "acct_u"}, args...)
	}
	refusedCLI(t, "needs a reason", update("--organisation", "範例股份有限公司")...)
	refusedCLI(t, "「𠀋」", update("--organisation", "𠀋記科技有限公司", "--reason", "renamed")...)
	refusedCLI(t, "at most 60", update("--organisation", strings.Repeat("長", 61), "--reason", "renamed")...)
	refusedCLI(t, `統一編號 "12345678" fails its checksum`, update("--tax-id", "12345678", "--reason", "now a company")...)
	refusedCLI(t, "organisation is required", update("--organisation", " ", "--reason", "x")...)
	refusedCLI(t, "account acct_none", "accounts", "update", "--data-dir", dir, "--account", "acct_none", "--contact", "x", "--reason", "x")

	out := mustCLI(t, update("--organisation", "範例股份有限公司", "--tax-id", "04595257", "--reason", "typo in the name; B2B from now on")...)
	for _, want := range []string{"範列公司 → 範例股份有限公司", "— → 04595257"} {
		if !strings.Contains(out, want) {
			t.Errorf("accounts update does not show %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "address") || strings.Contains(out, "contact") {
		t.Errorf("accounts update names fields it left alone:\n%s", out)
	}
	show := mustCLI(t, "accounts", "show", "--data-dir", dir, "--account", "acct_u")
	for _, want := range []string{"範例股份有限公司", "04595257", "臺北市信義區", "王小明"} {
		if !strings.Contains(show, want) {
			t.Errorf("accounts show lacks %q:\n%s", want, show)
		}
	}

	// The same correction again records nothing and says so.
	if out := mustCLI(t, update("--organisation", "範例股份有限公司", "--reason", "again")...); !strings.Contains(out, "nothing to change") {
		t.Errorf("a correction to the details the account has: %q", out)
	}
	var changes []exported
	for _, e := range exportAll(t, "--data-dir", dir) {
		if e.Type == "account.details_changed" {
			changes = append(changes, e)
		}
	}
	if len(changes) != 1 {
		t.Fatalf("%d account.details_changed events, want 1", len(changes))
	}
	var body map[string]any
	if err := json.Unmarshal(changes[0].Data, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"account_id": "acct_u", "organisation": "範例股份有限公司", "tax_id": "04595257",
		"address": "臺北市信義區", "contact": "王小明", "reason": "typo in the name; B2B from now on"}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("event %s = %v, want %v (%s)", k, body[k], v, changes[0].Data)
		}
	}
	if a := changes[0].Actor; a == nil || a.Kind != domain.ActorCLI {
		t.Errorf("the correction's actor: %+v", a)
	}

	// Clearing a field is giving it empty: the account is B2C again.
	out = mustCLI(t, update("--tax-id", "", "--contact", "陳會計", "--reason", "the company closed; invoices to the person")...)
	if !strings.Contains(out, "04595257 → —") || !strings.Contains(out, "王小明 → 陳會計") {
		t.Errorf("accounts update:\n%s", out)
	}
	if show := mustCLI(t, "accounts", "show", "--data-dir", dir, "--account", "acct_u"); strings.Contains(show, "04595257") {
		t.Errorf("the 統一編號 cleared is still shown:\n%s", show)
	}
}

// The monthly close names an account whose name no invoice can print;
// once finance corrects the name with `accounts update`, the close run
// again issues that account's invoice alone, to the corrected name, which
// its PDF prints. An invoice issued before a correction keeps the buyer it
// was issued to, and replay's figures and documents are those of before.
func TestCloseInvoicesAnAccountOnceItsNameIsCorrected(t *testing.T) {
	h := newLedgerHistory(t)
	last := time.Date(h.now.Year(), h.now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei)
	month := last.Format("2006-01")
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "acme", Organisation: "艾克米股份有限公司",
		TaxID: "22099131", Plan: domain.PlanBusiness}); err != nil {
		t.Fatal(err)
	}
	// As history holds a name from before names were checked.
	d, err := commands.Event(domain.EventID("test", "rare"), time.Now(), &domain.AccountOpened{AccountID: "rare",
		Organisation: "𠀋記科技有限公司", TaxID: "04595257", Plan: domain.PlanBusiness})
	if err == nil {
		_, err = h.store.Append(h.ctx, domain.AccountStream("rare"), eventstore.NoStream(), d)
	}
	if err != nil {
		t.Fatal(err)
	}
	h.use("acme", last.Add(48*time.Hour), "300")
	h.use("rare", last.Add(48*time.Hour), "200")

	pdfs := t.TempDir()
	code, out, errs := cli(t, "invoices", "close", "--month", month, "--data-dir", h.dir, "--pdf-dir", pdfs)
	if code != 1 || !strings.Contains(out, "failed") || !strings.Contains(out, "𠀋記科技有限公司") {
		t.Fatalf("the first close: exit %d\n%s%s", code, out, errs)
	}
	acme := issuedNumbers(t, out)
	if len(acme) != 1 {
		t.Fatalf("the first close issued %v", acme)
	}
	before := mustCLI(t, "replay", "--data-dir", h.dir)

	// acme is renamed after its invoice was issued: the invoice keeps the
	// name it was issued to.
	mustCLI(t, "accounts", "update", "--data-dir", h.dir, "--account", "acme", "--organisation", "艾克米科技股份有限公司",
		"--reason", "company renamed")
	after := mustCLI(t, "replay", "--data-dir", h.dir)
	if figures(before) != figures(after) {
		t.Fatalf("a correction of details changed replay's figures:\nbefore\n%s\nafter\n%s", before, after)
	}
	acmePDF := filepath.Join(t.TempDir(), "acme.pdf")
	mustCLI(t, "invoices", "pdf", "--data-dir", h.dir, "--number", acme[0], "--out", acmePDF)
	if text := pdfFileText(t, acmePDF); !strings.Contains(text, "艾克米股份有限公司") || strings.Contains(text, "艾克米科技") {
		t.Fatalf("the invoice issued before the rename reads:\n%s", text)
	}

	mustCLI(t, "accounts", "update", "--data-dir", h.dir, "--account", "rare", "--organisation", "稀記科技有限公司",
		"--reason", "name as registered in Big5")
	out = mustCLI(t, "invoices", "close", "--month", month, "--data-dir", h.dir, "--pdf-dir", pdfs)
	rare := issuedNumbers(t, out)
	if len(rare) != 1 || !strings.Contains(out, "rare") || strings.Contains(out, "failed") ||
		!strings.Contains(out, "1 issued, 1 already invoiced") {
		t.Fatalf("the close after the correction:\n%s", out)
	}
	files, _ := filepath.Glob(filepath.Join(pdfs, "*"+rare[0]+".pdf"))
	if len(files) != 1 {
		t.Fatalf("PDFs of %s: %v", rare[0], files)
	}
	pdftest.MustContain(t, pdfFileText(t, files[0]), "稀記科技有限公司", "04595257")
	if out := mustCLI(t, "invoices", "close", "--month", month, "--data-dir", h.dir); len(issuedNumbers(t, out)) != 0 {
		t.Fatalf("a third close issued more:\n%s", out)
	}
}

// B2B or B2C follows the 統一編號 in force when an invoice is issued: an
// account opened by a person gets B2C invoices until finance records its
// company's 統一編號, and B2B invoices to the company from then on; the
// B2C invoice issued before stays as it was.
func TestInvoicesFollowTheTaxIDInForceAtIssue(t *testing.T) {
	h := newLedgerHistory(t)
	mustCLI(t, "accounts", "open", "--data-dir", h.dir, "--id", "acct_p", "--organisation", "林小姐", "--plan", "starter")
	pay := func(ref string) string {
		t.Helper()
		mustCLI(t, "credits", "topup", "--data-dir", h.dir, "--account", "acct_p", "--amount", "1050",
			"--method", "bank-transfer", "--reference", ref)
		mustCLI(t, "invoices", "topups", "--data-dir", h.dir)
		list := mustCLI(t, "invoices", "list", "--data-dir", h.dir, "--account", "acct_p")
		rows := strings.Split(strings.TrimSpace(list), "\n")
		return rows[len(rows)-1] // issued in order of number
	}
	first := pay("TX-1")
	if !strings.Contains(first, " b2c ") {
		t.Fatalf("the invoice before the 統一編號: %q", first)
	}
	mustCLI(t, "accounts", "update", "--data-dir", h.dir, "--account", "acct_p", "--organisation", "林記工作室有限公司",
		"--tax-id", "22099131", "--reason", "registered a company; asks for B2B invoices")
	second := pay("TX-2")
	if !strings.Contains(second, " b2b ") {
		t.Fatalf("the invoice after the 統一編號: %q", second)
	}
	list := mustCLI(t, "invoices", "list", "--data-dir", h.dir, "--account", "acct_p")
	if !strings.Contains(list, first) {
		t.Fatalf("the B2C invoice changed:\n%s\nwas %q", list, first)
	}
	read := func(row string) string {
		number := strings.Fields(row)[2]
		out := filepath.Join(t.TempDir(), number+".pdf")
		mustCLI(t, "invoices", "pdf", "--data-dir", h.dir, "--number", number, "--out", out)
		return pdfFileText(t, out)
	}
	pdftest.MustContain(t, read(second), "林記工作室有限公司", "22099131")
	if text := read(first); strings.Contains(text, "22099131") || strings.Contains(text, "林記工作室") {
		t.Fatalf("the B2C invoice issued before the correction reads:\n%s", text)
	}
}

var issuedLine = regexp.MustCompile(`(?m)^issued +([A-Z]{2})-(\d{8}) `)

// issuedNumbers are the invoice numbers `invoices close` printed as issued.
func issuedNumbers(t *testing.T, out string) []string {
	t.Helper()
	var nums []string
	for _, m := range issuedLine.FindAllStringSubmatch(out, -1) {
		nums = append(nums, m[1]+m[2])
	}
	return nums
}

// figures is replay's output less its first two lines, which count the
// events and name the chain's head.
func figures(replay string) string {
	lines := strings.SplitN(replay, "\n", 3)
	if len(lines) < 3 {
		return replay
	}
	return lines[2]
}

// pdfFileText reads a PDF file back as text.
func pdfFileText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return pdftest.Text(t, b)
}
