package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNodeClients runs the real client libraries of clients/ (the OpenAI
// and OpenRouter SDKs, the AI SDK's OpenRouter provider, LangChain, the
// Anthropic SDK) under `node --test` against the real binary, serving
// routefree/echo from cmd/fakeupstream -auto (which answers tool calls and
// structured output), google/gemini-2.5-flash from a Gemini-format one, and
// anthropic/claude-sonnet-4.6 from an Anthropic-format one (which thinks,
// signs its thinking and holds requests to Anthropic's rule for it), with
// a cap on each account's live keys that a second account's management
// key, with a spending limit, is tested against. It
// needs node and npm: without them it skips, unless
// ROUTEFREE_REQUIRE_SERVICES=1.
func TestNodeClients(t *testing.T) {
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if r := os.Getenv("ROUTEFREE_REQUIRE_SERVICES"); r == "1" || r == "all" {
			t.Fatal("node and npm are needed for the client tests and ROUTEFREE_REQUIRE_SERVICES=1: install Node.js 20 or later")
		}
		t.Skip("node or npm not found: the client tests of clients/ need Node.js 20 or later")
	}
	clients, err := filepath.Abs(filepath.Join("..", "..", "clients"))
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, npm, clients)

	up := startFakeUpstream(t, "openai")
	claude := strings.TrimSuffix(startFakeUpstream(t, "anthropic"), "/v1")
	gemini := strings.TrimSuffix(startFakeUpstream(t, "gemini"), "/v1")
	// Every account may hold at most maxKeys live keys: acct_demo's tests
	// hold at most five at a time, acct_capped's fill it.
	const maxKeys = "8"
	env := append(baseEnv(up), "ANTHROPIC_BASE_URL="+claude, "ANTHROPIC_API_KEY=sk-fake", "GEMINI_BASE_URL="+gemini, "GEMINI_API_KEY=fake",
		"ROUTEFREE_MAX_KEYS_PER_ACCOUNT="+maxKeys)
	store := []string{"--data-dir", t.TempDir()}
	key := prepareDemo(t, env, store, 100000, "")
	issue := func(args ...string) string {
		issued := runCLI(t, env, append(append([]string{"keys", "issue", "--management"}, args...), store...)...)
		k := regexp.MustCompile(`sk-rf-[A-Za-z0-9_-]+`).FindString(issued)
		if k == "" {
			t.Fatalf("keys issue printed no key: %s", issued)
		}
		return k
	}
	mgmt := issue("--account", "acct_demo", "--name", "provisioning")
	// A management key whose NT$10 a month the keys it makes share.
	runCLI(t, env, append([]string{"accounts", "open", "--id", "acct_capped", "--organisation", "Capped"}, store...)...)
	capped := issue("--account", "acct_capped", "--name", "capped provisioning", "--spend-limit", "10")
	p := startServe(t, env, store...)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=tap")
	cmd.Dir = clients
	cmd.Env = append(os.Environ(), "ROUTEFREE_BASE_URL="+p.base+"/api/v1", "ROUTEFREE_KEY="+key,
		"ROUTEFREE_MANAGEMENT_KEY="+mgmt, "ROUTEFREE_CAPPED_MANAGEMENT_KEY="+capped, "ROUTEFREE_MAX_KEYS_PER_ACCOUNT="+maxKeys, "ROUTEFREE_MODEL=routefree/echo", "ROUTEFREE_CLAUDE_MODEL=anthropic/claude-sonnet-4.6",
		"ROUTEFREE_GEMINI_MODEL=google/gemini-2.5-flash")
	out, err := cmd.CombinedOutput()
	summary := regexp.MustCompile(`(?m)^# (tests|pass|fail|skipped|todo|cancelled) \d+$`).FindAllString(string(out), -1)
	t.Logf("node --test: %s", strings.Join(summary, ", "))
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	// Every client test runs here: one that skips (a missing key, say) fails the run.
	if regexp.MustCompile(`(?m)^# skipped [1-9]`).Match(out) {
		t.Fatalf("node --test skipped tests:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^# fail 0$`).Match(out) || !regexp.MustCompile(`(?m)^# pass [1-9]`).Match(out) {
		t.Fatalf("node --test passed nothing or failed:\n%s", out)
	}
}

// npmCI installs clients/ from its lock file, unless node_modules already
// holds exactly that install (as after .ci/run's own npm ci).
func npmCI(t *testing.T, npm, dir string) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if inst, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil && !inst.ModTime().Before(lock.ModTime()) {
		return
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

var fakeLine = regexp.MustCompile(`fake (\w+) upstream on (http://\S+) `)

// startFakeUpstream builds and starts cmd/fakeupstream -auto of a kind
// (openai, anthropic) on a free port and returns its base URL for the
// catalog.
func startFakeUpstream(t *testing.T, kind string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fakeupstream")
	if out, err := exec.Command("go", "build", "-o", bin, "../fakeupstream").CombinedOutput(); err != nil {
		t.Fatalf("go build fakeupstream: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-kind", kind, "-auto", "-reject-tool-name", "-chunks", "4")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := fakeLine.FindStringSubmatch(sc.Text()); m != nil && m[1] == kind {
				found <- m[2] + "/v1"
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("fakeupstream did not start")
		return ""
	}
}
