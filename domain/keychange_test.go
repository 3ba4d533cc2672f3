package domain

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// A change replaces the name and the limit and keeps what a key was issued
// with otherwise; the event round-trips through the codec with its actor.
func TestKeyChanged(t *testing.T) {
	k := KeyIssued{KeyID: "key_1", AccountID: "a", Name: "old", Models: []string{"m"}, Management: true,
		SpendLimit: decimal.NewFromInt(10), SpendPeriod: "daily"}
	c := KeyChanged{KeyID: "key_1", AccountID: "a", Name: "new", SpendLimit: decimal.NewFromInt(5), SpendPeriod: "weekly",
		Actor: Actor{Kind: ActorKey, ID: "key_0"}}
	got := c.Changed(k)
	if got.Name != "new" || !got.SpendLimit.Equal(decimal.NewFromInt(5)) || got.SpendPeriod != "weekly" ||
		len(got.Models) != 1 || !got.Management || got.KeyID != "key_1" {
		t.Fatalf("changed: %+v", got)
	}
	for _, e := range []Event{&c, &RankingsListed{AccountID: "a", Listed: true, Actor: Actor{Kind: ActorMember, ID: "oidc:x"}}} {
		data, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(e.EventType(), e.SchemaVersion(), data)
		if err != nil {
			t.Fatal(err)
		}
		a, ok := ActorOf(e.EventType(), e.SchemaVersion(), data)
		if !ok || a != *e.(Attributed).ActedBy() || back.EventType() != e.EventType() {
			t.Fatalf("%s: actor %v ok %v", e.EventType(), a, ok)
		}
	}
}

// The 統一編號 set with the carrier: checked, trimmed, and exclusive of a
// carrier or a donation; absent leaves it alone.
func TestInvoiceCarrierTaxID(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		set InvoiceCarrierSet
		bad string
	}{
		{InvoiceCarrierSet{TaxID: str(" 04595257 ")}, ""},
		{InvoiceCarrierSet{TaxID: str(""), Carrier: "/ABC+123"}, ""},
		{InvoiceCarrierSet{Carrier: "/ABC+123"}, ""},
		{InvoiceCarrierSet{TaxID: str("12345678")}, "not valid"},
		{InvoiceCarrierSet{TaxID: str("04595257"), Carrier: "/ABC+123"}, "no carrier"},
		{InvoiceCarrierSet{TaxID: str("04595257"), DonationCode: "919"}, "no carrier"},
	} {
		err := CheckInvoiceCarrier(&c.set)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%+v: %v", c.set, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%+v: %v, want %q", c.set, err, c.bad)
		}
	}
	s := InvoiceCarrierSet{TaxID: str(" 04595257 ")}
	_ = CheckInvoiceCarrier(&s)
	if *s.TaxID != "04595257" {
		t.Fatalf("not trimmed: %q", *s.TaxID)
	}
}
