package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// `keys issue --management` records a management key; without the flag a
// key is an ordinary one.
func TestKeysIssueManagement(t *testing.T) {
	ctx := context.Background()
	dir := storeDir(t)
	cli := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(ctx, append(args, "--data-dir", dir), &out, &errb); code != 0 {
			t.Fatalf("routefree %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}
	cli("accounts", "open", "--id", "acct_cli", "--organisation", "命令列公司")
	scopes := map[string]bool{}
	for _, mgmt := range []bool{true, false} {
		args := []string{"keys", "issue", "--account", "acct_cli", "--name", "k"}
		if mgmt {
			args = append(args, "--management")
		}
		var id string
		for _, line := range strings.Split(cli(args...), "\n") {
			if v, ok := strings.CutPrefix(line, "key id:"); ok {
				id = strings.TrimSpace(v)
			}
		}
		var ev struct {
			Data struct {
				Management bool `json:"management"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(exportEvents(t, cli("events", "export", "--stream", "key-"+id))[0]), &ev); err != nil {
			t.Fatalf("export of key-%s: %v", id, err)
		}
		scopes[id] = ev.Data.Management
		if ev.Data.Management != mgmt {
			t.Errorf("key issued with --management=%v records management=%v", mgmt, ev.Data.Management)
		}
	}
	if len(scopes) != 2 {
		t.Fatalf("keys %v", scopes)
	}
}
