package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exportEvents is an export's event lines, after checking that its last
// line is the end record and that the record counts them.
func exportEvents(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var end struct {
		Type     string `json:"type"`
		Events   int    `json:"events"`
		LastHash string `json:"last_hash"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &end); err != nil || end.Type != "export.end" {
		t.Fatalf("the export's last line is not its end record: %q (%v)", lines[len(lines)-1], err)
	}
	events := lines[:len(lines)-1]
	if end.Events != len(events) {
		t.Fatalf("the end record counts %d events, the export holds %d", end.Events, len(events))
	}
	return events
}

// An export ends with a record of its count and last hash, so that one
// cut short (a full disk, a killed command) is told from a whole one when
// it is read back: `events verify --export` refuses it, naming what is
// wrong. An export from before end records is read only when asked to.
func TestEventsExportEndRecord(t *testing.T) {
	dir := storeDir(t)
	mustCLI(t, "accounts", "open", "--id", "acct_x", "--organisation", "匯出公司", "--data-dir", dir)
	mustCLI(t, "keys", "issue", "--account", "acct_x", "--name", "a", "--data-dir", dir)
	mustCLI(t, "keys", "issue", "--account", "acct_x", "--name", "b", "--data-dir", dir)
	mustCLI(t, "credits", "topup", "--account", "acct_x", "--amount", "100", "--method", "bank-transfer", "--reference", "T-1", "--data-dir", dir)

	whole := mustCLI(t, "events", "export", "--data-dir", dir)
	events := exportEvents(t, whole)
	if len(events) < 4 {
		t.Fatalf("%d events exported", len(events))
	}
	var last struct {
		Hash string `json:"hash"`
	}
	if err := json.Unmarshal([]byte(events[len(events)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(whole, `"last_hash":"`+last.Hash+`"`) {
		t.Fatalf("the end record does not name the last event's hash %s", last.Hash)
	}
	filtered := mustCLI(t, "events", "export", "--type", "key.issued", "--data-dir", dir)
	if n := len(exportEvents(t, filtered)); n != 2 {
		t.Fatalf("%d key.issued events exported, want 2", n)
	}

	files := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Whole exports, filtered or not, read back.
	for name, body := range map[string]string{"whole": whole, "filtered": filtered} {
		out := mustCLI(t, "events", "verify", "--export", write(name+".jsonl", body))
		if !strings.HasPrefix(out, "OK ") {
			t.Fatalf("%s export: %s", name, out)
		}
	}
	lines := strings.SplitAfter(whole, "\n")
	lines = lines[:len(lines)-1] // the empty piece after the last newline
	withoutEnd := strings.Join(lines[:len(lines)-1], "")
	// Cut short after an event, in the middle of one, or missing one.
	refusedCLI(t, "no end record", "events", "verify", "--export", write("cut.jsonl", withoutEnd))
	refusedCLI(t, "cut short", "events", "verify", "--export", write("midline.jsonl", whole[:len(withoutEnd)-40]))
	gap := strings.Join(append(append([]string{}, lines[:1]...), lines[2:]...), "")
	refusedCLI(t, "events are missing", "events", "verify", "--export", write("gap.jsonl", gap))
	// An earlier release's export (no end record) only when asked, and
	// the command says what it could not check.
	code, out, errs := cli(t, "events", "verify", "--export", write("old.jsonl", withoutEnd), "--accept-unmarked")
	if code != 0 || !strings.HasPrefix(out, "OK ") || !strings.Contains(errs, "cannot be told from a whole one") {
		t.Fatalf("an unmarked export with --accept-unmarked: exit %d\n%s%s", code, out, errs)
	}
}

// An export's filter that can match nothing by mistake is refused, where
// it wrote an empty export that read as a true one: an event type that
// does not exist, a time that is neither RFC 3339 nor a date, or a range
// that ends before it starts.
func TestEventsExportRefusesFiltersThatCannotMatch(t *testing.T) {
	dir := storeDir(t)
	mustCLI(t, "accounts", "open", "--id", "acct_x", "--organisation", "匯出公司", "--data-dir", dir)
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--type", "acount.opened"}, `event type "acount.opened" does not exist`},
		{[]string{"--since", "yesterday"}, `--since "yesterday": want an RFC 3339 instant`},
		{[]string{"--since", "2026-12-10", "--until", "2026-12-01"}, "--until must come after --since"},
		{[]string{"--stream", "account-acct_y"}, `--stream: stream "account-acct_y" does not exist`},
	} {
		code, out, errs := cli(t, append([]string{"events", "export", "--data-dir", dir}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.says) || out != "" {
			t.Errorf("events export %v: exit %d, %q, %d bytes out; want 2 saying %q", c.args, code, errs, len(out), c.says)
		}
	}
	if evs := exportEvents(t, mustCLI(t, "events", "export", "--data-dir", dir, "--type", "account.opened", "--since", "2026-01-01")); len(evs) != 1 {
		t.Fatalf("a known type and date: %d events", len(evs))
	}
}

// An export is re-verifiable on its own: each event's hash is computed
// again from its exported fields, so an event edited in the file (an
// amount raised, a type changed, a time moved) is refused and named, where
// only the links and the end record were read and such an export passed.
func TestEventsVerifyExportChecksEachEventsHash(t *testing.T) {
	dir := storeDir(t)
	mustCLI(t, "accounts", "open", "--id", "acct_x", "--organisation", "匯出 <公司> & 子", "--data-dir", dir)
	mustCLI(t, "credits", "topup", "--account", "acct_x", "--amount", "100", "--method", "bank-transfer", "--reference", "T-1", "--data-dir", dir)
	mustCLI(t, "keys", "issue", "--account", "acct_x", "--name", "a", "--data-dir", dir)
	whole := mustCLI(t, "events", "export", "--data-dir", dir)
	filtered := mustCLI(t, "events", "export", "--type", "credits.topped_up", "--data-dir", dir)
	files := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, body := range map[string]string{"whole": whole, "filtered": filtered} {
		out := mustCLI(t, "events", "verify", "--export", write(name+".jsonl", body))
		if !strings.HasPrefix(out, "OK ") {
			t.Fatalf("%s export: %s", name, out)
		}
		// A filtered export cannot prove that it left nothing out: the
		// verdict says so rather than reading as the whole chain's.
		if says := strings.Contains(out, "cannot show that no matching event was left out"); says != (name == "filtered") {
			t.Fatalf("%s export's verdict: %s", name, out)
		}
		for _, edit := range [][2]string{
			{`"amount":"100"`, `"amount":"900"`},
			{`"type":"credits.topped_up"`, `"type":"credits.adjusted"`},
			{`"version":0,"id":"`, `"version":1,"id":"`},
		} {
			if !strings.Contains(body, edit[0]) {
				t.Fatalf("%s export lacks %s", name, edit[0])
			}
			refusedCLI(t, "does not match its hash", "events", "verify", "--export", write(name+"-edited.jsonl", strings.Replace(body, edit[0], edit[1], 1)))
		}
	}
}

// Lines of an export moved or repeated are refused, filtered or not: the
// events of an export are in the global order, each once, and a stream's
// versions rise. A filtered export with two lines swapped, or one line
// repeated in place of another, kept its count and its last hash, and its
// events each verified, so it passed.
func TestEventsVerifyExportRefusesEventsOutOfOrder(t *testing.T) {
	dir := storeDir(t)
	mustCLI(t, "accounts", "open", "--id", "acct_x", "--organisation", "順序公司", "--data-dir", dir)
	for _, ref := range []string{"T-1", "T-2", "T-3"} {
		mustCLI(t, "credits", "topup", "--account", "acct_x", "--amount", "100", "--method", "bank-transfer", "--reference", ref, "--data-dir", dir)
	}
	filtered := mustCLI(t, "events", "export", "--type", "credits.topped_up", "--data-dir", dir)
	lines := strings.SplitAfter(filtered, "\n")
	if len(lines) != 5 { // three events, the end record, the empty piece after it
		t.Fatalf("export of %d lines:\n%s", len(lines), filtered)
	}
	files := t.TempDir()
	for name, body := range map[string]string{
		"swapped":  lines[1] + lines[0] + lines[2] + lines[3],
		"repeated": lines[0] + lines[0] + lines[2] + lines[3],
	} {
		p := filepath.Join(files, name+".jsonl")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		refusedCLI(t, "out of order or repeated", "events", "verify", "--export", p)
	}
}
