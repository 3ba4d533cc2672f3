package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

func init() {
	register("accounts show", "show an account: plan, balance, credit, keys", cmdAccountsShow)
	register("accounts suspend", "suspend an account, with a reason: every key of it is refused", cmdAccountsSuspend)
	register("accounts resume", "lift an account's suspension, with a reason", cmdAccountsResume)
	register("accounts update", "correct an account's organisation, 統一編號, address or contact, with a reason", cmdAccountsUpdate)
	register("credits adjust", "correct a balance up or down, with a reason", cmdCreditsAdjust)
	register("staff issue", "issue a staff token (admin, finance or auditor; shown once)", cmdStaffIssue)
	register("staff revoke", "revoke a staff token (never the last admin's)", cmdStaffRevoke)
	register("staff list", "list the staff tokens and who issued them", cmdStaffList)
}

// required is the problem of a flag that must be given and was not (or
// was given blank).
func required(name, v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("--%s is required", name)
	}
	return nil
}

// needs is the check of a command whose one flag name (v) must be given.
func needs(name string, v *string) func() []error {
	return func() []error { return []error{required(name, *v)} }
}

func cmdAccountsShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("accounts show", stderr)
	acct := fs.String("account", "", "account ID")
	if err := parse(fs, c, args, needs("account", acct)); err != nil {
		return err
	}
	store, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	h := commands.New(store)
	st, err := h.AccountState(ctx, *acct)
	if err != nil {
		return err
	}
	// Balance and keys as the gateway sees them: its own projections,
	// caught up with the history.
	m := projections.NewModels(nil)
	r, err := projections.NewRunner(store, watermill.NopLogger{}, m.Balances, m.Keys)
	if err != nil {
		return err
	}
	if err := r.CatchUp(ctx); err != nil {
		return err
	}
	v, _ := m.Balances.View(*acct, "", time.Now())
	status := "active"
	if st.Suspended {
		status = "suspended"
	}
	fmt.Fprintf(stdout, "account       %s\norganisation  %s\n", st.AccountID, st.Organisation)
	if st.TaxID != "" {
		fmt.Fprintf(stdout, "tax ID        %s\n", st.TaxID)
	}
	if st.Address != "" {
		fmt.Fprintf(stdout, "address       %s\n", st.Address)
	}
	if st.Contact != "" {
		fmt.Fprintf(stdout, "contact       %s\n", st.Contact)
	}
	fmt.Fprintf(stdout, "plan          %s\nstatus        %s\n", st.Plan, status)
	fmt.Fprintf(stdout, "balance       NT$%s\ncredit limit  NT$%s\navailable     NT$%s\nthis month    NT$%s\n",
		v.Balance, st.CreditLimit, v.Available(), v.MonthSpend)
	if st.RPM > 0 || st.TPM > 0 || !st.VolumeDiscount.IsZero() {
		fmt.Fprintf(stdout, "custom        rpm %d, tpm %d, volume discount %s\n", st.RPM, st.TPM, st.VolumeDiscount)
	}
	keys := m.Keys.ByAccount(*acct)
	fmt.Fprintf(stdout, "keys          %d\n", len(keys))
	for _, k := range keys {
		state := "active"
		switch {
		case k.Revoked:
			state = "revoked"
		case k.Disabled:
			state = "disabled"
		}
		limit := "no limit"
		if k.SpendLimit.IsPositive() {
			limit = fmt.Sprintf("NT$%s %s", k.SpendLimit, k.SpendPeriod)
		}
		models := "all models"
		if len(k.Models) > 0 {
			models = fmt.Sprint(k.Models)
		}
		if k.Management { // issues and revokes the account's keys, calls no model
			models += ", management"
		}
		fmt.Fprintf(stdout, "  %s  %-10s %-8s %s, %s  %s\n", k.KeyID, k.Prefix, state, limit, models, k.Name)
	}
	return nil
}

func cmdAccountsSuspend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("accounts suspend", stderr)
	acct := fs.String("account", "", "account ID")
	reason := fs.String("reason", "", "why the account is suspended (required)")
	if err := parse(fs, c, args, needs("account", acct)); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		if err := h.SuspendAccount(ctx, *acct, *reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is suspended\n", *acct)
		return nil
	})
}

