package main

// Helpers that run the real routefree binary as a subprocess, as an operator
// would, against a fake upstream on loopback.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

var binary string // the routefree binary TestMain built

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "routefree-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "routefree")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeUpstream serves the catalog's routefree/echo model.
func fakeUpstream(t *testing.T, s providertest.Script) string {
	t.Helper()
	srv := httptest.NewServer(providertest.NewFake(providertest.KindOpenAI, s, false))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// baseEnv is the subprocess environment: the test's own ROUTEFREE_*
// variables (service URLs for the tests) are removed so that only what a
// test passes configures the binary.
func baseEnv(upstream string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROUTEFREE_") {
			env = append(env, kv)
		}
	}
	return append(env, "ROUTEFREE_FAKE_UPSTREAM_URL="+upstream, "ROUTEFREE_FAKE_UPSTREAM_KEY=sk-fake", "ROUTEFREE_LOG_LEVEL=warn")
}

// runCLI runs a one-shot subcommand and returns its stdout.
func runCLI(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("routefree %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// proc is one running `routefree serve`.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string // http://host:port
	demoKey string
	logs    *testenv.Buffer
	out     *testenv.Buffer // stdout, line by line
	exited  chan struct{}
	exitErr error
}

var listenLine = regexp.MustCompile(`RouteFree gateway on (http://[^/\s]+)/api/v1`)
var demoLine = regexp.MustCompile(`demo key \(shown once\): (\S+)`)

// startServe starts `routefree serve` on a free port and waits until it
// listens. The process is killed at the end of the test if still running.
func startServe(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p, up := launchServe(t, env, args...)
	p.waitListening(up)
	return p
}

// launchServe starts `routefree serve` and returns at once, with a channel
// closed when it listens: several instances can then start together.
func launchServe(t *testing.T, env []string, args ...string) (*proc, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = env
	p := &proc{t: t, cmd: cmd, logs: &testenv.Buffer{}, out: &testenv.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.out.Write([]byte(line + "\n"))
			if m := demoLine.FindStringSubmatch(line); m != nil {
				p.demoKey = m[1]
			}
			if m := listenLine.FindStringSubmatch(line); m != nil {
				p.base = m[1]
				close(up)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { p.exitErr = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("routefree logs (last 4 kB):\n%s", tail(p.logs.String(), 4096))
		}
	})
	return p, up
}

// waitListening waits until the launched process listens (up closed).
func (p *proc) waitListening(up <-chan struct{}) {
	p.t.Helper()
	select {
	case <-up:
	case <-p.exited:
		p.t.Fatalf("routefree serve exited: %v\n%s", p.exitErr, p.logs.String())
	case <-time.After(60 * time.Second):
		p.t.Fatalf("routefree serve did not start\n%s", p.logs.String())
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// signal sends sig and waits for the exit; it returns the exit code.
func (p *proc) stop(sig syscall.Signal, within time.Duration) int {
	p.t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(within):
		p.t.Fatalf("routefree did not exit within %s of %v", within, sig)
	}
	return p.cmd.ProcessState.ExitCode()
}

// client is shared by the load generators.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}, Timeout: 60 * time.Second}

// outcome is what one client saw of one chat request.
type outcome struct {
	id       string
	status   int
	complete bool            // a 200 with the whole body, or a stream that ended with [DONE]
	cost     decimal.Decimal // unary: the cost the response reported
	at       time.Time       // when the client was done with it
	err      error
}

// chat sends one request and reads the whole answer.
func chat(ctx context.Context, base, key string, stream bool, maxTokens int) outcome {
	body := fmt.Sprintf(`{"model":"routefree/echo","stream":%t,"max_tokens":%d,"messages":[{"role":"user","content":"hello"}]}`, stream, maxTokens)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer resp.Body.Close()
	o := outcome{id: resp.Header.Get("X-Request-Id"), status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return o
	}
	if !stream {
		var r struct {
			ID      string `json:"id"`
			Choices []any  `json:"choices"`
			Usage   *struct {
				Cost decimal.Decimal `json:"cost"`
			} `json:"usage"`
		}
		if o.err = json.NewDecoder(resp.Body).Decode(&r); o.err == nil {
			o.complete = r.ID == o.id && len(r.Choices) > 0 && r.Usage != nil
			if r.Usage != nil {
				o.cost = r.Usage.Cost
			}
		}
		return o
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "data: [DONE]" {
			o.complete = true
		}
	}
	o.err = sc.Err()
	return o
}

// keyBalance is GET /api/v1/key's balance.
func keyBalance(t *testing.T, base, key string) decimal.Decimal {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/key", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Balance decimal.Decimal `json:"balance"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/key: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r.Data.Balance
}

// getStatus returns the status of a GET (0 when the request failed).
func getStatus(url string) int {
	resp, err := client.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// completedEvents reads every request.completed event: request ID → count.
func completedEvents(t *testing.T, s eventstore.Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	eachEvent(t, s, domain.TypeRequestCompleted, func(data []byte) {
		var rc domain.RequestCompleted
		if err := json.Unmarshal(data, &rc); err != nil {
			t.Fatal(err)
		}
		out[rc.RequestID]++
	})
	return out
}

// eachEvent calls fn with the body of every stored event of type typ, in
// the order of the store.
func eachEvent(t *testing.T, s eventstore.Store, typ string, fn func(data []byte)) {
	t.Helper()
	for pos := eventstore.Start; ; {
		evs, err := s.ReadAll(context.Background(), pos, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return
		}
		for _, e := range evs {
			if e.Type == typ {
				fn(e.Data)
			}
		}
		pos = evs[len(evs)-1].Position
	}
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// prepareDemo bootstraps the demo account on a store (sqlite data dir or
// postgres args), lifts its limits and tops it up, with serve stopped, as
// an operator would. It returns the demo key.
func prepareDemo(t *testing.T, env []string, storeArgs []string, rpm int, credit string) string {
	t.Helper()
	p := startServe(t, env, append(storeArgs, "--bootstrap-demo")...)
	if p.demoKey == "" {
		t.Fatal("serve --bootstrap-demo printed no key")
	}
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	runCLI(t, env, append([]string{"accounts", "plan", "--account", "acct_demo", "--plan", "enterprise",
		"--rpm", fmt.Sprint(rpm), "--tpm", "1000000000"}, storeArgs...)...)
	if credit != "" {
		runCLI(t, env, append([]string{"credits", "topup", "--account", "acct_demo", "--amount", credit, "--max-topup", credit,
			"--method", "adjustment", "--reference", "test-" + t.Name()}, storeArgs...)...)
	}
	return p.demoKey
}

// metric reads one unlabelled series from /metrics (-1 when absent).
func metric(base, name string) float64 {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f
			}
		}
	}
	return -1
}

// quiesce waits until the gateway has finished every request (requests the
// load generator abandoned are still billed for what they delivered) and its
// projections are at the store's head, so balances can be compared.
func quiesce(t *testing.T, base string) {
	t.Helper()
	waitFor(t, 30*time.Second, func() bool {
		return metric(base, "routefree_http_in_flight") == 1 && getStatus(base+"/readyz") == http.StatusOK
	})
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
