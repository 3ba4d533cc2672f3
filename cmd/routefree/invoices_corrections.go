package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

// The corrections of issued documents, as the admin API and the console
// make them: a void, an allowance (折讓) and an allowance's void. Each
// prints what to do next, since none of them is the whole correction.
func init() {
	register("invoices void", "void (作廢) an invoice with a reason, within its period's void window, or past it a special void (專案作廢) the tax office approved; its amount is billed again by a re-issue", cmdInvoicesVoid)
	register("invoices allowance", "issue an allowance (折讓) on an invoice: an amount in whole NTD, tax included, and a reason", cmdInvoicesAllowance)
	register("invoices allowance-void", "void an allowance with a reason: its invoice bills the amount again", cmdInvoicesAllowanceVoid)
}

func cmdInvoicesVoid(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices void", stderr)
	number := fs.String("number", "", "invoice number, e.g. AB12345678")
	period := fs.String("period", "", "the invoice's two-month period, e.g. 2026-11: needed when the number was issued in more than one period")
	reason := fs.String("reason", "", "why it is voided, at most 20 characters (F0501's CancelReason; required)")
	approval := fs.String("special-approval", "", "past the void window: the tax office's approval reference (核准文號) of a special void (專案作廢), at most 60 characters")
	approvedOn := fs.String("approved-on", "", "with --special-approval: the day the tax office approved it, YYYY-MM-DD")
	lessFlag := fs.String("less", "", "a monthly invoice's amount to take off its re-issue, whole NTD with tax included: given back to the buyer as by an allowance, which a buyer without a 統一編號 takes none of before the period is filed")
	special := false
	var less int64
	if err := parse(fs, c, args, func() []error {
		problems := []error{required("number", *number), required("reason", *reason)}
		special = *approval != "" || *approvedOn != ""
		if special && (strings.TrimSpace(*approval) == "" || strings.TrimSpace(*approvedOn) == "") {
			problems = append(problems, errors.New("--special-approval and --approved-on go together: the approval reference and the day of the tax office's approval"))
		}
		if *lessFlag != "" {
			var err error
			if less, err = strconv.ParseInt(*lessFlag, 10, 64); err != nil || less <= 0 {
				problems = append(problems, fmt.Errorf("--less %s: want a positive whole number of NTD, tax included, such as 300", domain.Quote(*lessFlag)))
			}
			if special {
				problems = append(problems, errors.New("--less is for a void within the window: a special void re-issues the whole amount"))
			}
		}
		return problems
	}); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		ref := invoicing.InvoiceRef(*period, *number)
		var inv invoicing.Invoice
		var err error
		if special {
			inv, err = svc.SpecialVoid(ctx, ref, *reason, domain.SpecialVoid{Approval: *approval, ApprovedOn: *approvedOn})
		} else {
			inv, err = svc.VoidLess(ctx, ref, *reason, less)
		}
		var live *invoicing.LiveAllowancesError
		var late *invoicing.VoidWindowError
		switch {
		case errors.As(err, &live):
			return fmt.Errorf("%w; for each: routefree invoices allowance-void --number ALLOWANCE --reason …", err)
		case errors.As(err, &late):
			return fmt.Errorf("%w; once the tax office approves it: routefree invoices void --number %s --reason … --special-approval 文號 --approved-on YYYY-MM-DD", err, late.Number)
		case err != nil:
			return err
		}
		fmt.Fprintf(stdout, "voided %s  %s NT$%d: %s\n", twrules.PrintedNumber(inv.Number), inv.AccountID, inv.Total, inv.VoidReason)
		if sv := inv.Special; sv != nil {
			fmt.Fprintf(stdout, "special void (專案作廢) approved on %s: %s\n", sv.ApprovedOn, sv.Approval)
		}
		if inv.TopUpRef != "" {
			fmt.Fprintln(stdout, "its payments are invoiced again by: routefree invoices topups (serve does it at once)")
		} else {
			fmt.Fprintf(stdout, "its usage is pending until re-issued: routefree invoices issue --account %s --month %s (else the next monthly close)\n", inv.AccountID, inv.Month)
		}
		if inv.VoidLess > 0 {
			// As an allowance, it leaves the balance as it is: finance
			// credits what it gives back (docs/invoicing-ledger.md).
			fmt.Fprintf(stdout, "the re-issue bills NT$%d less; the balance is unchanged: credit it with routefree credits adjust --account %s --amount %d --reason 'void %s less'\n",
				inv.VoidLess, inv.AccountID, inv.VoidLess, inv.Number)
		}
		return nil
	})
}

