package console

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing"
)

// The quote builder's refusals for amounts, lengths, control characters
// and a reused form token read in the page's language, with what was typed.
func TestQuoteLimitRefusalsSpeakChinese(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc, err := invoicing.New(store, invoicing.Config{Seller: invoicing.DevSeller(), Now: func() time.Time { return time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := func(mutate func(*invoicing.QuoteRequest)) invoicing.QuoteRequest {
		r := invoicing.QuoteRequest{Agency: "臺北市政府", Key: "form-1",
			Items: []domain.QuoteItem{{Name: "服務", Quantity: decimal.NewFromInt(1), Unit: "式", UnitPrice: decimal.NewFromInt(100)}}}
		mutate(&r)
		return r
	}
	if _, err := svc.CreateQuote(ctx, req(func(*invoicing.QuoteRequest) {})); err != nil {
		t.Fatal(err)
	}
	for want, mutate := range map[string]func(*invoicing.QuoteRequest){
		"新臺幣壹拾億元整":             func(r *invoicing.QuoteRequest) { r.Items[0].UnitPrice = decimal.RequireFromString("1e12") },
		"輸入了 201 個":            func(r *invoicing.QuoteRequest) { r.Items[0].Name = strings.Repeat("名", 201) },
		"輸入了 101 個":            func(r *invoicing.QuoteRequest) { r.Agency = strings.Repeat("機", 101) },
		"控制字元 U+0007":          func(r *invoicing.QuoteRequest) { r.Contact = "林\a" },
		"備註 最多 30 行（輸入了 31 行）": func(r *invoicing.QuoteRequest) { r.Remarks = strings.Repeat("\n", 30) + "止" },
		"機關名稱 含有文件無法列印的字元 「😀」(U+1F600)":       func(r *invoicing.QuoteRequest) { r.Agency = "臺北😀市政府" },
		"第 1 個品項的 規格 含有文件無法列印的字元 「김」(U+AE40)": func(r *invoicing.QuoteRequest) { r.Items[0].Spec = "김치" },
		"數量 0.1234567 超過 6 位小數":               func(r *invoicing.QuoteRequest) { r.Items[0].Quantity = decimal.RequireFromString("0.1234567") },
		"單價 1.0000001 超過 6 位小數":               func(r *invoicing.QuoteRequest) { r.Items[0].UnitPrice = decimal.RequireFromString("1.0000001") },
		"第 1 個品項的 單位":                         func(r *invoicing.QuoteRequest) { r.Items[0].Unit = "式\x00" },
		"最多 100 個品項": func(r *invoicing.QuoteRequest) {
			for len(r.Items) <= 100 {
				r.Items = append(r.Items, r.Items[0])
			}
		},
		"已產生報價單 Q-": func(r *invoicing.QuoteRequest) { r.Items[0].UnitPrice = decimal.NewFromInt(200) },
	} {
		_, err := svc.CreateQuote(ctx, req(mutate))
		if err == nil {
			t.Fatalf("%s: issued", want)
		}
		html, _ := errorText(langZH, http.StatusBadRequest, err.Error())
		if got := string(html); !strings.Contains(strings.NewReplacer("<bdi>", "", "</bdi>", "").Replace(got), want) {
			t.Errorf("%q reads %q; want it to say %q", err, got, want)
		}
	}
}
