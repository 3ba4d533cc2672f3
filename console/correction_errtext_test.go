package console

import (
	"errors"
	"strings"
	"testing"

	"github.com/routefree/routefree/invoicing"
)

// The refusals of a correction that say what to do next (the allowances to
// void first, the invoice that bills a voided one's amount, the re-issue
// to run, a late void's ways on) read in the page's language, keeping the
// numbers and the command.
func TestCorrectionRefusalsSpeakChinese(t *testing.T) {
	for i, c := range []struct {
		err    error
		zh, en []string
	}{
		{&invoicing.LiveAllowancesError{Number: "AB12345001", Allowances: []string{"11512AB123450012", "11512AB123450013"}},
			[]string{"請先逐一作廢", "11512AB123450012, 11512AB123450013"}, []string{"void each of them first"}},
		{&invoicing.VoidedInvoiceError{Number: "AB12345000", BilledBy: []string{"AB12345002"}},
			[]string{"請對該發票開立折讓單", "AB12345002"}, []string{"Issue the allowance on that invoice", "AB12345002"}},
		{&invoicing.VoidedInvoiceError{Number: "AB12345000", Reissue: "routefree invoices issue --account acme --month 2026-11"},
			[]string{"請先重新開立", "routefree invoices issue --account acme --month 2026-11"}, []string{"re-issue it (routefree invoices issue"}},
		{&invoicing.VoidWindowError{Number: "AB12345000", Deadline: "2027-01-16T00:00:00+08:00", LastDay: "2027-01-15"},
			[]string{"已逾作廢期限", "2027-01-15", "專案作廢"}, []string{"filed by the end of 2027-01-15", "special void"}},
		{errors.New("an adjustment has at most two decimal places (NT$0.005 given)"),
			[]string{"最多兩位小數", "NT$0.005"}, []string{"two decimal places", "NT$0.005"}},
		{errors.New("a volume discount has at most four decimal places (0.00001 given; 0.1 is 10 % off)"),
			[]string{"量販折扣最多四位小數", "0.00001"}, []string{"four decimal places", "0.00001"}},
	} {
		if text, detail := errorText(langZH, 409, c.err.Error()); detail != "" || !containsAll(messageText(t, text), c.zh) {
			t.Errorf("case %d: zh %q (detail %q), want %q", i, text, detail, c.zh)
		}
		if text, _ := errorText(langEN, 409, c.err.Error()); !containsAll(messageText(t, text), c.en) {
			t.Errorf("case %d: en %q, want %q", i, text, c.en)
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, w := range subs {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