func cmdInvoicesAllowance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices allowance", stderr)
	number := fs.String("number", "", "invoice number, e.g. AB12345678")
	period := fs.String("period", "", "the invoice's two-month period, e.g. 2026-11: needed when the number was issued in more than one period")
	amount := fs.String("amount", "", "the amount allowed, whole NTD with tax included, e.g. 210 (required)")
	reason := fs.String("reason", "", "why, as the allowance prints it (required)")
	once := fs.String("once", "", "a key of this allowance (a ticket number): run again under it, the command issues nothing more and names the allowance it issued")
	var amt int64
	if err := parse(fs, c, args, func() []error {
		problems := []error{required("number", *number), required("amount", *amount), required("reason", *reason), onceProblem(once)}
		if *amount != "" {
			var err error
			if amt, err = strconv.ParseInt(*amount, 10, 64); err != nil || amt <= 0 {
				problems = append(problems, fmt.Errorf("--amount %s: want a positive whole number of NTD, tax included, such as 210", domain.Quote(*amount)))
			}
		}
		return problems
	}); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		al, recorded, err := svc.IssueAllowanceOnce(ctx, invoicing.InvoiceRef(*period, *number), amt, *reason, *once)
		if err != nil {
			return err
		}
		inv, err := svc.AllowanceInvoice(al.Number)
		if err != nil {
			return err
		}
		if !recorded {
			fmt.Fprintf(stdout, "--once %s already issued allowance %s on %s: NT$%d (%s); nothing more issued; the invoice bills NT$%d now\n",
				*once, al.Number, twrules.PrintedNumber(inv.Number), al.Sales+al.Tax, al.Reason, inv.Net())
			return nil
		}
		fmt.Fprintf(stdout, "allowance %s on %s: NT$%d (sales %d + tax %d); the invoice bills NT$%d now\n",
			al.Number, twrules.PrintedNumber(inv.Number), al.Sales+al.Tax, al.Sales, al.Tax, inv.Net())
		// An allowance leaves the balance as it is (docs/invoicing-ledger.md):
		// on a monthly invoice, finance credits what it allows.
		if inv.TopUpRef == "" {
			fmt.Fprintf(stdout, "the balance is unchanged: credit it with routefree credits adjust --account %s --amount %d --reason 'allowance %s'\n",
				inv.AccountID, al.Sales+al.Tax, al.Number)
		}
		return nil
	})
}

func cmdInvoicesAllowanceVoid(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices allowance-void", stderr)
	number := fs.String("number", "", "allowance number, e.g. 11511AB123456781")
	reason := fs.String("reason", "", "why it is voided, at most 20 characters (G0501's CancelReason; required)")
	if err := parse(fs, c, args, func() []error { return []error{required("number", *number), required("reason", *reason)} }); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		al, err := svc.VoidAllowance(ctx, *number, *reason)
		if err != nil {
			return err
		}
		inv, err := svc.AllowanceInvoice(al.Number)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "voided allowance %s of NT$%d on %s: %s; the invoice bills NT$%d now\n",
			al.Number, al.Sales+al.Tax, twrules.PrintedNumber(inv.Number), al.VoidReason, inv.Net())
		return nil
	})
}
