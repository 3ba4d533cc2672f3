package invoicing

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/mig"
)

// A period's E0402 names the seller its numbers were issued under, as its
// F0401s do, not the configuration of the day it is written: when the
// seller's 統一編號 changed within the period (AB11111000 issued under the
// first, AB11111001 under the second) and again after it, AB's E0402, from
// the export and from the outbox alike, names the seller of AB11111001,
// the last number its 字軌 used, and CD's, a 字軌 the period never used,
// the seller of the period's last invoice.
func TestBlankNumbersReportNamesTheSellerOfThePeriodsInvoices(t *testing.T) {
	e := newEnv(t, taipei(2026, 11, 10, 9, 0))
	e.assign("2026-11", "AB", 11111000, 11111009)
	e.assign("2026-11", "CD", 22220000, 22220004)
	e.open("shop", "小商店", "", domain.PlanStarter)
	second, third := DevSeller(), DevSeller()
	second.Name, second.TaxID = "新路由股份有限公司", "04595257"
	third.Name, third.TaxID = "三路由股份有限公司", "22099131"
	for i, seller := range []SellerConfig{DevSeller(), second} {
		svc, err := New(e.store, Config{Seller: seller, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		e.topUpRaw("shop", []string{"TX-1", "TX-2"}[i], "100", taipei(2026, 11, 10+i, 9, 0))
		if err := svc.Sync(e.ctx); err != nil {
			t.Fatal(err)
		}
		if err := svc.InvoiceTopUps(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Set(taipei(2027, 1, 3, 10, 0))
	svc, err := New(e.store, Config{Seller: third, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	invs := svc.PeriodInvoices("2026-11")
	if len(invs) != 2 || invs[1].Number != "AB11111001" {
		t.Fatalf("the period's invoices: %+v", invs)
	}
	if last := whole(t, svc, invs[1]); last.Seller == nil || last.Seller.TaxID != second.TaxID {
		t.Fatalf("AB11111001 records the seller %+v, want %s's", last.Seller, second.TaxID)
	}

	var zipped bytes.Buffer
	if err := svc.Export(&zipped, MessageE0402, "2026-11"); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if _, err := svc.Outbox(e.ctx, root); err != nil {
		t.Fatal(err)
	}
	for _, track := range []string{"AB", "CD"} {
		name := "E0402_11512_" + track + ".xml"
		written, err := os.ReadFile(filepath.Join(TurnkeyDir(root, MessageE0402, "SRC"), name))
		if err != nil {
			t.Fatal(err)
		}
		for from, body := range map[string]string{"export": zipFile(t, zipped.Bytes(), name), "outbox": string(written)} {
			var m mig.BranchTrackBlank
			if err := xml.Unmarshal([]byte(body), &m); err != nil {
				t.Fatal(err)
			}
			if m.Main.HeadBan != second.TaxID || m.Main.BranchBan != second.TaxID {
				t.Errorf("%s's E0402 (%s) names seller %s/%s; its period's invoices were issued under %s", track, from,
					m.Main.HeadBan, m.Main.BranchBan, second.TaxID)
			}
		}
	}
}
