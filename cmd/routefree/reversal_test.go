package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/routefree/routefree/domain"
)

// refundReport is what a test reads of the refunds in `invoices reconcile
// --json`.
type refundReport struct {
	Refunds []struct {
		AccountID string `json:"account_id"`
		Refunded  string `json:"refunded"`
		ToAllow   int64  `json:"to_allow_ntd"`
	} `json:"refunds"`
}

// A negative adjustment recorded by mistake on an account that has only
// paid credit takes paid credit: the reconciliation asks for an allowance
// on its top-up invoice. Finance reverses it with `credits adjust
// --reverses ID`, naming the ID the first adjustment printed: the paid
// credit is back, nothing is left to allow (an allowance issued on the
// old advice would under-report revenue), `replay` agrees, and a refund of
// all the credit afterwards asks for an allowance of exactly what was paid.
// A reversal that does not undo exactly one adjustment is refused.
func TestReversedAdjustmentLeavesNoAllowanceToIssue(t *testing.T) {
	h := newLedgerHistory(t)
	dir := "--data-dir=" + h.dir
	if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "shop", Organisation: "小商店", Plan: domain.PlanStarter}); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "credits", "topup", "--account", "shop", "--amount", "1000", "--method", "bank-transfer", "--reference", "TX-1", dir)
	mustCLI(t, "invoices", "topups", dir)

	idOf := func(out string) string {
		t.Helper()
		m := regexp.MustCompile(`recorded: adjustment of .*, ID ([0-9a-f-]{36})\n`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("credits adjust printed no adjustment ID:\n%s", out)
		}
		return m[1]
	}
	refunds := func() refundReport {
		t.Helper()
		var r refundReport
		out := mustCLI(t, "invoices", "reconcile", "--json", dir)
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		return r
	}

	oops := idOf(mustCLI(t, "credits", "adjust", "--account", "shop", "--amount", "-20", "--reason", "typo", dir))
	if r := refunds(); len(r.Refunds) != 1 || r.Refunds[0].ToAllow != 20 {
		t.Fatalf("after the mistaken -20: refunds %+v; want NT$20 to allow", r.Refunds)
	}

	refusedCLI(t, "is of NT$20, not NT$10", "credits", "adjust", "--account", "shop", "--amount", "10", "--reverses", oops, "--reason", "undo", dir)
	refusedCLI(t, "no adjustment", "credits", "adjust", "--account", "shop", "--amount", "20",
		"--reverses", "00000000-0000-4000-8000-000000000001", "--reason", "undo", dir)
	refusedCLI(t, "not an adjustment's ID", "credits", "adjust", "--account", "shop", "--amount", "20", "--reverses", "oops", "--reason", "undo", dir)

	out := mustCLI(t, "credits", "adjust", "--account", "shop", "--amount", "20", "--reverses", oops, "--reason", "reverses the oops adjustment", dir)
	undo := idOf(out)
	if !strings.Contains(out, "reverses adjustment "+oops) {
		t.Errorf("the reversal does not say what it reverses:\n%s", out)
	}
	if r := refunds(); len(r.Refunds) != 0 {
		t.Fatalf("after the reversal: refunds %+v; want none, nothing to allow", r.Refunds)
	}
	text := mustCLI(t, "invoices", "reconcile", dir)
	if strings.Contains(text, "to allow") {
		t.Fatalf("invoices reconcile still asks for an allowance after the reversal:\n%s", text)
	}
	if replay := mustCLI(t, "replay", dir); !strings.Contains(replay, text[strings.Index(text, "RECONCILIATION"):]) {
		t.Fatalf("replay does not print the live reconciliation:\n%s\nwant:\n%s", replay, text)
	}

	refusedCLI(t, "already reversed", "credits", "adjust", "--account", "shop", "--amount", "20", "--reverses", oops, "--reason", "again", dir)
	refusedCLI(t, "a reversal is not reversed", "credits", "adjust", "--account", "shop", "--amount", "-20", "--reverses", undo, "--reason", "undo the undo", dir)

	// The credit is paid credit again, all of it: refunding it all asks
	// for an allowance of the NT$1,000 paid, not more.
	mustCLI(t, "credits", "adjust", "--account", "shop", "--amount", "-1000", "--reason", "account closed, refunded", dir)
	if r := refunds(); len(r.Refunds) != 1 || r.Refunds[0].Refunded != "1000" || r.Refunds[0].ToAllow != 1000 {
		t.Fatalf("after refunding the credit: refunds %+v; want NT$1,000 refunded and to allow", r.Refunds)
	}
}

