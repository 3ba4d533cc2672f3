package console

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

const chromiumPath = "/usr/bin/chromium"

// requireChromium skips without the browser, unless services are required,
// in which case its absence fails with the package to install.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := "headless Chromium is missing at " + chromiumPath + ": install Debian's package with `apt-get update && apt-get install -y chromium`"
	if os.Getenv("ROUTEFREE_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// chrome drives one headless Chromium and collects what its console says.
type chrome struct {
	t    *testing.T
	ctx  context.Context
	mu   sync.Mutex
	logs []chromedp.ConsoleMessage
}

func newChrome(t *testing.T) *chrome {
	requireChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	c := &chrome{t: t, ctx: ctx}
	// Console subscribes when it returns (and starts the browser): every
	// console call, uncaught exception and browser log entry — where CSP
	// violations are reported — lands in c.logs.
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.logs = append(c.logs, m)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); <-done })
	return c
}

// do performs a step; on failure it saves a screenshot and the page's HTML
// to the artefact directory before failing.
func (c *chrome) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v (artefacts: %s)", step, err, c.artefacts(step))
	}
}

// get runs an action that returns a value, failing like do.
func get[T any](c *chrome, step string, a chromedp.Action[T]) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		c.t.Fatalf("%s: %v (artefacts: %s)", step, err, c.artefacts(step))
	}
	return v
}

func (c *chrome) attr(step, sel, name string) string {
	c.t.Helper()
	return get(c, step, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

func (c *chrome) artefacts(step string) string {
	dir := os.Getenv("ROUTEFREE_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "routefree-console-"); err != nil {
			return "none: " + err.Error()
		}
	}
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(c.t.Name()+"-"+step))
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	png, _ := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	_ = os.WriteFile(filepath.Join(dir, name+".html"), []byte(html), 0o644)
	return filepath.Join(dir, name) + ".{png,html}"
}

// violations are the CSP reports, errors and exceptions seen so far.
func (c *chrome) violations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.logs {
		if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(strings.ToLower(m.Text), "content security policy") {
			out = append(out, m.String()+" "+m.URL)
		}
	}
	return out
}

func (c *chrome) signIn(base, secret string) {
	c.t.Helper()
	c.do("sign in",
		chromedp.Navigate(base+"/console/signin"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), secret),
		chromedp.Click(chromedp.CSS("#signin-submit")),
		chromedp.WaitVisible(chromedp.CSS("#signout")),
	)
}

func (c *chrome) signOut() {
	c.t.Helper()
	c.do("sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#token")))
}

