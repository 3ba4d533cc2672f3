package invoicing

import (
	"bytes"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// The seller's name and address go on every invoice and into every MIG
// message: a configuration that MIG cannot carry (a name over 60
// characters, an address over 100) or that the font cannot print is
// refused when the service starts, naming the variable, instead of
// issuing invoices whose F0401 export then fails or whose proofs cannot
// be printed.
func TestSellerTextsRefusedAtStart(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	for _, c := range []struct {
		name string
		set  func(*SellerConfig)
		want []string
	}{
		{"long name", func(c *SellerConfig) { c.Name = strings.Repeat("路", 61) }, []string{"ROUTEFREE_SELLER_NAME", "60", "61"}},
		{"long address", func(c *SellerConfig) { c.Address = strings.Repeat("址", 101) }, []string{"ROUTEFREE_SELLER_ADDRESS", "100", "101"}},
		{"emoji in name", func(c *SellerConfig) { c.Name = "路由自由😀股份有限公司" }, []string{"ROUTEFREE_SELLER_NAME", "U+1F600"}},
		{"Ext-B in address", func(c *SellerConfig) { c.Address = "臺北市𠀋街1號" }, []string{"ROUTEFREE_SELLER_ADDRESS", "U+2000B"}},
		{"zero-width joiner in contact", func(c *SellerConfig) { c.Contact = "財務\u200d部" }, []string{"ROUTEFREE_SELLER_CONTACT", "U+200D"}},
		{"bidi mark in bank account", func(c *SellerConfig) { c.BankAccount = "臺灣銀行\u202e012-345" }, []string{"ROUTEFREE_SELLER_BANK_ACCOUNT", "U+202E"}},
		{"control character in phone", func(c *SellerConfig) { c.Phone = "02-2720\x071234" }, []string{"ROUTEFREE_SELLER_PHONE", "U+0007"}},
		{"Hangul in responsible", func(c *SellerConfig) { c.Responsible = "김철수" }, []string{"ROUTEFREE_SELLER_RESPONSIBLE", "U+AE40"}},
		// Quotes and contracts print the phone, e-mail, contact and bank
		// account in their header and payment terms: a megabyte of either
		// wrapped over pages. The phone, e-mail and 負責人 also go into
		// every MIG message.
		{"long phone", func(c *SellerConfig) { c.Phone = strings.Repeat("2", 27) }, []string{"ROUTEFREE_SELLER_PHONE", "26", "27"}},
		{"long e-mail", func(c *SellerConfig) { c.Email = strings.Repeat("a", 245) + "@routefree.tw" }, []string{"ROUTEFREE_SELLER_EMAIL", "254", "258"}},
		{"long contact", func(c *SellerConfig) { c.Contact = strings.Repeat("聯", 31) }, []string{"ROUTEFREE_SELLER_CONTACT", "30", "31"}},
		{"long responsible", func(c *SellerConfig) { c.Responsible = strings.Repeat("陳", 31) }, []string{"ROUTEFREE_SELLER_RESPONSIBLE", "30", "31"}},
		{"long bank account", func(c *SellerConfig) { c.BankAccount = strings.Repeat("0", 61) }, []string{"ROUTEFREE_SELLER_BANK_ACCOUNT", "60", "61"}},
		{"megabyte bank account", func(c *SellerConfig) { c.BankAccount = strings.Repeat("0", 1<<20) }, []string{"ROUTEFREE_SELLER_BANK_ACCOUNT", "60", "1048576"}},
		{"line break in e-mail", func(c *SellerConfig) { c.Email = "billing@routefree.tw\nBcc: x@y.tw" }, []string{"ROUTEFREE_SELLER_EMAIL", "U+000A"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DevSeller()
			c.set(&cfg)
			_, err := New(e.store, Config{Seller: cfg, Now: e.clock.Now})
			if err == nil {
				t.Fatal("the service started")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// At the limits the seller is accepted, and an invoice issued under it
// exports.
func TestSellerAtMIGLimitsExports(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 1, 9, 0))
	cfg := DevSeller()
	cfg.Name, cfg.Address = strings.Repeat("路", 60), strings.Repeat("址", 100)
	cfg.Phone, cfg.Email, cfg.Responsible = strings.Repeat("2", 26), strings.Repeat("a", 241)+"@routefree.tw", strings.Repeat("陳", 30)
	cfg.Contact, cfg.BankAccount = strings.Repeat("聯", 30), strings.Repeat("0", 60)
	svc, err := New(e.store, Config{Seller: cfg, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.assign("2026-11", "AB", 12345000, 12345999)
	e.open("acct", "短公司", "04595257", domain.PlanBusiness)
	e.use("acct", "gpt-4o", taipei(2026, 11, 3, 10, 0), 1, 1, "100")
	e.clock.Set(taipei(2026, 11, 20, 10, 0))
	if _, _, err := svc.IssueMonthly(e.ctx, "acct", "2026-11"); err != nil {
		t.Fatal(err)
	}
	var zip bytes.Buffer
	if err := svc.ExportF0401(&zip, "2026-11"); err != nil {
		t.Fatalf("the period's export: %v", err)
	}
}
