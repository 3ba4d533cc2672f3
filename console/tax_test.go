package console

import (
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// Published prices include the 5% business tax (營業稅法 §32), as invoices
// treat them: every page that shows a price or an amount says so, and none
// says before tax.
func TestPricePagesSayTaxIncluded(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_tax", "含稅公司", domain.PlanBusiness)
	e.sync()
	b := e.browser()
	for _, c := range []struct{ path, want, not string }{
		{"/models", "含 5% 營業稅", "未稅"},
		{"/models?lang=en", "include the 5% business tax", "before tax"},
	} {
		_, page := b.get(c.path)
		if !strings.Contains(page, c.want) || strings.Contains(page, c.not) {
			t.Errorf("%s: want %q and no %q", c.path, c.want, c.not)
		}
	}
	staff := e.browser()
	staff.signIn(e.auditor)
	for _, path := range []string{"/console/accounts/acct_tax?lang=zh-TW", "/console/invoices"} {
		resp, page := staff.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		if !strings.Contains(page, "含 5% 營業稅") || strings.Contains(page, "未稅") {
			t.Errorf("%s does not say amounts include tax", path)
		}
	}
}
