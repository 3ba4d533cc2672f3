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

// A partial merchant stops serve with every missing variable named, and no
// flag carries a merchant setting (process lists would show its keys).
func TestServePaymentsNeedTheWholeMerchant(t *testing.T) {
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
	// The config file completes what the environment gives.
	conf := writeFile(t, "routefree.env", "ROUTEFREE_ECPAY_HASH_KEY=pwFHCqoQZGmho4w6\n")
	env := append(baseEnv("http://127.0.0.1:1/v1"), "ROUTEFREE_ECPAY_MERCHANT_ID=3002607")
	code, _, errs := serveExits(t, env, "--config", conf, "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")
	if code == 0 || strings.Contains(errs, "ROUTEFREE_ECPAY_HASH_KEY") || !strings.Contains(errs, "ROUTEFREE_ECPAY_HASH_IV") {
		t.Fatalf("serve with the hash key in its config file: exit %d\n%s", code, errs)
	}
	fs, _ := newFlags("serve", io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		if strings.Contains(strings.ToLower(f.Name), "ecpay") || strings.Contains(strings.ToLower(f.Name), "hash") {
			t.Errorf("flag --%s carries a merchant setting", f.Name)
		}
	})
}