func cmdAccountsResume(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("accounts resume", stderr)
	acct := fs.String("account", "", "account ID")
	reason := fs.String("reason", "", "why the suspension ends (required)")
	if err := parse(fs, c, args, needs("account", acct)); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		if err := h.ResumeAccount(ctx, *acct, *reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is resumed: its keys work again\n", *acct)
		return nil
	})
}

func cmdAccountsUpdate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("accounts update", stderr)
	acct := fs.String("account", "", "account ID")
	org := fs.String("organisation", "", "organisation name, as invoices print it (default: unchanged)")
	taxID := fs.String("tax-id", "", "統一編號: B2B invoices from now on; empty: B2C (default: unchanged)")
	address := fs.String("address", "", "postal address (default: unchanged)")
	contact := fs.String("contact", "", "contact person or e-mail (default: unchanged)")
	reason := fs.String("reason", "", "why the details change (required; recorded with the change)")
	if err := parse(fs, c, args, needs("account", acct)); err != nil {
		return err
	}
	// A flag given sets its field, empty too; one not given keeps it.
	change := commands.DetailsChange{Reason: *reason}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "organisation":
			change.Organisation = org
		case "tax-id":
			change.TaxID = taxID
		case "address":
			change.Address = address
		case "contact":
			change.Contact = contact
		}
	})
	return withHandler(ctx, c, func(h *commands.Handler) error {
		was, now, err := h.ChangeAccountDetails(ctx, *acct, change)
		if err != nil {
			return err
		}
		changes := commands.Changes(was, now)
		if len(changes) == 0 {
			fmt.Fprintf(stdout, "nothing to change: %s has these details already; nothing was recorded\n", *acct)
			return nil
		}
		fmt.Fprintf(stdout, "%s corrected (%s):\n", *acct, *reason)
		for _, ch := range changes {
			fmt.Fprintf(stdout, "  %-13s %s → %s\n", ch.Field, orDash(ch.Was), orDash(ch.Now))
		}
		return nil
	})
}

// orDash shows an empty detail as a dash.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func cmdCreditsAdjust(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("credits adjust", stderr)
	var a domain.CreditsAdjusted
	var amount string
	fs.StringVar(&a.AccountID, "account", "", "account ID")
	fs.StringVar(&amount, "amount", "", "NTD to add (negative: to take back)")
	fs.StringVar(&a.Reason, "reason", "", "why (required; recorded with the adjustment, for staff only)")
	fs.StringVar(&a.Description, "description", "", "what the customer is shown (default: a neutral \"Credit adjustment\")")
	once := fs.String("once", "", "record it once for this key (a ticket number, say): the same key again records nothing more")
	reverses := fs.String("reverses", "", "the ID of an adjustment of this account recorded by mistake, which this one undoes (--amount is its amount negated)")
	if err := parse(fs, c, args, func() []error {
		var amountErr, reversesErr error
		a.Amount, amountErr = requiredAmount("amount", amount)
		if *reverses != "" {
			var err error
			if a.Reverses, err = uuid.Parse(strings.TrimSpace(*reverses)); err != nil || a.Reverses == uuid.Nil {
				reversesErr = fmt.Errorf("--reverses %s is not an adjustment's ID (as `credits adjust` printed it)", domain.Quote(*reverses))
			}
		}
		return []error{required("account", a.AccountID), amountErr, reversesErr, onceProblem(once)}
	}); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		h.MaxTopUp = c.maxTopUp()
		key := ""
		if *once != "" {
			key = "cli-adjust\x00" + *once
			if done, err := h.AdjustedOnce(ctx, a.AccountID, key); err != nil {
				return err
			} else if done {
				// The same adjustment records nothing more; another one
				// under this key is refused rather than said to be done.
				var reused *commands.OnceConflict
				if err := h.AdjustOnce(ctx, a, key); errors.As(err, &reused) {
					return fmt.Errorf("--once %s already recorded another adjustment of %s: NT$%s (%s); nothing is recorded: give this one a key of its own",
						*once, a.AccountID, reused.Recorded.Amount, reused.Recorded.Reason)
				} else if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "already recorded: the adjustment of %s for --once %s; nothing more is recorded\n", a.AccountID, *once)
				return nil
			}
		}
		id, recorded, err := h.AdjustOnceRecorded(ctx, a, key)
		if err != nil {
			return err
		}
		if !recorded { // another run of this key recorded it a moment before
			fmt.Fprintf(stdout, "already recorded: the adjustment of %s for --once %s; nothing more is recorded\n", a.AccountID, *once)
			return nil
		}
		fmt.Fprintf(stdout, "recorded: adjustment of NT$%s to %s (%s), ID %s\n", a.Amount, a.AccountID, a.Reason, id)
		if a.Reverses != uuid.Nil {
			fmt.Fprintf(stdout, "it reverses adjustment %s\n", a.Reverses)
		}
		if !a.Amount.IsPositive() {
			return nil
		}
		adviseCreditOffset(ctx, h.Store, a.AccountID, stdout, stderr)
		return nil
	})
}

