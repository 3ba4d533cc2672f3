package domain

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// A key creates only keys within its own limits: models a subset of its
// models, a spending limit no larger in the same period, and the
// management scope only if it has it, and an expiry no later than its own.
func TestKeyWithin(t *testing.T) {
	d := decimal.RequireFromString
	open := KeyIssued{Management: true}
	narrow := KeyIssued{Management: true, Models: []string{"a/one", "a/two"}, SpendLimit: d("100"), SpendPeriod: "daily"}
	at := time.Date(2027, 3, 31, 16, 0, 0, 0, time.UTC)
	sooner, later := at.Add(-time.Hour), at.Add(time.Second)
	expiring := KeyIssued{Management: true, ExpiresAt: &at}
	lifetime := KeyIssued{Management: true, SpendLimit: d("10"), SpendPeriod: "never"}
	cases := []struct {
		name          string
		parent, child KeyIssued
		refusal       string // "" when allowed
	}{
		{"open parent, open child", open, KeyIssued{}, ""},
		{"open parent, limited child", open, KeyIssued{Models: []string{"x/y"}, SpendLimit: d("5")}, ""},
		{"open parent, management child", open, KeyIssued{Management: true}, ""},
		{"ordinary parent creates nothing", KeyIssued{}, KeyIssued{Models: []string{"a/one"}}, "management"},
		{"same limits", narrow, KeyIssued{Models: []string{"a/two", "a/one"}, SpendLimit: d("100"), SpendPeriod: "daily"}, ""},
		{"subset and less", narrow, KeyIssued{Models: []string{"a/one"}, SpendLimit: d("0.5"), SpendPeriod: "daily"}, ""},
		{"management child within", narrow, KeyIssued{Management: true, Models: []string{"a/one"}, SpendLimit: d("1"), SpendPeriod: "daily"}, ""},
		{"every model", narrow, KeyIssued{SpendLimit: d("1"), SpendPeriod: "daily"}, "models"},
		{"another model", narrow, KeyIssued{Models: []string{"a/one", "b/three"}, SpendLimit: d("1"), SpendPeriod: "daily"}, "b/three"},
		{"no spending limit", narrow, KeyIssued{Models: []string{"a/one"}}, "spending limit"},
		{"larger limit", narrow, KeyIssued{Models: []string{"a/one"}, SpendLimit: d("100.01"), SpendPeriod: "daily"}, "spending limit"},
		{"longer period", narrow, KeyIssued{Models: []string{"a/one"}, SpendLimit: d("1"), SpendPeriod: "monthly"}, "daily"},
		{"shorter period", narrow, KeyIssued{Models: []string{"a/one"}, SpendLimit: d("1"), SpendPeriod: "weekly"}, "daily"},
		{"monthly by default", KeyIssued{Management: true, SpendLimit: d("10")}, KeyIssued{SpendLimit: d("10")}, ""},
		{"monthly by default, explicit", KeyIssued{Management: true, SpendLimit: d("10")}, KeyIssued{SpendLimit: d("10"), SpendPeriod: "monthly"}, ""},
		// A limit that never resets is a total for the key's life: under
		// such a parent, a child's limit never resets either; under a
		// periodic parent, a child's total spends at most its limit in any
		// period, so it is within.
		{"never under never", lifetime, KeyIssued{SpendLimit: d("10"), SpendPeriod: "never"}, ""},
		{"larger never under never", lifetime, KeyIssued{SpendLimit: d("10.01"), SpendPeriod: "never"}, "spending limit"},
		{"monthly under never", lifetime, KeyIssued{SpendLimit: d("1"), SpendPeriod: "monthly"}, "never resets"},
		{"monthly by default under never", lifetime, KeyIssued{SpendLimit: d("1")}, "never resets"},
		{"daily under never", lifetime, KeyIssued{SpendLimit: d("1"), SpendPeriod: "daily"}, "never resets"},
		{"never under daily", narrow, KeyIssued{Models: []string{"a/one"}, SpendLimit: d("100"), SpendPeriod: "never"}, ""},
		{"never under monthly by default", KeyIssued{Management: true, SpendLimit: d("10")}, KeyIssued{SpendLimit: d("10"), SpendPeriod: "never"}, ""},
		{"larger never under daily", narrow, KeyIssued{Models: []string{"a/one"}, SpendLimit: d("101"), SpendPeriod: "never"}, "spending limit"},
		{"expiring parent, child expiring sooner", expiring, KeyIssued{ExpiresAt: &sooner}, ""},
		{"expiring parent, child expiring with it", expiring, KeyIssued{ExpiresAt: &at}, ""},
		{"expiring parent, child never expiring", expiring, KeyIssued{}, "2027-03-31T16:00:00Z"},
		{"expiring parent, child expiring later", expiring, KeyIssued{ExpiresAt: &later}, "after"},
		{"open parent, expiring child", open, KeyIssued{ExpiresAt: &later}, ""},
	}
	for _, c := range cases {
		err := KeyWithin(c.parent, c.child)
		switch {
		case c.refusal == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.refusal != "" && err == nil:
			t.Errorf("%s: allowed, want a refusal naming %q", c.name, c.refusal)
		case c.refusal != "" && !strings.Contains(err.Error(), c.refusal):
			t.Errorf("%s: refusal %q does not name %q", c.name, err, c.refusal)
		}
	}
}

// A limit over one period spends within a parent's over another when the
// periods are the same or the child's never resets; an old key without a
// period is monthly.
func TestSpendsWithin(t *testing.T) {
	for _, c := range []struct {
		parent, child string
		want          bool
	}{
		{"monthly", "monthly", true}, {"", "monthly", true}, {"monthly", "", true}, {"daily", "daily", true},
		{"never", "never", true}, {"daily", "never", true}, {"weekly", "never", true}, {"", "never", true},
		{"never", "monthly", false}, {"never", "", false}, {"monthly", "daily", false}, {"daily", "monthly", false},
	} {
		if got := SpendsWithin(c.parent, c.child); got != c.want {
			t.Errorf("SpendsWithin(%q, %q) = %v, want %v", c.parent, c.child, got, c.want)
		}
	}
}

// Old key events, without the scope, decode as ordinary keys.
func TestKeyIssuedWithoutScopeDecodes(t *testing.T) {
	ev, err := Decode(TypeKeyIssued, 1, []byte(`{"key_id":"key_1","account_id":"acct_1","hash":"ab","prefix":"sk-rf-ab…","spend_limit":"0"}`))
	if err != nil {
		t.Fatal(err)
	}
	if k := ev.(*KeyIssued); k.Management || k.KeyID != "key_1" {
		t.Fatalf("decoded %+v", k)
	}
}
