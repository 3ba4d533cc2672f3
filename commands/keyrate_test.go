package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routefree/routefree/domain"
)

// settable is a clock tests move.
type settable struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settable) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settable) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// issueAndRevoke issues a key as ctx's actor and revokes it at once: a
// loop of them keeps no key live.
func issueAndRevoke(ctx context.Context, h *Handler, acct, name string) error {
	id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: name})
	if err != nil {
		return err
	}
	return h.RevokeKey(ctx, id)
}

// A customer's key issuing and revoking keys in a loop is stopped at the
// account's bound on keys made in an hour, though no key stays live: the
// next is refused with when the next key can be made, and writes nothing.
// The window slides: once the first keys are an hour old, as many more
// can be made. Staff and the CLI are neither bound nor counted, and a
// person signed in by single sign-on is bound as a key is.
func TestKeysMadeInAnHourAreBounded(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	clk := &settable{t: t0}
	h.Now, h.MaxNewKeysPerHour = clk.Now, 3
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	other := mustOpen(t, ctx, h, domain.PlanStarter)
	cust := asKey("key_mgmt")
	if err := issueAndRevoke(cust, h, acct, "a"); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(20 * time.Minute))
	for _, name := range []string{"b", "c"} {
		if err := issueAndRevoke(cust, h, acct, name); err != nil {
			t.Fatal(err)
		}
	}
	clk.set(t0.Add(30 * time.Minute))
	before := len(all(t, h))
	_, _, err := h.IssueKey(cust, domain.KeyIssued{AccountID: acct, Name: "d"})
	wantRefused(t, h, before, err, ErrKeyRate, "made 3 keys in the last hour")
	var rate *KeyRateError
	if !errors.As(err, &rate) || !rate.Next.Equal(t0.Add(time.Hour)) || rate.RetryAfterSeconds() != 30*60 {
		t.Fatalf("refusal %#v, want the next key at %s, in 1800 seconds", rate, t0.Add(time.Hour))
	}
	for _, says := range []string{acct, "at most 3", t0.Add(time.Hour).Format(time.RFC3339), "in 1800 seconds", "--max-new-keys-per-hour", "ROUTEFREE_MAX_NEW_KEYS_PER_HOUR"} {
		if !strings.Contains(err.Error(), says) {
			t.Errorf("refusal %q does not say %q", err, says)
		}
	}
	// Checked without writing (an app's approval), it is refused alike.
	if err := h.CheckIssue(cust, domain.KeyIssued{AccountID: acct, Name: "d"}); !errors.Is(err, ErrKeyRate) {
		t.Fatalf("CheckIssue: %v, want the bound's refusal", err)
	}
	// Another account is not held to this one's keys; staff and the CLI
	// are not held to it, and their keys do not count.
	if err := issueAndRevoke(cust, h, other, "theirs"); err != nil {
		t.Fatalf("another account: %v", err)
	}
	staff := domain.WithActor(ctx, domain.Actor{Kind: domain.ActorStaff, ID: "stf_1", Role: "admin"})
	cli := domain.WithActor(ctx, domain.Actor{Kind: domain.ActorCLI, ID: "ops"})
	for _, by := range []context.Context{staff, cli} {
		if err := issueAndRevoke(by, h, acct, "by the operator"); err != nil {
			t.Fatalf("%v: %v", domain.ActorFrom(by), err)
		}
	}
	member := domain.WithActor(ctx, domain.Actor{Kind: domain.ActorMember, ID: "oidc:alice"})
	if _, _, err := h.IssueKey(member, domain.KeyIssued{AccountID: acct, Name: "d"}); !errors.Is(err, ErrKeyRate) {
		t.Fatalf("a person signed in: %v, want the bound's refusal", err)
	}
	// An hour after the first key, one more; the other two an hour after
	// theirs.
	clk.set(t0.Add(time.Hour))
	if err := issueAndRevoke(cust, h, acct, "d"); err != nil {
		t.Fatalf("an hour after the first key: %v", err)
	}
	_, _, err = h.IssueKey(cust, domain.KeyIssued{AccountID: acct, Name: "e"})
	if !errors.As(err, &rate) || !rate.Next.Equal(t0.Add(80*time.Minute)) {
		t.Fatalf("a second key an hour after the first: %v, want refused until %s", err, t0.Add(80*time.Minute))
	}
}