// adviseCreditOffset prints the allowance to issue when credit given
// offsets invoiced usage the account still owes (docs/invoicing-ledger.md):
// credit alone does not forgive what an invoice bills. The credit is
// recorded by then: a failure to read the invoices is a warning, not an
// exit status that would have the operator record it again.
func adviseCreditOffset(ctx context.Context, store eventstore.Store, acct string, stdout, stderr io.Writer) {
	// The ledger is only read: no document is issued, whatever the seller.
	svc, err := invoicing.New(store, invoicing.Config{Seller: invoicing.DevSeller()})
	var o invoicing.CreditOffset
	if err == nil {
		o, err = svc.CreditOffset(ctx, acct, decimal.Zero)
	}
	if err != nil {
		fmt.Fprintf(stderr, "routefree: warning: recorded, but the invoiced usage it may offset could not be read: %v\n", err)
		return
	}
	if advice := o.Advice(); advice != "" {
		fmt.Fprintln(stdout, advice)
	}
	if o.Next != "" {
		fmt.Fprintf(stdout, "run: %s\n", o.Next)
	}
}

func cmdStaffIssue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("staff issue", stderr)
	role := fs.String("role", "", "admin, finance or auditor")
	name := fs.String("name", "", "whose token it is, e.g. a person's name")
	if err := parse(fs, c, args); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		id, secret, err := h.IssueStaffToken(ctx, *role, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token id: %s\nrole:     %s\ntoken:    %s\n(the token is shown once; only its hash is stored)\n", id, *role, secret)
		return nil
	})
}

func cmdStaffRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("staff revoke", stderr)
	id := fs.String("token", "", "staff token ID (stf_…)")
	if err := parse(fs, c, args, needs("token", id)); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		if err := h.RevokeStaffToken(ctx, *id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", *id)
		return nil
	})
}

func cmdStaffList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("staff list", stderr)
	if err := parse(fs, c, args); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		tokens, err := h.ListStaffTokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			state := "active"
			if t.Revoked {
				state = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
				if t.RevokedBy != nil {
					state += " by " + t.RevokedBy.String()
				}
			}
			fmt.Fprintf(stdout, "%s  %-8s %-20s issued %s by %s  %s\n", t.TokenID, t.Role, t.Name,
				t.IssuedAt.UTC().Format(time.RFC3339), t.IssuedBy, state)
		}
		return nil
	})
}

// returnedHeld is the money returned for allowances on usage acct had paid
// that it still holds (invoicing.Service.ReturnedHeld); zero, with a
// warning, when the ledger cannot be read.
func returnedHeld(ctx context.Context, store eventstore.Store, acct string, stderr io.Writer) decimal.Decimal {
	// The ledger is only read: no document is issued, whatever the seller.
	svc, err := invoicing.New(store, invoicing.Config{Seller: invoicing.DevSeller()})
	var held decimal.Decimal
	if err == nil {
		held, err = svc.ReturnedHeld(ctx, acct)
	}
	if err != nil {
		fmt.Fprintf(stderr, "routefree: warning: the money returned to %s that a move to a prepaid plan invoices could not be read: %v\n", acct, err)
	}
	return held
}

// onceProblem reads a --once key as domain.OnceKey does, in place: the
// ticket typed in full width, with a space before it or its accent
// decomposed is the key typed before. A key holding a character that shows
// nothing is refused.
func onceProblem(once *string) error {
	key, bad := domain.OnceKey(*once)
	if bad != 0 {
		return fmt.Errorf("--once %s holds a character that shows nothing (U+%04X): type the key again", domain.Quote(*once), bad)
	}
	*once = key
	return nil
}
