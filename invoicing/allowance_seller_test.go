package invoicing

import (
	"bytes"
	"strings"
	"testing"
)

// The messages of one allowance name the seller of its invoice, the one
// recorded at issue: after the seller's configuration changes, the G0501
// of its void carries the same SellerId as its G0401, its invoice's F0401
// and its PDF, not the new configuration's.
func TestAllowanceVoidExportNamesTheSellerOfItsInvoice(t *testing.T) {
	e, _, acme, _ := raceEnv(t)
	a, err := e.svc.IssueAllowance(e.ctx, acme.Number, 100, "服務中斷補償")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VoidAllowance(e.ctx, a.Number, "金額有誤"); err != nil {
		t.Fatal(err)
	}
	moved := DevSeller()
	moved.Name, moved.TaxID = "新路由股份有限公司", "04595257"
	svc, err := New(e.store, Config{Seller: moved, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	recorded := "<SellerId>" + DevSeller().TaxID + "</SellerId>"
	for _, c := range []struct{ message, file, want string }{
		{MessageG0401, "G0401_" + a.Number + ".xml", "<Identifier>" + DevSeller().TaxID + "</Identifier>"},
		{MessageG0501, "G0501_" + a.Number + ".xml", recorded},
	} {
		var buf bytes.Buffer
		if err := svc.Export(&buf, c.message, "2026-11"); err != nil {
			t.Fatalf("%s export: %v", c.message, err)
		}
		body := zipFile(t, buf.Bytes(), c.file)
		if !strings.Contains(body, c.want) || strings.Contains(body, moved.TaxID) {
			t.Errorf("%s names the seller of today's configuration, not its invoice's (%s):\n%s", c.file, c.want, body)
		}
	}
}
