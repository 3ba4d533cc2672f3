package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// serve issues invoices as it runs (top-ups) and answers their PDFs: started
// without the operator's seller, it says at start that its documents carry
// the development seller and QR key, naming the variables to set, as the
// invoice commands do; started with every one of them set, it says nothing
// of it.
func TestServeWarnsOfTheDevelopmentSeller(t *testing.T) {
	env := append(baseEnv("http://127.0.0.1:1"), "ROUTEFREE_LOG_LEVEL=warn")

	dir := t.TempDir()
	p := startServe(t, env, "--data-dir", dir, "--bootstrap-demo")
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	logs := p.logs.String()
	for _, want := range []string{"development seller", "ROUTEFREE_SELLER_NAME", "ROUTEFREE_SELLER_TAX_ID", "ROUTEFREE_INVOICE_AES_KEY"} {
		if !strings.Contains(logs, want) {
			t.Errorf("serve on the development seller does not say %q:\n%s", want, tail(logs, 4096))
		}
	}
	if out, _ := runCLIErr(append(env, "ROUTEFREE_DATA_DIR="+dir), "invoices", "list"); !strings.Contains(out, "ROUTEFREE_SELLER_NAME") {
		t.Errorf("invoices list on the development seller does not name ROUTEFREE_SELLER_NAME:\n%s", out)
	}

	own := append(env,
		"ROUTEFREE_SELLER_NAME=範例雲端股份有限公司", "ROUTEFREE_SELLER_TAX_ID=22099131",
		"ROUTEFREE_SELLER_ADDRESS=臺北市中正區重慶南路一段122號", "ROUTEFREE_SELLER_PHONE=02-2311-0000",
		"ROUTEFREE_SELLER_EMAIL=billing@example.tw", "ROUTEFREE_SELLER_CONTACT=王會計",
		"ROUTEFREE_SELLER_RESPONSIBLE=林大明", "ROUTEFREE_SELLER_BANK_ACCOUNT=第一銀行 城內分行 123-456789-01",
		"ROUTEFREE_INVOICE_AES_KEY=0123456789ABCDEF0123456789ABCDEF")
	p = startServe(t, own, "--data-dir", t.TempDir(), "--bootstrap-demo")
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d", code)
	}
	if logs := p.logs.String(); strings.Contains(logs, "development") {
		t.Errorf("serve with the operator's seller warns of the development one:\n%s", tail(logs, 4096))
	}
	if out, _ := runCLIErr(append(own, "ROUTEFREE_DATA_DIR="+dir), "invoices", "list"); strings.Contains(out, "development") {
		t.Errorf("invoices list with the operator's seller warns of the development one:\n%s", out)
	}
}