// The staff's day in a real browser: sign in, record a top-up and see the
// balance change, open the invoices, build a quote, read the audit page; and
// a customer on a phone-sized screen. No page may trip the CSP.
func TestBrowserConsole(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_web", "瀏覽器測試股份有限公司", domain.PlanStarter)
	keyID, secret := e.issueKey("acct_web")
	seedUsage(e, "acct_web", keyID)
	e.invoice("acct_web", "AB12345678", "2026-03")
	c := newChrome(t)

	// The probe shows the console listener works before we trust its silence.
	c.do("probe", chromedp.Navigate(e.srv.URL+"/models"))
	get(c, "probe", chromedp.Evaluate[any](`console.error("listener-probe")`))
	deadline := time.Now().Add(5 * time.Second)
	for len(c.violations()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if v := c.violations(); len(v) != 1 || !strings.Contains(v[0], "listener-probe") {
		t.Fatalf("console listener did not see the probe: %v", v)
	}
	c.mu.Lock()
	c.logs = nil
	c.mu.Unlock()

	c.signIn(e.srv.URL, e.finance)
	c.do("account page", chromedp.Navigate(e.srv.URL+"/console/accounts/acct_web"), chromedp.WaitVisible(chromedp.CSS("#topup-form")))
	before := c.attr("balance before", "#balance", "data-balance")
	c.do("top-up",
		chromedp.SendKeys(chromedp.CSS("#topup-amount"), "1500"),
		chromedp.SetValue(chromedp.CSS("#topup-method"), domain.MethodBankTransfer),
		chromedp.SendKeys(chromedp.CSS("#topup-reference"), "BANK-20260315-01"),
		chromedp.Click(chromedp.CSS("#topup-submit")),
		// The top-up asks first, naming the amount; nothing is credited yet.
		chromedp.WaitVisible(chromedp.CSS("#confirm-step")),
	)
	if step := get(c, "top-up question", chromedp.Text(chromedp.CSS("#confirm-step"))); !strings.Contains(step, "NT$1,500.00") || !strings.Contains(step, "BANK-20260315-01") {
		t.Fatalf("the top-up's question says %q", step)
	}
	if v, _ := e.models.Balances.View("acct_web", "", e.clock.Now()); !v.Balance.Equal(decimal.RequireFromString(before)) {
		t.Fatalf("the balance moved to %s before the top-up was confirmed", v.Balance)
	}
	c.do("top-up confirmed", chromedp.Click(chromedp.CSS("#confirm-submit")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	after := c.attr("balance after", "#balance", "data-balance")
	if got, want := decimal.RequireFromString(after), decimal.RequireFromString(before).Add(decimal.NewFromInt(1500)); !got.Equal(want) {
		t.Fatalf("balance after top-up %s, want %s", got, want)
	}
	if v, _ := e.models.Balances.View("acct_web", "", e.clock.Now()); !v.Balance.Equal(decimal.RequireFromString(after)) {
		t.Fatalf("page shows %s, projection %s", after, v.Balance)
	}

	c.do("invoices", chromedp.Navigate(e.srv.URL+"/console/invoices?month=2026-03"),
		chromedp.WaitVisible(chromedp.CSS(`#invoices tr[data-invoice="AB12345678"]`)))
	if pdf := c.attr("invoice link", `#invoices tr[data-invoice="AB12345678"] a[href$="/pdf"]`, "href"); pdf != "/admin/api/invoices/AB12345678/pdf" {
		t.Fatalf("invoice PDF link %q", pdf)
	}

	c.do("quote",
		chromedp.Navigate(e.srv.URL+"/console/quotes"),
		chromedp.WaitVisible(chromedp.CSS("#quote-form")),
		chromedp.SendKeys(chromedp.CSS("#quote-agency"), "臺北市政府資訊局"),
		chromedp.SendKeys(chromedp.CSS(`input[name="item_name"]`), "AI API 服務"),
		chromedp.SendKeys(chromedp.CSS(`input[name="item_qty"]`), "12"),
		chromedp.SendKeys(chromedp.CSS(`input[name="item_unit"]`), "月"),
		chromedp.SendKeys(chromedp.CSS(`input[name="item_price"]`), "10000"),
		chromedp.Click(chromedp.CSS("#quote-submit")),
		chromedp.WaitVisible(chromedp.CSS("#quote-pdf")),
	)
	if href := c.attr("quote link", "#quote-pdf", "href"); !strings.HasPrefix(href, "/admin/api/quotes/Q-") || !strings.HasSuffix(href, "/pdf") {
		t.Fatalf("quote PDF link %q", href)
	}

	c.signOut()
	c.signIn(e.srv.URL, e.auditor)
	c.do("audit", chromedp.Navigate(e.srv.URL+"/console/audit?check=1&type="+domain.TypeCreditsToppedUp),
		chromedp.WaitVisible(chromedp.CSS("#chain-verdict")))
	if ok, match := c.attr("chain", "#chain-verdict", "data-ok"), c.attr("replay", "#replay-verdict", "data-match"); ok != "true" || match != "true" {
		t.Fatalf("audit: chain ok=%q, replay match=%q", ok, match)
	}
	rows := get(c, "log rows", chromedp.Nodes(chromedp.CSSAll(`#events tr[data-type]`)))
	// Two top-ups: the one the invoice bills and the one recorded above.
	if len(rows) != 2 {
		t.Fatalf("filtered log shows %d rows, want 2", len(rows))
	}
	for _, r := range rows {
		if r.AttributeValue("data-type") != domain.TypeCreditsToppedUp {
			t.Fatalf("filtered log shows a %s", r.AttributeValue("data-type"))
		}
	}

	// A customer on a phone: their account, no sideways page scroll.
	c.signOut()
	c.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	c.signIn(e.srv.URL, secret)
	c.do("customer", chromedp.WaitVisible(chromedp.CSS("#chart-daily")))
	if get(c, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
		t.Errorf("the account page scrolls sideways on a phone (artefacts: %s)", c.artefacts("phone-overflow"))
	}
	time.Sleep(100 * time.Millisecond) // let late console events arrive
	if v := c.violations(); len(v) > 0 {
		t.Fatalf("console errors or CSP violations (artefacts: %s):\n%s", c.artefacts("violations"), strings.Join(v, "\n"))
	}
}

// invoice issues the invoice of a paid top-up through invoicing, under the
// one number given (its own range); month is the Taipei month of issue.
func (e *env) invoice(acct, number, month string) {
	e.t.Helper()
	if got := projections.MonthOf(e.clock.Now()); got != month {
		e.t.Fatalf("a top-up invoice is of the month of issue, %s, not %s", got, month)
	}
	svc := e.deps.Invoices.(*invoicing.Service)
	serial, err := strconv.ParseInt(number[2:], 10, 64)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := svc.AssignRange(e.ctx, twrules.PeriodOf(e.clock.Now()).String(), number[:2], serial, serial); err != nil {
		e.t.Fatal(err)
	}
	ref := "PAY-" + number
	if _, err := e.cmds.TopUp(e.ctx, domain.CreditsToppedUp{AccountID: acct, Amount: decimal.NewFromInt(1000),
		Method: domain.MethodBankTransfer, Reference: ref}); err != nil {
		e.t.Fatal(err)
	}
	inv, _, err := svc.IssueTopUp(e.ctx, acct, ref)
	if err != nil {
		e.t.Fatal(err)
	}
	if inv.Number != number {
		e.t.Fatalf("issued %s, want %s", inv.Number, number)
	}
	e.sync()
}
