package commands

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// storedKey appends a key as an older version could have issued it,
// bypassing today's checks.
func storedKey(t *testing.T, h *Handler, acct, name string) string {
	t.Helper()
	k := &domain.KeyIssued{KeyID: "key_" + randomID(12), AccountID: acct, Hash: HashKey(randomID(20)), Prefix: "sk-rf-abcdef…", Name: name}
	d, err := Event(uuid.New(), t0, k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.Append(context.Background(), domain.KeyStream(k.KeyID), eventstore.NoStream(), d); err != nil {
		t.Fatal(err)
	}
	return k.KeyID
}

// A key is issued under the same name rules as a change: a name too long
// or with control characters is refused, the directional overrides and
// isolates among them, which would show one key's name as another's in
// the lists and confirmation steps staff read; none at all gets the key's
// ID.
func TestIssueKeyNameRules(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	n := len(all(t, h))
	for _, name := range []string{strings.Repeat("x", 201), "nul\x00byte", "tab\there", "bad\xffutf8", "test\u202e dorp", "a\u2066b", "x\u202ay\u202c"} {
		_, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: name})
		wantRefused(t, h, n, err, ErrInvalid, "name")
		err = h.ChangeKey(ctx, domain.KeyChanged{KeyID: storedKey(t, h, acct, "ok"), Name: name}, nil)
		n++ // the stored key
		wantRefused(t, h, n, err, ErrInvalid, "name")
	}
	// A joiner inside an emoji, or a right-to-left mark, stays.
	for _, name := range []string{"👩\u200d👩\u200d👧 team", "שלום\u200f key"} {
		if _, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: name}); err != nil {
			t.Fatalf("key named %q: %v", name, err)
		}
	}
	// 200 characters, not bytes: a Chinese name of 200 characters is 600 bytes.
	long := strings.Repeat("金", 200)
	id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "  " + long + " "})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := h.Key(ctx, id); err != nil || st.Key.Name != long {
		t.Fatalf("key named with 200 characters: %q %v", st.Key.Name, err)
	}
	for _, name := range []string{"", "   "} {
		id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := h.Key(ctx, id); err != nil || st.Key.Name != id {
			t.Fatalf("key issued without a name is named %q, want its ID %q (%v)", st.Key.Name, id, err)
		}
	}
}

// A change that keeps a key's name is not refused for the name an older
// version stored: such a key can still get a new limit.
func TestChangeKeyKeepsAStoredNameItWouldRefuse(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	for _, name := range []string{"", strings.Repeat("x", 5000), "nul\x00byte"} {
		id := storedKey(t, h, acct, name)
		if err := h.ChangeKey(ctx, domain.KeyChanged{KeyID: id, Name: name, SpendLimit: dec("1")}, nil); err != nil {
			t.Fatalf("new limit on a key named %.20q: %v", name, err)
		}
		st, err := h.Key(ctx, id)
		if err != nil || !st.Key.SpendLimit.Equal(dec("1")) || st.Key.Name != name {
			t.Fatalf("key after the change: %+v %v", st.Key, err)
		}
		// Renaming it to an empty name is still refused.
		if name != "" {
			n := len(all(t, h))
			wantRefused(t, h, n, h.ChangeKey(ctx, domain.KeyChanged{KeyID: id, Name: " "}, nil), ErrInvalid, "a key needs a name")
		}
	}
}

// A stored zero limit means none: a caller giving a limit of zero is
// refused rather than given an unlimited key.
func TestGivenSpendLimit(t *testing.T) {
	for _, c := range []struct {
		given *decimal.Decimal
		want  string // "" when accepted
		limit string
	}{
		{nil, "", "0"},
		{ptr(dec("5")), "", "5"},
		{ptr(dec("0.0001")), "", "0.0001"},
		{ptr(dec("0")), "null", ""},
		{ptr(dec("0.000")), "null", ""},
		{ptr(dec("-1")), "negative", ""},
	} {
		got, err := GivenSpendLimit(c.given)
		if c.want == "" {
			if err != nil || !got.Equal(dec(c.limit)) {
				t.Errorf("GivenSpendLimit(%v) = %s, %v", c.given, got, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("GivenSpendLimit(%v): %v, want an invalid error saying %q", c.given, err, c.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
