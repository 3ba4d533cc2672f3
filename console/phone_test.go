package console

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
)

// offScreen lists the cells matching each selector that are missing or lie
// outside the viewport, or whose text is cut, and whether the page itself
// scrolls sideways.
func offScreen(c *chrome, step string, selectors ...string) []string {
	c.t.Helper()
	js := `(() => {
	  const out = [], w = window.innerWidth;
	  if (document.documentElement.scrollWidth > w + 1) out.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " > " + w);
	  for (const sel of ` + fmt.Sprintf("%q", strings.Join(selectors, "|")) + `.split("|")) {
	    const cells = document.querySelectorAll(sel);
	    if (cells.length === 0) out.push(sel + ": no such cell");
	    for (const c of cells) {
	      const r = c.getBoundingClientRect();
	      if (r.width === 0 || r.height === 0) out.push(sel + " is hidden");
	      else if (r.left < -0.5 || r.right > w + 0.5) out.push(sel + " spans " + Math.round(r.left) + "–" + Math.round(r.right) + " of " + w + "px");
	      else if (c.scrollWidth > c.clientWidth + 1) out.push(sel + " cuts its text");
	    }
	  }
	  return out;
	})()`
	return get(c, step, chromedp.Evaluate[[]string](js))
}

// On a 375-pixel phone the accounts and invoices tables keep their name
// and amount columns on screen, and revoking a key or suspending an
// account asks first, there too.
func TestBrowserPhoneTables(t *testing.T) {
	e := newEnv(t, false)
	for i, org := range []string{"臺灣超長公司名稱人工智慧應用股份有限公司", "Formosa Machine Learning Solutions Co., Ltd.", "小公司"} {
		id := fmt.Sprintf("acct_phone_%d", i)
		// A 統一編號: its invoices are B2B, printed with the buyer's name.
		if _, err := e.cmds.OpenAccount(e.ctx, domain.AccountOpened{AccountID: id, Organisation: org, TaxID: "22099131", Plan: domain.PlanStarter}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// Its first payment's invoice; each payment has its own, in
			// order of payment, so the larger one below waits for its own.
			e.invoice(id, "AB12345678", "2026-03")
		}
		if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: id, Amount: decimal.NewFromInt(987654),
			Method: domain.MethodBankTransfer, Reference: fmt.Sprintf("PHONE-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	e.sync()
	keyID, _ := e.issueKey("acct_phone_1")
	c := newChrome(t)
	c.do("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))

	c.signIn(e.srv.URL, e.finance)
	c.do("accounts", chromedp.Navigate(e.srv.URL+"/console/accounts"), chromedp.WaitVisible(chromedp.CSS("#accounts td.amount")))
	if bad := offScreen(c, "accounts cells", "#accounts td.name", "#accounts td.amount"); len(bad) > 0 {
		t.Errorf("accounts on a phone (artefacts: %s):\n%s", c.artefacts("phone-accounts"), strings.Join(bad, "\n"))
	}
	c.do("invoices", chromedp.Navigate(e.srv.URL+"/console/invoices?month=2026-03"), chromedp.WaitVisible(chromedp.CSS("#invoices td.amount")))
	if bad := offScreen(c, "invoice cells", "#invoices td.name", "#invoices td.amount", "#invoices td.net"); len(bad) > 0 {
		t.Errorf("invoices on a phone (artefacts: %s):\n%s", c.artefacts("phone-invoices"), strings.Join(bad, "\n"))
	}
	// The sort links stay on a phone.
	c.do("sort by balance", chromedp.Navigate(e.srv.URL+"/console/accounts"), chromedp.WaitVisible(chromedp.CSS(`#accounts th[aria-sort] a`)))
	if n := len(get(c, "sort links", chromedp.Nodes(chromedp.CSSAll(`#accounts th[aria-sort] a`)))); n < 3 {
		t.Errorf("%d sort links on a phone", n)
	}
	c.signOut()

	c.signIn(e.srv.URL, e.admin)
	c.do("account", chromedp.Navigate(e.srv.URL+"/console/accounts/acct_phone_1"), chromedp.WaitVisible(chromedp.CSS("#keys")))
	c.submitAndConfirm("revoke", fmt.Sprintf(`#keys tr[data-key=%q] button.danger`, keyID))
	for _, k := range e.models.Keys.ByAccount("acct_phone_1") {
		if k.KeyID == keyID && !k.Revoked {
			t.Fatal("the key was not revoked after the confirmation")
		}
	}
	c.do("suspend reason", chromedp.SendKeys(chromedp.CSS(`#suspend-form input[name="reason"]`), "逾期未付"))
	c.submitAndConfirm("suspend", "#suspend-form button.danger")
	if v, _ := e.models.Balances.View("acct_phone_1", "", e.clock.Now()); !v.Suspended {
		t.Fatal("the account was not suspended after the confirmation")
	}
	time.Sleep(100 * time.Millisecond) // let late console events arrive
	if v := c.violations(); len(v) > 0 {
		t.Fatalf("console errors or CSP violations (artefacts: %s):\n%s", c.artefacts("violations"), strings.Join(v, "\n"))
	}
}
