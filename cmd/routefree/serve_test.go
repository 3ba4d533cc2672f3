package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serveExits runs serve, which must exit by itself, and returns its exit
// code and output.
func serveExits(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve"}, args...)...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("serve %v did not exit\n%s", args, e.String())
	}
	return cmd.ProcessState.ExitCode(), o.String(), e.String()
}

// A busy port stops serve before it makes a store or prints a secret it
// would never show again.
func TestServeBindsBeforeItSetsUp(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	env := baseEnv("http://127.0.0.1:1/v1")
	for _, flags := range [][]string{
		{"--listen", busy.Addr().String()},
		{"--listen", "127.0.0.1:0", "--debug-listen", busy.Addr().String()},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		code, out, errs := serveExits(t, env, append(flags, "--data-dir", dir, "--bootstrap-demo")...)
		if code == 0 || !strings.Contains(errs, "address already in use") {
			t.Fatalf("serve %v on a busy port: exit %d\n%s", flags, code, errs)
		}
		if strings.Contains(out, "sk-rf-") || strings.Contains(out, "rf-staff-") {
			t.Fatalf("serve %v printed secrets before failing:\n%s", flags, out)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("serve %v made %s before failing: %v", flags, dir, err)
		}
	}
}

// Bad upstream base URLs stop serve at start, named by their variables,
// with the other problems of the configuration.
func TestServeReportsBadBaseURLs(t *testing.T) {
	env := append(baseEnv("::not a url"), "OPENAI_BASE_URL=ftp//x", "OPENAI_API_KEY=sk-x")
	dir := filepath.Join(t.TempDir(), "data")
	code, _, errs := serveExits(t, env, "--data-dir", dir, "--listen", "127.0.0.1:0", "--log-level", "loud")
	if code != 2 {
		t.Fatalf("serve with bad base URLs: exit %d\n%s", code, errs)
	}
	for _, want := range []string{`ROUTEFREE_FAKE_UPSTREAM_URL="::not a url"`, `OPENAI_BASE_URL="ftp//x"`, `--log-level "loud"`} {
		if !strings.Contains(errs, want) {
			t.Errorf("serve's error does not name %s:\n%s", want, errs)
		}
	}
	if strings.Count(errs, "OPENAI_BASE_URL") != 1 {
		t.Errorf("OPENAI_BASE_URL reported more than once:\n%s", errs)
	}
}

// A demo credit that no top-up could be stops serve before it makes a
// store: a negative or fractional one opened the demo account and then
// failed its top-up, and the next start said the demo key and the first
// admin token had been printed when neither had. Amounts of settings are
// written plainly, as the CLI's and the console's are.
func TestServeRefusesADemoCreditNoTopUpCouldBe(t *testing.T) {
	env := baseEnv("http://127.0.0.1:1/v1")
	for _, c := range []struct {
		flags []string
		says  string
	}{
		{[]string{"--demo-credit", "-5"}, `--demo-credit "-5"`},
		{[]string{"--demo-credit", "0.5"}, `--demo-credit "0.5"`},
		{[]string{"--demo-credit", "0"}, `--demo-credit "0"`},
		{[]string{"--demo-credit", "1e3"}, `--demo-credit "1e3"`},
		{[]string{"--demo-credit", "5000", "--max-topup", "1000"}, `--demo-credit "5000"`},
		{[]string{"--max-topup", "1e6"}, `--max-topup "1e6"`},
		{[]string{"--low-balance", "+100"}, `--low-balance "+100"`},
	} {
		dir := filepath.Join(t.TempDir(), "data")
		code, out, errs := serveExits(t, env, append(c.flags, "--data-dir", dir, "--listen", "127.0.0.1:0", "--bootstrap-demo")...)
		if code != 2 || !strings.Contains(errs, c.says) {
			t.Errorf("serve %v: exit %d, want 2 naming %s\n%s", c.flags, code, c.says, errs)
		}
		if strings.Contains(out, "sk-rf-") || strings.Contains(out, "rf-staff-") {
			t.Errorf("serve %v printed secrets before failing:\n%s", c.flags, out)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("serve %v made %s before failing: %v", c.flags, dir, err)
		}
	}
}
