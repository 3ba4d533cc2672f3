package main

import (
	"bufio"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A newcomer runs the gateway as the README's first command does, with
// `go run ./cmd/routefree serve --bootstrap-demo`, where no `routefree`
// is on the PATH: started again on the same store, the commands it prints
// for a new key and a new admin token begin as it was run, and work when
// pasted into a shell at the repository's root.
func TestCommandsPrintedUnderGoRunWorkAsPrinted(t *testing.T) {
	dir := t.TempDir()
	env := baseEnv("http://127.0.0.1:1")
	first := startServe(t, env, "--data-dir", dir, "--bootstrap-demo")
	if code := first.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}

	cmd := exec.Command("go", "run", "./cmd/routefree", "serve", "--listen", "127.0.0.1:0", "--data-dir", dir, "--bootstrap-demo")
	cmd.Dir = "../.."
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if listenLine.MatchString(sc.Text()) {
			break
		}
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)

	for _, re := range []string{`a new API key:\s+(.+?)\s+\(`, `a new admin token:\s+(.+?)\s+\(`, `issue another key with: (.+)`} {
		m := regexp.MustCompile(re).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no line matching %s:\n%s", re, out.String())
		}
		sh := exec.Command("sh", "-c", m[1])
		sh.Dir = "../.."
		sh.Env = env
		got, err := sh.CombinedOutput()
		if err != nil || (!strings.Contains(string(got), "sk-rf-") && !strings.Contains(string(got), "rf-staff-")) {
			t.Errorf("the printed command %q: %v\n%s", m[1], err, got)
		}
	}
}
