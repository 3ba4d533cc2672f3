package main

import (
	"os"
	"strings"
	"testing"
)

// flagsRefused runs a command that its flags must refuse before it touches
// the store: exit status 2, every problem in says named in the one refusal,
// and nothing made in the data directory.
func flagsRefused(t *testing.T, args []string, says ...string) {
	t.Helper()
	dir := t.TempDir()
	code, _, errs := cli(t, append(args, "--data-dir", dir)...)
	if code != 2 {
		t.Errorf("routefree %s: exit %d, want 2; stderr:\n%s", strings.Join(args, " "), code, errs)
	}
	for _, want := range says {
		if !strings.Contains(errs, want) {
			t.Errorf("routefree %s does not name %q:\n%s", strings.Join(args, " "), want, errs)
		}
	}
	if strings.Contains(errs, "-h\tshow") || strings.Contains(errs, "usage: routefree "+args[0]) {
		t.Errorf("routefree %s printed its usage for bad values:\n%s", strings.Join(args, " "), errs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("routefree %s, refused for its flags, left %d files in the data directory", strings.Join(args, " "), len(entries))
	}
}

// An invoicing command names every bad flag of its own in one refusal.
func TestInvoicesVoidNamesEveryBadFlag(t *testing.T) {
	cleanEnv(t)
	flagsRefused(t, []string{"invoices", "void", "--special-approval", "府財字第1號"},
		"--number is required", "--reason is required", "--approved-on")
	flagsRefused(t, []string{"invoices", "allowance", "--number", "AB12345678", "--amount", "lots"},
		"--amount", "--reason is required")
	flagsRefused(t, []string{"invoices", "export", "--period", "2026-13", "--message", "X9999"},
		`--period: period "2026-13"`, `--message "X9999"`)
}

// A credits command names every bad flag of its own in one refusal.
func TestCreditsAdjustNamesEveryBadFlag(t *testing.T) {
	cleanEnv(t)
	flagsRefused(t, []string{"credits", "adjust", "--amount", "1e3", "--reverses", "not-an-id"},
		"--account is required", `--amount "1e3"`, `--reverses "not-an-id"`)
	flagsRefused(t, []string{"credits", "topup", "--amount", "+100"},
		"--account is required", `--amount "+100"`)
}

// An events command names every bad flag of its own in one refusal.
func TestEventsExportNamesEveryBadFlag(t *testing.T) {
	cleanEnv(t)
	flagsRefused(t, []string{"events", "export", "--since", "yesterday", "--until", "soon", "--type", "no.such"},
		`--since "yesterday"`, `--until "soon"`, `event type "no.such"`)
}

// Every command names its own flags' problems together with those of the
// settings it takes (here a misspelt --store): one refusal, not the
// settings first and its own flags at the next run.
func TestEveryCommandNamesItsFlagsWithItsSettings(t *testing.T) {
	cleanEnv(t)
	bad := []string{"--store", "sqlit"}
	storeProblem := `--store "sqlit"`
	cases := []struct {
		args []string
		says []string
	}{
		{[]string{"serve"}, nil},
		{[]string{"replay"}, nil},
		{[]string{"accounts", "open", "--credit-limit", "lots"}, []string{`--credit-limit "lots"`}},
		{[]string{"accounts", "plan", "--volume-discount", "some"}, []string{"--account is required", `--volume-discount "some"`}},
		{[]string{"accounts", "show"}, []string{"--account is required"}},
		{[]string{"accounts", "suspend"}, []string{"--account is required"}},
		{[]string{"accounts", "resume"}, []string{"--account is required"}},
		{[]string{"accounts", "update"}, []string{"--account is required"}},
		{[]string{"keys", "issue", "--expires", "tomorrow"}, []string{"--account is required", `--expires "tomorrow"`}},
		{[]string{"keys", "revoke"}, []string{"--key is required"}},
		{[]string{"keys", "disable"}, []string{"--key is required"}},
		{[]string{"keys", "enable"}, []string{"--key is required"}},
		{[]string{"keys", "expire", "--at", "later"}, []string{"--key is required", `--at "later"`}},
		{[]string{"credits", "topup", "--amount", "x"}, []string{"--account is required", `--amount "x"`}},
		{[]string{"credits", "adjust"}, []string{"--account is required", "--amount is required"}},
		{[]string{"prices", "publish", "--effective", "soon"}, []string{`--effective "soon"`, "give one price file or --from-catalog"}},
		{[]string{"staff", "issue"}, nil},
		{[]string{"staff", "revoke"}, []string{"--token is required"}},
		{[]string{"staff", "list"}, nil},
		{[]string{"events", "export", "--since", "x"}, []string{`--since "x"`}},
		{[]string{"events", "verify", "--export", "a.jsonl", "--backup", "b.db"}, []string{"give one"}},
		{[]string{"events", "backup"}, []string{"--out is required"}},
		{[]string{"events", "generate", "--accounts", "0"}, []string{"--events must be at least three times --accounts"}},
		{[]string{"invoices", "range", "--period", "2026-13"}, []string{`--period: period "2026-13"`}},
		{[]string{"invoices", "skip"}, []string{"--period is required", "--through is required"}},
		{[]string{"invoices", "close", "--month", "2026-13"}, []string{`--month "2026-13"`}},
		{[]string{"invoices", "topups"}, nil},
		{[]string{"invoices", "issue", "--month", "May"}, []string{"--account is required", `--month "May"`}},
		{[]string{"invoices", "list", "--month", "May"}, []string{`--month "May"`}},
		{[]string{"invoices", "pdf"}, []string{"give --number (an invoice) or --allowance"}},
		{[]string{"invoices", "reconcile", "--month", "May"}, []string{`--month "May"`}},
		{[]string{"invoices", "export", "--message", "X1"}, []string{`--period: period ""`, `--message "X1"`}},
		{[]string{"invoices", "void"}, []string{"--number is required", "--reason is required"}},
		{[]string{"invoices", "allowance", "--amount", "0"}, []string{"--number is required", "--reason is required", `--amount "0"`}},
		{[]string{"invoices", "allowance-void"}, []string{"--number is required", "--reason is required"}},
		{[]string{"invoices", "outbox"}, []string{"--dir is required"}},
	}
	tested := map[string]bool{}
	for _, tc := range cases {
		words := tc.args
		for i, w := range words {
			if strings.HasPrefix(w, "-") {
				words = words[:i]
				break
			}
		}
		name := strings.Join(words, " ")
		tested[name] = true
		t.Run(name, func(t *testing.T) {
			flagsRefused(t, append(tc.args, bad...), append(tc.says, storeProblem)...)
		})
	}
	for name := range subcommands {
		if !tested[name] {
			t.Errorf("routefree %s is not in the table", name)
		}
	}
}
