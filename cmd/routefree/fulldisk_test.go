package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/routefree/routefree/gateway/providers/providertest"
)

// TestServeRidesOutAFullDisk: the data directory's disk fills under a
// running serve (its files may grow no further: RLIMIT_FSIZE set on the
// running process, as a full disk refuses writes), then space comes back.
// Meanwhile no request is answered without its usage event, the answers
// keep the error shape, the serve stays up; once writes succeed again it
// serves and bills without a restart, and the history verifies and bills
// exactly the answered requests.
func TestServeRidesOutAFullDisk(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("prlimit is missing: install util-linux")
	}
	up := fakeUpstream(t, providertest.Script{Text: "full disk", Chunks: 2})
	env := baseEnv(up)
	store := []string{"--data-dir", t.TempDir()}
	key := prepareDemo(t, env, store, 100000, "1000")
	p := startServe(t, env, store...)
	answered := 0
	ask := func() int {
		st := chatStatus(p.base, key)
		if st == http.StatusOK {
			answered++
		}
		return st
	}
	for range 3 {
		if st := ask(); st != http.StatusOK {
			t.Fatalf("before the disk fills: %d", st)
		}
	}
	limit := func(v string) {
		t.Helper()
		if out, err := exec.Command("prlimit", "--pid", fmt.Sprint(p.cmd.Process.Pid), "--fsize="+v).CombinedOutput(); err != nil {
			t.Fatalf("prlimit --fsize=%s: %v %s", v, err, out)
		}
	}
	limit("4096:unlimited") // the soft limit: raising it back needs no privilege
	refused := 0
	for range 20 {
		switch st := ask(); st {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			refused++
		default:
			t.Fatalf("with the disk full: status %d", st)
		}
	}
	if refused == 0 {
		t.Fatal("every request was answered with the disk full: its usage cannot have been written")
	}
	// A stream has sent its headers before its usage is written: it must
	// not end as a whole answer ([DONE]) when the usage could not be.
	for range 3 {
		if o := chat(t.Context(), p.base, key, true, 16); o.complete {
			t.Fatalf("a stream ended whole with the disk full: %+v", o)
		}
	}
	t.Logf("with the disk full: %d of 20 requests refused with 503", refused)
	limit("unlimited:unlimited")
	waitFor(t, 30*time.Second, func() bool { return ask() == http.StatusOK })
	for range 3 {
		if st := ask(); st != http.StatusOK {
			t.Fatalf("after space came back: %d", st)
		}
	}
	balance := keyBalance(t, p.base, key)
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	replay := runCLI(t, env, append([]string{"replay"}, store...)...)
	if !strings.Contains(replay, "HASH CHAIN  OK") {
		t.Fatalf("the chain after the full disk:\n%s", replay)
	}
	usage := exportEvents(t, runCLI(t, env, append([]string{"events", "export", "--type", "request.completed"}, store...)...))
	if len(usage) != answered {
		t.Fatalf("%d requests answered, %d billed", answered, len(usage))
	}
	if !strings.Contains(replay, balance.String()) {
		t.Fatalf("balance %s served; replay:\n%s", balance, replay)
	}
}
