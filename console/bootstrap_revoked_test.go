package console

import (
	"strings"
	"testing"
)

// An operator who revoked the token ROUTEFREE_ADMIN_TOKEN names (it
// leaked, say) and left the variable set saw serve refuse to start with
// the store's words, "conflict: staff token stf_… was revoked", and no
// word of what to do. Serve still refuses (the token is not made valid
// again), saying that the variable names a revoked token and what to do.
func TestBootstrapRefusesARevokedEnvironmentTokenSayingWhatToDo(t *testing.T) {
	e := newEnv(t, false)
	const secret = "rf-env-admin-token-revoked-0123456789"
	t.Setenv(AdminTokenEnv, secret)
	var out strings.Builder
	if err := Bootstrap(e.ctx, e.deps, &out); err != nil {
		t.Fatal(err)
	}
	var id string
	for _, tk := range e.views.StaffTokens() {
		if tk.Name == AdminTokenEnv {
			id = tk.ID
		}
	}
	if code, body := e.call("POST", "/admin/api/staff/tokens/"+id+"/revoke", e.admin, nil); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	e.sync()

	err := Bootstrap(e.ctx, e.deps, &out)
	if err == nil {
		t.Fatal("a revoked ROUTEFREE_ADMIN_TOKEN was accepted")
	}
	for _, want := range []string{AdminTokenEnv, "revoked", id, "unset it or set a new token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the refusal shows the token: %q", err)
	}
	if code, _ := e.call("GET", "/admin/api/accounts", secret, nil); code != 401 {
		t.Errorf("the revoked token signs in after the refusal: %d", code)
	}
}