// Raising a key's limit takes its slot again, and an account's first
// issue takes slots for its keys from before slots were kept: neither is
// a key made, so neither counts towards the bound.
func TestSlotsTakenAgainAreNotKeysMade(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	h.MaxNewKeysPerHour = 3
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	// Written as an older release wrote them: the key's stream alone.
	for i := range 3 {
		k := domain.KeyIssued{KeyID: fmt.Sprint("key_old", i), AccountID: acct, Hash: fmt.Sprint("h", i), Prefix: "sk-rf-old…"}
		if _, err := h.append(ctx, domain.KeyStream(k.KeyID), expectAfter(-1), domain.EventID(domain.TypeKeyIssued, k.KeyID), &k); err != nil {
			t.Fatal(err)
		}
	}
	// The account's first issue, by one of those keys, takes their slots.
	if _, _, err := h.IssueKey(asKey("key_old0"), domain.KeyIssued{AccountID: acct, Name: "first"}); err != nil {
		t.Fatal(err)
	}
	// A management key with a limit, made by staff, makes a key with a
	// smaller limit and raises it twice.
	staff := domain.WithActor(ctx, domain.Actor{Kind: domain.ActorStaff, ID: "stf_1", Role: "admin"})
	mgmt, _, err := h.IssueKey(staff, domain.KeyIssued{AccountID: acct, Name: "contractor", Management: true, SpendLimit: dec("1000"), SpendPeriod: "monthly"})
	if err != nil {
		t.Fatal(err)
	}
	cust := asKey(mgmt)
	child, _, err := h.IssueKey(cust, domain.KeyIssued{AccountID: acct, Name: "child", SpendLimit: dec("100"), SpendPeriod: "monthly"})
	if err != nil {
		t.Fatalf("a second key made in the hour, after three slots taken for older keys: %v", err)
	}
	for _, limit := range []string{"200", "300"} {
		raise := domain.KeyChanged{KeyID: child, AccountID: acct, Name: "child", SpendLimit: dec(limit), SpendPeriod: "monthly"}
		if err := h.ChangeKey(cust, raise, nil); err != nil {
			t.Fatalf("raise to %s: %v", limit, err)
		}
	}
	if _, _, err := h.IssueKey(cust, domain.KeyIssued{AccountID: acct, Name: "third"}); err != nil {
		t.Fatalf("a third key made in the hour, after two raises: %v", err)
	}
	if _, _, err := h.IssueKey(cust, domain.KeyIssued{AccountID: acct, Name: "fourth"}); !errors.Is(err, ErrKeyRate) {
		t.Fatalf("a fourth key made in the hour: %v, want the bound's refusal", err)
	}
}

// Processes on one store, each with a customer's key issuing and revoking
// keys of one account in a loop at once, make no more keys together than
// the bound: SQLite and PostgreSQL.
func TestTheKeyRateHoldsAcrossProcesses(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			s, reopen := kind.open(t)
			setup := &Handler{Store: s, Now: func() time.Time { return t0 }}
			acct := mustOpen(t, ctx, setup, domain.PlanStarter)
			const limit, procs, each = 5, 4, 4
			var wg sync.WaitGroup
			var mu sync.Mutex
			made, refused := 0, 0
			for p := range procs {
				h := &Handler{Store: reopen(), Now: setup.Now, MaxNewKeysPerHour: limit}
				for i := range each {
					wg.Go(func() {
						err := issueAndRevoke(asKey("key_mgmt"), h, acct, fmt.Sprint("p", p, "-", i))
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							made++
						case errors.Is(err, ErrKeyRate):
							refused++
						default:
							t.Errorf("issue: %v", err)
						}
					})
				}
			}
			wg.Wait()
			issued := 0
			for _, e := range all(t, &Handler{Store: reopen()}) {
				if e.Type == domain.TypeKeyIssued {
					issued++
				}
			}
			if made != limit || refused != procs*each-limit || issued != limit {
				t.Fatalf("%d made, %d refused, %d key.issued; want %d made and issued, %d refused", made, refused, issued, limit, procs*each-limit)
			}
		})
	}
}
