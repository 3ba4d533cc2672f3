package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

// cli runs the binary's entry point in process.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// mustCLI runs a command that must succeed.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, args...)
	if code != 0 {
		t.Fatalf("routefree %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// refusedCLI runs a command that must fail with a message saying says.
func refusedCLI(t *testing.T, says string, args ...string) {
	t.Helper()
	code, _, errs := cli(t, args...)
	if code == 0 || !strings.Contains(errs, says) {
		t.Fatalf("routefree %s: exit %d, stderr %q; want a refusal saying %q", strings.Join(args, " "), code, errs, says)
	}
}

func TestGroupHelpListsItsCommands(t *testing.T) {
	code, out, _ := cli(t, "accounts", "-h")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"accounts open", "accounts plan", "accounts show", "accounts suspend", "accounts resume", "accounts update"} {
		if !strings.Contains(out, want) {
			t.Errorf("accounts -h does not list %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "keys issue") || strings.Contains(out, "serve") {
		t.Errorf("accounts -h lists other groups' commands:\n%s", out)
	}
	// A group alone is a bad invocation: its commands go to stderr.
	for _, group := range []string{"credits", "staff", "keys", "events", "invoices", "prices"} {
		if code, _, errs := cli(t, group); code != 2 || !strings.Contains(errs, group+" ") {
			t.Errorf("routefree %s: exit %d\n%s", group, code, errs)
		}
	}
	if code, _, errs := cli(t, "accounts", "bogus"); code != 2 || !strings.Contains(errs, `unknown command "accounts bogus"`) {
		t.Errorf("accounts bogus: exit %d, %q", code, errs)
	}
}

func TestEachCommandsHelpShowsItsOwnFlags(t *testing.T) {
	help := func(args ...string) string {
		code, _, errs := cli(t, append(args, "-h")...)
		if code != 0 {
			t.Fatalf("%v -h: exit %d", args, code)
		}
		return errs
	}
	open := help("accounts", "open")
	for _, want := range []string{"open a customer account", "-organisation", "-tax-id", "-data-dir", "-store", "-postgres-url"} {
		if !strings.Contains(open, want) {
			t.Errorf("accounts open -h lacks %q", want)
		}
	}
	for _, serveOnly := range []string{"-listen", "-breaker-threshold", "-first-byte-timeout", "-redis-url", "-bootstrap-demo", "-invoice-font"} {
		if strings.Contains(open, serveOnly) {
			t.Errorf("accounts open -h shows serve's %s", serveOnly)
		}
	}
	if s := help("serve"); !strings.Contains(s, "-listen") || !strings.Contains(s, "-breaker-threshold") {
		t.Error("serve -h lost its flags")
	}
	if s := help("credits", "topup"); !strings.Contains(s, "-max-topup") || !strings.Contains(s, "-reference") {
		t.Error("credits topup -h lacks -max-topup or -reference")
	}
	if s := help("prices", "publish"); !strings.Contains(s, "-replace") || strings.Contains(s, "-listen") {
		t.Error("prices publish -h: want -replace, not serve's settings")
	}
	if s := help("invoices", "pdf"); !strings.Contains(s, "-invoice-font") || strings.Contains(s, "-listen") {
		t.Error("invoices pdf -h: want the invoice settings, not serve's")
	}
}

// A settings file written for serve works for the CLI too: serve's settings
// are ignored there, unknown ones still refused.
func TestOneSettingsFileServesServeAndTheCLI(t *testing.T) {
	dir := storeDir(t)
	cfg := filepath.Join(dir, "routefree.env")
	os.WriteFile(cfg, []byte("DATA_DIR="+dir+"\nLISTEN=127.0.0.1:9999\nBREAKER_THRESHOLD=3\n"), 0o600)
	if out := mustCLI(t, "accounts", "open", "--config", cfg, "--id", "acct_cfg", "--organisation", "Cfg"); strings.TrimSpace(out) != "acct_cfg" {
		t.Fatalf("accounts open printed %q", out)
	}
	os.WriteFile(cfg, []byte("DATA_DIR="+dir+"\nLISTENN=x\n"), 0o600)
	refusedCLI(t, `unknown setting "LISTENN"`, "accounts", "show", "--config", cfg, "--account", "acct_cfg")
}

type exported struct {
	Position   string          `json:"position"`
	Type       string          `json:"type"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
	Actor      *struct {
		Kind, ID, Role string
	} `json:"actor"`
}

func exportAll(t *testing.T, args ...string) []exported {
	t.Helper()
	var out []exported
	for _, line := range exportEvents(t, mustCLI(t, append([]string{"events", "export"}, args...)...)) {
		var e exported
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, e)
	}
	return out
}

// The corrections as an operator runs them: each refusal says why and
// records nothing; each change names the operating-system user who made it,
// and the export shows it.
func TestCLICorrectionsNameTheOperator(t *testing.T) {
	t.Setenv("SUDO_USER", "") // the operator is the process's user, even when the tests run under sudo
	store := []string{"--data-dir", storeDir(t)}
	with := func(args ...string) []string { return append(args, store...) }
	mustCLI(t, with("accounts", "open", "--id", "acct_c", "--organisation", "Corrections 公司")...)
	mustCLI(t, with("keys", "issue", "--account", "acct_c", "--name", "prod")...)
	before := len(exportAll(t, store...))
	refusedCLI(t, "at most NT$1000000", with("credits", "topup", "--account", "acct_c", "--amount", "1000000000000000000", "--reference", "big")...)
	refusedCLI(t, "whole number of New Taiwan dollars", with("credits", "topup", "--account", "acct_c", "--amount", "0.001", "--reference", "tiny")...)
	refusedCLI(t, "needs a non-zero amount and a reason", with("credits", "adjust", "--account", "acct_c", "--amount", "5")...)
	// Balances show to the cent: an adjustment finer than that (a typo, or
	// an exponent) would credit what no page shows.
	for _, amt := range []string{"0.000000000000000000000000000001", "-0.001", "12.345"} {
		refusedCLI(t, "has at most two decimal places", with("credits", "adjust", "--account", "acct_c", "--amount", amt, "--reason", "typo")...)
	}
	// An exponent is a slip, as in the console's money fields.
	refusedCLI(t, "is not a plain amount", with("credits", "adjust", "--account", "acct_c", "--amount", "1e-400", "--reason", "typo")...)
	refusedCLI(t, "needs a non-zero amount and a reason", with("credits", "adjust", "--account", "acct_c", "--amount", "-0", "--reason", "typo")...)
	// A discount multiplies every request's cost: one of 30 decimals would
	// make every cost, balance and usage event as long.
	for _, d := range []string{"0.000000000000000000000000000001", "0.12345"} {
		refusedCLI(t, "four decimal places", with("accounts", "plan", "--account", "acct_c", "--plan", "enterprise", "--volume-discount", d)...)
	}
	refusedCLI(t, "is not a plain amount", with("accounts", "plan", "--account", "acct_c", "--plan", "enterprise", "--volume-discount", "1e-400")...)
	refusedCLI(t, "is not suspended", with("accounts", "resume", "--account", "acct_c", "--reason", "x")...)
	refusedCLI(t, "suspending an account needs a reason", with("accounts", "suspend", "--account", "acct_c")...)
	refusedCLI(t, "--max-topup", with("credits", "topup", "--account", "acct_c", "--amount", "5", "--reference", "r", "--max-topup", "-1")...)
	if n := len(exportAll(t, store...)); n != before {
		t.Fatalf("refusals appended %d events", n-before)
	}
	mustCLI(t, with("credits", "topup", "--account", "acct_c", "--amount", "2000000", "--reference", "big-ok", "--max-topup", "5000000")...)
	mustCLI(t, with("credits", "adjust", "--account", "acct_c", "--amount", "-20.5", "--reason", "duplicate transfer")...)
	mustCLI(t, with("accounts", "suspend", "--account", "acct_c", "--reason", "chargeback")...)
	show := mustCLI(t, with("accounts", "show", "--account", "acct_c")...)
	for _, want := range []string{"Corrections 公司", "status        suspended", "balance       NT$1999979.5", "keys          1", "prod"} {
		if !strings.Contains(show, want) {
			t.Fatalf("accounts show lacks %q:\n%s", want, show)
		}
	}
	mustCLI(t, with("accounts", "resume", "--account", "acct_c", "--reason", "chargeback withdrawn")...)
	if show := mustCLI(t, with("accounts", "show", "--account", "acct_c")...); !strings.Contains(show, "status        active") {
		t.Fatalf("after resume:\n%s", show)
	}
	// Both reasons are in the history the export shows.
	reasons := map[string]string{}
	for _, e := range exportAll(t, store...) {
		var d struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal(e.Data, &d) == nil {
			reasons[e.Type] = d.Reason
		}
	}
	if reasons[domain.TypeAccountSuspended] != "chargeback" || reasons[domain.TypeAccountResumed] != "chargeback withdrawn" {
		t.Fatalf("exported reasons %v", reasons)
	}
	if _, _, help := cli(t, "accounts", "suspend", "-h"); !strings.Contains(help, "(required)") {
		t.Fatalf("accounts suspend -h does not say the reason is required:\n%s", help)
	}

	// Staff tokens: the last admin stays.
	out := mustCLI(t, with("staff", "issue", "--role", "admin", "--name", "Ada")...)
	if !strings.Contains(out, "token:    rf-staff-") {
		t.Fatalf("staff issue printed %q", out)
	}
	id := strings.Fields(strings.SplitN(out, "\n", 2)[0])[2]
	refusedCLI(t, "last admin token", with("staff", "revoke", "--token", id)...)
	fin := mustCLI(t, with("staff", "issue", "--role", "finance", "--name", "Fin")...)
	finID := strings.Fields(strings.SplitN(fin, "\n", 2)[0])[2]
	mustCLI(t, with("staff", "revoke", "--token", finID)...)
	list := mustCLI(t, with("staff", "list")...)
	if !strings.Contains(list, id) || !strings.Contains(list, "finance") || !strings.Contains(list, "by cli:") {
		t.Fatalf("staff list:\n%s", list)
	}
	// Who revoked a token is named as who issued it.
	for _, line := range strings.Split(list, "\n") {
		if strings.HasPrefix(line, finID) && !regexp.MustCompile(`revoked \S+ by cli:`).MatchString(line) {
			t.Fatalf("staff list does not name who revoked %s:\n%s", finID, line)
		}
	}

	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	commandEvents := 0
	for _, e := range exportAll(t, store...) {
		if e.Actor == nil {
			t.Fatalf("%s at %s exported without an actor", e.Type, e.Position)
		}
		if e.Actor.Kind != "cli" || e.Actor.ID != u.Username {
			t.Errorf("%s: actor %+v, want cli:%s", e.Type, *e.Actor, u.Username)
		}
		commandEvents++
	}
	// open, key and the slot it takes, top-up, adjustment, suspend, resume,
	// two staff tokens, a revocation
	if commandEvents != 10 {
		t.Fatalf("%d command events, want 10", commandEvents)
	}
}

// A million-event history is dated over the two months generate covers;
// the bug was visible from about 1,750 events on.
func TestGenerateSpreadsItsHistoryOverTwoMonths(t *testing.T) {
	if got := generatedAt(generateStart, 999_999, 1_000_000); got.Before(generateStart.Add(generateSpan-time.Minute)) || got.After(generateStart.Add(generateSpan)) {
		t.Fatalf("the last of a million events is dated %s, want just before %s", got, generateStart.Add(generateSpan))
	}
	if got := generatedAt(generateStart, 500_000, 1_000_000); !got.Equal(generateStart.Add(generateSpan / 2)) {
		t.Fatalf("the middle of a million events is dated %s", got)
	}
	store := []string{"--data-dir", t.TempDir()}
	mustCLI(t, append([]string{"events", "generate", "--events", "3000", "--accounts", "10"}, store...)...)
	var prev time.Time
	evs := exportAll(t, append([]string{"--type", "request.completed"}, store...)...)
	for _, e := range evs {
		if e.OccurredAt.Before(prev) || e.OccurredAt.Before(generateStart) || !e.OccurredAt.Before(generateStart.Add(generateSpan)) {
			t.Fatalf("event at %s dated %s (previous %s): outside the span or out of order", e.Position, e.OccurredAt, prev)
		}
		prev = e.OccurredAt
	}
	if last := evs[len(evs)-1].OccurredAt; last.Before(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the last generated request is dated %s, want the end of November", last)
	}
}

// serve's own work is the system's; a request of the admin API is the
// staff token's.
func TestServeRecordsItselfAndStaffAsActors(t *testing.T) {
	dir := t.TempDir()
	const adminToken = "rf-staff-test-admin-token-0123456789"
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir, "ROUTEFREE_ADMIN_TOKEN="+adminToken)
	p := startServe(t, env, "--bootstrap-demo")
	req, _ := http.NewRequest("POST", p.base+"/admin/api/accounts/acct_demo/suspend", strings.NewReader(`{"reason":"test"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("suspend: %d", resp.StatusCode)
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	byType := map[string]string{}
	for _, e := range exportAll(t, "--data-dir", dir) {
		if e.Actor == nil {
			t.Fatalf("%s exported without an actor", e.Type)
		}
		byType[e.Type] = e.Actor.Kind + ":" + e.Actor.ID + "/" + e.Actor.Role
	}
	for typ, want := range map[string]string{
		"prices.published":   "system:serve/",
		"account.opened":     "system:serve/",
		"credits.topped_up":  "system:serve/",
		"key.issued":         "system:serve/",
		"staff.token_issued": "system:serve/",
		"account.suspended":  "staff:stf_" + commands.HashKey(adminToken)[:16] + "/admin",
	} {
		if byType[typ] != want {
			t.Errorf("%s: actor %q, want %q", typ, byType[typ], want)
		}
	}
}

// Events recorded before actors were (schema v1) are read, folded and
// exported with the actor unknown.
func TestV1EventsExportWithTheActorUnknown(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	v1 := func(typ, body string) eventstore.EventData {
		return eventstore.EventData{ID: uuid.New(), Type: typ, SchemaVersion: 1, OccurredAt: at, Data: []byte(body)}
	}
	ctx := context.Background()
	for _, a := range []struct {
		stream string
		ev     eventstore.EventData
	}{
		{"account-acct_old", v1("account.opened", `{"account_id":"acct_old","organisation":"舊公司","plan":"starter","credit_limit":"0"}`)},
		{"topups-acct_old", v1("credits.topped_up", `{"account_id":"acct_old","amount":"300","method":"bank-transfer","reference":"old-1"}`)},
		{"account-acct_old", v1("account.suspended", `{"account_id":"acct_old","reason":"old"}`)},
	} {
		if _, err := s.Append(ctx, a.stream, eventstore.Any(), a.ev); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	for _, e := range exportAll(t, "--data-dir", dir) {
		if e.Actor == nil || e.Actor.Kind != "unknown" {
			t.Fatalf("v1 %s exported with actor %+v, want unknown", e.Type, e.Actor)
		}
	}
	// The old history still folds: the account shows, and resumes.
	mustCLI(t, "accounts", "resume", "--account", "acct_old", "--reason", "reviewed", "--data-dir", dir)
	show := mustCLI(t, "accounts", "show", "--account", "acct_old", "--data-dir", dir)
	if !strings.Contains(show, "balance       NT$300") || !strings.Contains(show, "status        active") {
		t.Fatalf("accounts show of a v1 history:\n%s", show)
	}
}

func TestCLIPricesAmendReplaceAndNeverThePast(t *testing.T) {
	dir := storeDir(t)
	store := []string{"--data-dir", dir}
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o600)
		return p
	}
	both := file("both.json", `{"routefree/echo":{"input":"1","output":"2"},"routefree/echo-embedding":{"input":"3","output":"4"}}`)
	one := file("one.json", `{"routefree/echo":{"input":"5","output":"6"}}`)
	mustCLI(t, append([]string{"prices", "publish", both}, store...)...)
	out := mustCLI(t, append([]string{"prices", "publish", one}, store...)...)
	if !strings.Contains(out, "v2 (amends the list") || !strings.Contains(out, "2 models, 1 priced by this file") {
		t.Fatalf("amend printed %q", out)
	}
	refusedCLI(t, "is in the past", append([]string{"prices", "publish", "--effective", "2020-01-01T00:00:00Z", one}, store...)...)
	out = mustCLI(t, append([]string{"prices", "publish", "--replace", one}, store...)...)
	if !strings.Contains(out, "replaces the list") || !strings.Contains(out, "no longer priced (requests for them get 404 and /models omits them): routefree/echo-embedding") {
		t.Fatalf("replace printed %q", out)
	}
	lists := exportAll(t, append([]string{"--type", "prices.published"}, store...)...)
	if len(lists) != 3 {
		t.Fatalf("%d price lists, want 3 (the refused one recorded nothing)", len(lists))
	}
	var amended struct {
		Prices  map[string]json.RawMessage `json:"prices"`
		Replace bool                       `json:"replace"`
	}
	json.Unmarshal(lists[1].Data, &amended)
	if len(amended.Prices) != 2 || amended.Replace {
		t.Fatalf("the amendment's stored list: %+v", amended)
	}
}

// An operator who runs the same adjustment again (shell history, a second
// operator on the same ticket) credited it twice. With --once the same key
// records it once; another key, or none, records another.
func TestCLIAdjustmentOncePerKey(t *testing.T) {
	store := []string{"--data-dir", storeDir(t)}
	with := func(args ...string) []string { return append(args, store...) }
	mustCLI(t, with("accounts", "open", "--id", "acct_once", "--organisation", "Once 公司")...)
	adjust := func(extra ...string) string {
		return mustCLI(t, with(append([]string{"credits", "adjust", "--account", "acct_once", "--amount", "100", "--reason", "ticket 4711"}, extra...)...)...)
	}
	adjust("--once", "T-4711")
	if out := adjust("--once", "T-4711"); !strings.Contains(out, "already recorded") {
		t.Errorf("the same key again says: %s", out)
	}
	adjust("--once", "T-4712")
	adjust()
	if show := mustCLI(t, with("accounts", "show", "--account", "acct_once")...); !strings.Contains(show, "balance       NT$300") {
		t.Fatalf("after four runs, three of them distinct:\n%s", show)
	}
}

// --once with a key that recorded another adjustment (another amount or
// reason) said "already recorded" and exited 0, so the adjustment meant
// was never made while the operator read that it was. It is refused,
// naming the adjustment the key recorded, and records nothing.
func TestCLIAdjustmentOnceRefusesAKeyOfAnotherAdjustment(t *testing.T) {
	store := []string{"--data-dir", storeDir(t)}
	with := func(args ...string) []string { return append(args, store...) }
	mustCLI(t, with("accounts", "open", "--id", "acct_once", "--organisation", "Once 公司")...)
	mustCLI(t, with("credits", "adjust", "--account", "acct_once", "--amount", "100", "--reason", "ticket 4711", "--once", "T-4711")...)
	code, out, errs := cli(t, with("credits", "adjust", "--account", "acct_once", "--amount", "250", "--reason", "ticket 4711", "--once", "T-4711")...)
	if code == 0 || strings.Contains(out, "already recorded") || !strings.Contains(errs, "T-4711") || !strings.Contains(errs, "NT$100") {
		t.Errorf("another amount under the same key: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if show := mustCLI(t, with("accounts", "show", "--account", "acct_once")...); !strings.Contains(show, "balance       NT$100") {
		t.Fatalf("after the refusal:\n%s", show)
	}
}

// Runs of one adjustment under one --once key at once (two operators on a
// ticket, a job retried while the first still ran) each said "recorded",
// though the store kept one: only the run that recorded it says so, each
// other that it was already recorded.
func TestCLIAdjustmentOnceRunsAtOnceSayWhichRecordedIt(t *testing.T) {
	dir := storeDir(t)
	env := baseEnv("")
	runCLI(t, env, "accounts", "open", "--id", "acct_twice", "--organisation", "Twice 公司", "--data-dir", dir)
	const runs = 6
	outs := make([]string, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(binary, "credits", "adjust", "--account", "acct_twice", "--amount", "3", "--reason", "ticket 88",
				"--once", "T-88", "--data-dir", dir)
			cmd.Env = env
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Errorf("run %d of the same adjustment: %v\n%s", i, err, errb.String())
			}
			outs[i] = out.String()
		}()
	}
	wg.Wait()
	recorded := 0
	for _, out := range outs {
		switch {
		case strings.HasPrefix(out, "recorded: "):
			recorded++
		case !strings.HasPrefix(out, "already recorded"):
			t.Errorf("a run of the same adjustment says: %s", out)
		}
	}
	if recorded != 1 {
		t.Errorf("%d of %d runs at once say they recorded the one adjustment:\n%s", recorded, runs, strings.Join(outs, ""))
	}
	if show := runCLI(t, env, "accounts", "show", "--account", "acct_twice", "--data-dir", dir); !strings.Contains(show, "balance       NT$3\n") {
		t.Errorf("after the runs of one key:\n%s", show)
	}
}

// A command run under sudo names the person who ran sudo, not root: the
// real binary, run with the environment sudo gives it. Without sudo, or
// when the command does not run as root, the user is the process's own.
func TestCLIUnderSudoNamesTheInvokingUser(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := storeDir(t)
	var env []string
	for _, kv := range baseEnv("") {
		if !strings.HasPrefix(kv, "SUDO_") {
			env = append(env, kv)
		}
	}
	runCLI(t, env, "accounts", "open", "--id", "acct_self", "--organisation", "自己公司", "--data-dir", dir)
	runCLI(t, append(env, "SUDO_USER=alice", "SUDO_UID=1000", "SUDO_COMMAND=/usr/local/bin/routefree"),
		"accounts", "open", "--id", "acct_sudo", "--organisation", "代理公司", "--data-dir", dir)
	want := map[string]string{"acct_self": u.Username, "acct_sudo": u.Username}
	if os.Geteuid() == 0 {
		want["acct_sudo"] = "alice (sudo)"
	}
	got := map[string]string{}
	for _, e := range exportAll(t, "--data-dir", dir) {
		var d struct {
			AccountID string `json:"account_id"`
		}
		if e.Type == domain.TypeAccountOpened && json.Unmarshal(e.Data, &d) == nil && e.Actor != nil && e.Actor.Kind == "cli" {
			got[d.AccountID] = e.Actor.ID
		}
	}
	for acct, id := range want {
		if got[acct] != id {
			t.Errorf("%s opened by cli:%q, want cli:%q", acct, got[acct], id)
		}
	}
}