// refundToVoid is what a test reads of a refund's allowances to void in
// `invoices reconcile --json`.
type refundToVoid struct {
	Refunds []struct {
		AccountID string   `json:"account_id"`
		ToAllow   int64    `json:"to_allow_ntd"`
		Beyond    int64    `json:"allowed_beyond_ntd"`
		Invoices  []string `json:"invoices"`
		ToVoid    []struct {
			Number string `json:"number"`
			Amount int64  `json:"amount_ntd"`
		} `json:"to_void"`
	} `json:"refunds"`
}

// An allowance issued for a refund of paid credit, all of it or part,
// stays when finance reverses the refund: `invoices reconcile` names it
// to void, with what it allows beyond the refunds and the command that
// voids it, until `invoices allowance-void` voids it.
func TestAReversedRefundsAllowanceIsNamedToVoid(t *testing.T) {
	for _, c := range []struct{ refund, allowed string }{{"300", "300"}, {"900", "400"}} {
		t.Run("refund "+c.refund+" allowed "+c.allowed, func(t *testing.T) {
			h := newLedgerHistory(t)
			dir := "--data-dir=" + h.dir
			if _, err := h.cmds.OpenAccount(h.ctx, domain.AccountOpened{AccountID: "firm", Organisation: "艾克米股份有限公司", TaxID: "22099131", Plan: domain.PlanStarter}); err != nil {
				t.Fatal(err)
			}
			mustCLI(t, "credits", "topup", "--account", "firm", "--amount", "1000", "--method", "bank-transfer", "--reference", "TX-1", dir)
			mustCLI(t, "invoices", "topups", dir)
			reconcile := func() refundToVoid {
				t.Helper()
				var r refundToVoid
				out := mustCLI(t, "invoices", "reconcile", "--json", dir)
				if err := json.Unmarshal([]byte(out), &r); err != nil {
					t.Fatalf("%v:\n%s", err, out)
				}
				return r
			}

			out := mustCLI(t, "credits", "adjust", "--account", "firm", "--amount", "-"+c.refund, "--reason", "refund", dir)
			m := regexp.MustCompile(`ID ([0-9a-f-]{36})\n`).FindStringSubmatch(out)
			r := reconcile()
			if m == nil || len(r.Refunds) != 1 || len(r.Refunds[0].Invoices) != 1 {
				t.Fatalf("the refund: %s\nrefunds %+v", out, r.Refunds)
			}
			out = mustCLI(t, "invoices", "allowance", "--number", r.Refunds[0].Invoices[0], "--amount", c.allowed, "--reason", "退款", dir)
			a := regexp.MustCompile(`^allowance (\S+) on `).FindStringSubmatch(out)
			if a == nil {
				t.Fatalf("invoices allowance printed no number:\n%s", out)
			}
			mustCLI(t, "credits", "adjust", "--account", "firm", "--amount", c.refund, "--reverses", m[1], "--reason", "refund by mistake", dir)

			r = reconcile()
			if len(r.Refunds) != 1 || r.Refunds[0].ToAllow != 0 || fmt.Sprint(r.Refunds[0].Beyond) != c.allowed ||
				len(r.Refunds[0].ToVoid) != 1 || r.Refunds[0].ToVoid[0].Number != a[1] || fmt.Sprint(r.Refunds[0].ToVoid[0].Amount) != c.allowed {
				t.Fatalf("after the reversal: refunds %+v; want NT$%s allowed beyond refunds, allowance %s to void", r.Refunds, c.allowed, a[1])
			}
			text := mustCLI(t, "invoices", "reconcile", dir)
			for _, want := range []string{"NT$" + c.allowed + " allowed beyond refunds", "void allowance " + a[1],
				"run: routefree invoices allowance-void --number " + a[1]} {
				if !strings.Contains(text, want) {
					t.Fatalf("invoices reconcile does not say %q:\n%s", want, text)
				}
			}

			mustCLI(t, "invoices", "allowance-void", "--number", a[1], "--reason", "退款已撤銷", dir)
			if r := reconcile(); len(r.Refunds) != 0 {
				t.Fatalf("after the allowance's void: refunds %+v; want none", r.Refunds)
			}
			if text := mustCLI(t, "invoices", "reconcile", dir); strings.Contains(text, "to void") || strings.Contains(text, "to allow") {
				t.Fatalf("invoices reconcile after the allowance's void:\n%s", text)
			}
		})
	}
}
