package commands

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// racingStore is a real store on which another writer's change lands right
// after the first read of one stream: the moment a command has read the
// account and not yet appended what it decided.
type racingStore struct {
	eventstore.Store
	stream string
	once   sync.Once
	other  func()
}

func (s *racingStore) ReadStream(ctx context.Context, stream string, from uint64, max int) ([]eventstore.RecordedEvent, error) {
	evs, err := s.Store.ReadStream(ctx, stream, from, max)
	if stream == s.stream {
		s.once.Do(s.other)
	}
	return evs, err
}

// An operator's plan change (`accounts plan --rpm`) and finance's credit
// limit, made at the same moment from two processes, are both kept: the
// plan change does not put back the credit limit it read before finance's
// change landed.
func TestPlanChangeKeepsAConcurrentCreditLimit(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	acct := mustOpen(t, ctx, h, domain.PlanEnterprise)
	if err := h.SetCreditLimit(ctx, acct, dec("1000")); err != nil {
		t.Fatal(err)
	}
	finance := &Handler{Store: h.Store, Now: h.Now} // another process on the store
	racing := &racingStore{Store: h.Store, stream: domain.AccountStream(acct), other: func() {
		if err := finance.SetCreditLimit(ctx, acct, dec("5000")); err != nil {
			t.Error(err)
		}
	}}
	operator := &Handler{Store: racing, Now: h.Now}
	if _, err := operator.UpdatePlan(ctx, acct, func(pc *domain.PlanChanged) error { pc.RPM = 100; return nil }); err != nil {
		t.Fatal(err)
	}
	st, err := h.AccountState(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if st.RPM != 100 || !st.CreditLimit.Equal(dec("5000")) {
		t.Fatalf("after a plan change beside finance's credit limit: rpm %d, credit limit %s; want rpm 100 and finance's 5000", st.RPM, st.CreditLimit)
	}
}

// Finance's credit limit, set while an operator's plan change lands from
// another process, is recorded on the newer terms rather than refused as a
// conflict: it changes the credit limit alone.
func TestCreditLimitBesideAConcurrentPlanChange(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	acct := mustOpen(t, ctx, h, domain.PlanEnterprise)
	operator := &Handler{Store: h.Store, Now: h.Now} // another process on the store
	racing := &racingStore{Store: h.Store, stream: domain.AccountStream(acct), other: func() {
		if _, err := operator.UpdatePlan(ctx, acct, func(pc *domain.PlanChanged) error { pc.RPM = 100; return nil }); err != nil {
			t.Error(err)
		}
	}}
	finance := &Handler{Store: racing, Now: h.Now}
	if err := finance.SetCreditLimit(ctx, acct, dec("5000")); err != nil {
		t.Fatalf("credit limit beside a plan change: %v", err)
	}
	st, err := h.AccountState(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if st.RPM != 100 || !st.CreditLimit.Equal(dec("5000")) {
		t.Fatalf("after both: rpm %d, credit limit %s; want the operator's rpm 100 and finance's 5000", st.RPM, st.CreditLimit)
	}
}

// A command that decides on a stream's state (an operator's suspend,
// resume, revoke or disable; a data requirement, an invoice carrier, a
// rankings choice, a key's new name or limit) is recorded even when another process appends
// an unrelated change to the same stream between its read and its append
// (the customer listing the account in the rankings, renaming the key):
// it decides again on the newer state instead of failing with "wrong
// expected version", which says nothing an operator can act on.
func TestOperatorCommandsBesideAConcurrentChange(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// prepare returns the stream raced on, the other process's change
		// and the command under test.
		prepare func(h *Handler) (stream string, other func(*Handler) error, command func(*Handler) error)
	}{
		{"accounts suspend", func(h *Handler) (string, func(*Handler) error, func(*Handler) error) {
			acct := mustOpen(t, ctx, h, domain.PlanStarter)
			return domain.AccountStream(acct),
				func(o *Handler) error { return o.SetRankingsListed(ctx, acct, true) },
				func(c *Handler) error { return c.SuspendAccount(ctx, acct, "chargeback") }
		}},
		{"accounts resume", func(h *Handler) (string, func(*Handler) error, func(*Handler) error) {
			acct := mustOpen(t, ctx, h, domain.PlanStarter)
			if err := h.SuspendAccount(ctx, acct, "chargeback"); err != nil {
				t.Fatal(err)
			}
			return domain.AccountStream(acct),
				func(o *Handler) error { return o.SetRankingsListed(ctx, acct, true) },
				func(c *Handler) error { return c.ResumeAccount(ctx, acct, "withdrawn") }
		}},
		{"keys revoke", func(h *Handler) (string, func(*Handler) error, func(*Handler) error) {
			id := mustKey(t, ctx, h)
			return domain.KeyStream(id),
				func(o *Handler) error { return o.ChangeKey(ctx, domain.KeyChanged{KeyID: id, Name: "renamed"}, nil) },
				func(c *Handler) error { return c.RevokeKey(ctx, id) }
		}},
		{"keys disable", func(h *Handler) (string, func(*Handler) error, func(*Handler) error) {
			id := mustKey(t, ctx, h)
			return domain.KeyStream(id),
				func(o *Handler) error { return o.ChangeKey(ctx, domain.KeyChanged{KeyID: id, Name: "renamed"}, nil) },
				func(c *Handler) error { return c.SetKeyDisabled(ctx, id, true) }
		}},
		{"data requirement", func(h *Handler) (string, func(*Handler) error, func(*Handler) error) {
			acct := mustOpen(t, ctx, h, domain.PlanStarter)
			return domain.AccountStream(acct),
				func(o *Handler) error { return o.SetRankingsListed(ctx, acct, true) },
				func(c *Handler) error {
					return c.SetDataRequirement(ctx, domain.DataRequirementSet{AccountID: acct, Residency: "tw"})
				}
		}},
		{"invoice carrier", func(h *Handler) (string, func(*Handler) error, func(*Handler) error) {
			acct := mustOpen(t, ctx, h, domain.PlanStarter)
			return domain.AccountStream(acct),
				func(o *Handler) error { return o.SuspendAccount(ctx, acct, "chargeback") },
				func(c *Handler) error {
					return c.SetInvoiceCarrier(ctx, domain.InvoiceCarrierSet{AccountID: acct, DonationCode: "919"})
				}
		}},
		{"rankings", func(h *Handler) (string, func(*Handler) error, func(*Handler) error) {
			acct := mustOpen(t, ctx, h, domain.PlanStarter)
			return domain.AccountStream(acct),
				func(o *Handler) error { return o.SuspendAccount(ctx, acct, "chargeback") },
				func(c *Handler) error { return c.SetRankingsListed(ctx, acct, true) }
		}},
		{"key change", func(h *Handler) (string, func(*Handler) error, func(*Handler) error) {
			id := mustKey(t, ctx, h)
			return domain.KeyStream(id),
				func(o *Handler) error { return o.SetKeyDisabled(ctx, id, true) },
				func(c *Handler) error { return c.ChangeKey(ctx, domain.KeyChanged{KeyID: id, Name: "renamed"}, nil) }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandler(t)
			stream, other, command := tc.prepare(h)
			// A revocation also gives back the key's slot, in its account's
			// key-slot stream: the count is of the other streams.
			recorded := func() int {
				n := 0
				for _, e := range all(t, h) {
					if !strings.HasPrefix(e.Stream, "keyslots-") {
						n++
					}
				}
				return n
			}
			before := recorded()
			o := &Handler{Store: h.Store, Now: h.Now} // another process on the store
			racing := &racingStore{Store: h.Store, stream: stream, other: func() {
				if err := other(o); err != nil {
					t.Error(err)
				}
			}}
			if err := command(&Handler{Store: racing, Now: h.Now}); err != nil {
				t.Fatalf("%s beside a concurrent change: %v", tc.name, err)
			}
			if n := recorded(); n != before+2 {
				t.Fatalf("%d events recorded, want the other change and the command's", n-before)
			}
		})
	}
}

func mustKey(t *testing.T, ctx context.Context, h *Handler) string {
	t.Helper()
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	id, _, err := h.IssueKey(ctx, domain.KeyIssued{AccountID: acct, Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
