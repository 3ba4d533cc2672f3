package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The merchant comes from the environment only: a partial setting stops
// serve with every missing variable named, and no flag or config key
// carries a merchant setting.
func TestServePaymentsFromEnvironmentOnly(t *testing.T) {
	cmd := exec.Command(binary, "serve", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "ROUTEFREE_ECPAY_MERCHANT_ID=3002607")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { defer close(done); out, err = cmd.CombinedOutput() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("serve started with half a merchant")
	}
	if err == nil || !strings.Contains(string(out), "ROUTEFREE_ECPAY_HASH_KEY") || !strings.Contains(string(out), "ROUTEFREE_ECPAY_HASH_IV") {
		t.Fatalf("serve with half a merchant: %v\n%s", err, out)
	}
	fs, _ := newFlags("serve", io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		if strings.Contains(strings.ToLower(f.Name), "ecpay") || strings.Contains(strings.ToLower(f.Name), "hash") {
			t.Errorf("flag --%s carries a merchant setting", f.Name)
		}
	})
}
