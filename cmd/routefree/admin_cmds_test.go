package main

// The operator's commands on accounts, keys, credits and prices: what they
// keep, what they refuse and how they say so.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A price file must give every model an input and an output price (an
// explicit "0" for a free model) and name only models of the catalog; a
// refused file records nothing.
func TestPricesPublishRefusesMissingPricesAndUnknownModels(t *testing.T) {
	dir := storeDir(t)
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	refusedCLI(t, "routefree/echo: no input price", "prices", "publish", file("noinput.json", `{"routefree/echo":{"output":"200"}}`), "--data-dir", dir)
	refusedCLI(t, "routefree/echo: no output price", "prices", "publish", file("nooutput.json", `{"routefree/echo":{"input":"200"}}`), "--data-dir", dir)
	refusedCLI(t, "nosuch/model, other/model", "prices", "publish",
		file("unknown.json", `{"nosuch/model":{"input":"1","output":"2"},"other/model":{"input":"1","output":"2"},"routefree/echo":{"input":"1","output":"2"}}`), "--data-dir", dir)
	if out := mustCLI(t, "events", "export", "--data-dir", dir); out != "" {
		t.Fatalf("refused price lists recorded:\n%s", out)
	}
	out := mustCLI(t, "prices", "publish", file("free.json", `{"routefree/echo":{"input":"0","output":"0"}}`), "--data-dir", dir)
	if !strings.Contains(out, "published price list v1") {
		t.Fatalf("a free model's prices: %q", out)
	}
}
