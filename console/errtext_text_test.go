package console

import (
	"context"
	"html/template"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/routefree/routefree/domain"
)

// The refusals of free texts and of an organisation name too long for an
// e-invoice read in the page's language, naming the field, rather than a
// general error with the English words folded away.
func TestTextRefusalsSpeakChinese(t *testing.T) {
	e := newEnv(t, false)
	e.openAccount("acct_a", "甲公司", domain.PlanStarter)
	e.sync()
	ctx := context.Background()
	_, err1 := e.cmds.TopUp(ctx, domain.CreditsToppedUp{AccountID: "acct_a", Amount: mustDec("1"), Method: domain.MethodBankTransfer, Reference: "a\x1bb"})
	err2 := e.cmds.Adjust(ctx, domain.CreditsAdjusted{AccountID: "acct_a", Amount: mustDec("1"), Reason: strings.Repeat("理", 1001)})
	err3 := e.cmds.SuspendAccount(ctx, "acct_a", "x\u202ey")
	_, _, err4 := e.cmds.IssueStaffToken(ctx, "finance", "bad \xff")
	_, err5 := e.cmds.OpenAccount(ctx, domain.AccountOpened{Organisation: strings.Repeat("長", 61)})
	_, err6 := e.cmds.TopUp(ctx, domain.CreditsToppedUp{AccountID: "acct_a", Amount: mustDec("1"), Method: domain.MethodBankTransfer, Reference: "TX-001\u200b"})
	for i, c := range []struct {
		err    error
		zh, en string
	}{
		{err1, "儲值參考編號不得含控制字元", "A top-up's reference must not contain control"},
		{err2, "調整原因最多 1000 個字元", "An adjustment's reason is at most 1000 characters"},
		{err3, "停用原因不得含控制字元", "A suspension's reason must not"},
		{err4, "員工權杖名稱須為 UTF-8 文字", "A staff token's name must be UTF-8 text"},
		{err5, "公司名稱有 61 個字元，電子發票的買受人名稱最多 60 個字元", "an e-invoice's buyer name holds at most 60"},
		{err6, "儲值參考編號不得含不可見字元（U+200B）", "A top-up's reference must not contain invisible characters (U+200B)"},
	} {
		if c.err == nil {
			t.Fatalf("case %d: not refused", i)
		}
		if text, detail := errorText(langZH, 400, c.err.Error()); !strings.Contains(messageText(t, text), c.zh) || detail != "" {
			t.Errorf("case %d: zh %q (detail %q), want %q", i, text, detail, c.zh)
		}
		if text, _ := errorText(langEN, 400, c.err.Error()); !strings.Contains(messageText(t, text), c.en) {
			t.Errorf("case %d: en %q, want %q", i, text, c.en)
		}
	}
}

// messageText is the text a message reads as, without its markup.
func messageText(t *testing.T, h template.HTML) string {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(string(h)), &html.Node{Type: html.ElementNode, Data: "p", DataAtom: atom.P})
	if err != nil {
		t.Fatal(err)
	}
	return nodesText(nodes...)
}
