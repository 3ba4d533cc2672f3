package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/internal/atomicfile"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

func init() {
	register("invoices range", "add a 字軌 number range to a two-month period, withdraw one no number was used from, or list the period's ranges and numbers left", cmdInvoicesRange)
	register("invoices skip", "take a period's next numbers out of use, through --through: numbers issued outside this history (before a restore from a backup)", cmdInvoicesSkip)
	register("invoices close", "issue the monthly invoices of postpaid accounts for a Taipei month (idempotent)", cmdInvoicesClose)
	register("invoices topups", "invoice the paid top-ups of prepaid accounts not invoiced yet (serve does this as it runs)", cmdInvoicesTopUps)
	register("invoices issue", "issue one account's monthly invoice now", cmdInvoicesIssue)
	register("invoices list", "list invoices of a month and/or account", cmdInvoicesList)
	register("invoices pdf", "write an invoice's PDF (rendered from its event)", cmdInvoicesPDF)
	register("invoices reconcile", "per account and Taipei month: usage or top-ups, what invoices bill of them, and why the rest is pending", cmdInvoicesReconcile)
	register("invoices export", "write a period's MIG 4.1 messages as a zip: F0401 invoices, F0501 voids, G0401 allowances, G0501 allowance voids", cmdInvoicesExport)
}

// withInvoicing opens the store and an invoicing service with the seller
// from ROUTEFREE_SELLER_* and the shared invoice settings, synced.
func withInvoicing(ctx context.Context, c *Config, stderr io.Writer, f func(svc *invoicing.Service) error) error {
	seller := sellerFrom(c)
	if w := devSellerWarning(seller); w != "" {
		fmt.Fprintln(stderr, "routefree: warning: "+w)
	}
	store, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	svc, err := invoicing.New(store, invoicing.Config{Seller: seller, CacheDir: filepath.Join(c.DataDir, "documents"),
		Logger: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return err
	}
	if err := svc.Sync(ctx); err != nil {
		return err
	}
	err = f(svc)
	warnLowRanges(stderr, svc, time.Now())
	return err
}

// devSellerWarning says which of the seller's variables are left at the
// development seller's values, or "" when none is.
func devSellerWarning(seller invoicing.SellerConfig) string {
	names := seller.DevDefaults()
	if len(names) == 0 {
		return ""
	}
	return "invoices and other documents carry the development seller's values (a fictitious company; QR codes signed with the development AES key fail the MOF's verification): set " + strings.Join(names, ", ")
}

// sellerFrom is the seller of the invoices: ROUTEFREE_SELLER_* with the
// invoice settings of the configuration (flags win).
func sellerFrom(c *Config) invoicing.SellerConfig {
	seller := invoicing.SellerFromEnv(c.Getenv)
	if c.InvoiceAESKey != "" {
		seller.QRKeyHex = c.InvoiceAESKey
	}
	if c.InvoiceFont != "" {
		seller.FontPath = c.InvoiceFont
	}
	return seller
}

func cmdInvoicesTopUps(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices topups", stderr)
	if err := parse(fs, c, args); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		n, err := issueTopUps(ctx, svc)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "issued %d top-up invoices\n", n)
		return nil
	})
}

// issueTopUps issues the top-up invoices not issued yet and says how many
// this run issued.
func issueTopUps(ctx context.Context, svc *invoicing.Service) (int, error) {
	return svc.IssueTopUps(ctx)
}

func cmdInvoicesRange(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices range", stderr)
	period := fs.String("period", "", "first month of the two-month period, e.g. 2026-11")
	prefix := fs.String("prefix", "", "字軌: two uppercase letters (without it: list the period's ranges)")
	from := fs.Int64("from", -1, "first number of the range (8 digits)")
	to := fs.Int64("to", -1, "last number of the range")
	far := fs.Bool("far-period", false, "the period is meant though it is more than one period from the current one (refused otherwise, as a likely typo)")
	withdraw := fs.Bool("withdraw", false, "withdraw the range (--prefix, --from, --to) instead of adding it: one no number was used from, e.g. typed for the wrong period; needs --reason")
	reason := fs.String("reason", "", "why the range is withdrawn, for the auditors (with --withdraw)")
	var p twrules.Period
	if err := parse(fs, c, args, func() []error {
		var err error
		p, err = flagPeriod(*period)
		errs := []error{err}
		if *withdraw {
			errs = append(errs, required("prefix", *prefix), required("reason", *reason))
		} else if strings.TrimSpace(*reason) != "" {
			errs = append(errs, errors.New("--reason is for --withdraw"))
		}
		return errs
	}); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		switch {
		case *withdraw:
			if err := withdrawRange(ctx, svc, *period, *prefix, *from, *to, *reason, stdout, stderr); err != nil {
				return err
			}
		case *prefix != "":
			if err := addRange(ctx, svc, *period, *prefix, *from, *to, *far, stdout, stderr); err != nil {
				return err
			}
		}
		printRanges(stdout, svc.RangeStatus(p.String()))
		return nil
	})
}

func cmdInvoicesSkip(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices skip", stderr)
	period := fs.String("period", "", "first month of the two-month period, e.g. 2026-11")
	through := fs.String("through", "", "the last number used outside this history (Turnkey's folders, the platform), e.g. AB12345010")
	reason := fs.String("reason", "", "where those numbers were used, for the auditors (required)")
	if err := parse(fs, c, args, func() []error {
		return []error{required("period", *period), required("through", *through)}
	}); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		sk, err := svc.SkipNumbers(ctx, *period, *through, *reason)
		if err != nil {
			return err
		}
		if sk.Count == 0 {
			fmt.Fprintf(stdout, "%s is used already: nothing skipped; period %s gives %s next\n", twrules.PrintedNumber(sk.Through), sk.Period, twrules.PrintedNumber(sk.Next))
		} else {
			fmt.Fprintf(stdout, "skipped %s through %s (%d numbers) of period %s; it gives %s next\n",
				twrules.PrintedNumber(sk.First), twrules.PrintedNumber(sk.Through), sk.Count, sk.Period, printedOrNone(sk.Next))
		}
		printRanges(stdout, svc.RangeStatus(sk.Period))
		return nil
	})
}

// printedOrNone is a number as printed, or a note that none is left.
func printedOrNone(n string) string {
	if n == "" {
		return "none (its ranges are used up: add one)"
	}
	return twrules.PrintedNumber(n)
}

// lastMonth is the last Taipei month that has ended.
func lastMonth() string {
	now := time.Now().In(twrules.Taipei)
	return time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, twrules.Taipei).Format("2006-01")
}

func cmdInvoicesClose(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices close", stderr)
	month := fs.String("month", lastMonth(), "Taipei billing month to close (YYYY-MM)")
	pdfDir := fs.String("pdf-dir", "", "also write to this directory the PDF of every invoice of the close it lacks (those issued now, and those of an earlier close of the month stopped before its PDFs) or holds in a layout revised since (a re-issue's without its amount off), and the PDF it holds of an invoice voided since, marked 作廢")
	workers := fs.Int("workers", 2, "PDF rendering goroutines")
	// A close of no month has no summary to print: its month is a flag's
	// problem.
	if err := parse(fs, c, args, func() []error { return []error{flagMonth(*month)} }); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		rep, err := svc.Close(ctx, *month, invoicing.CloseOptions{PDFDir: *pdfDir, Workers: *workers})
		for _, inv := range rep.Issued {
			fmt.Fprintf(stdout, "issued   %s  %-20s %-3s NT$%d%s\n", twrules.PrintedNumber(inv.Number), inv.AccountID, inv.Kind, inv.Total, closeNote(inv, *month))
		}
		for _, s := range rep.Skipped {
			fmt.Fprintf(stdout, "skipped  %-20s %s\n", s.AccountID, s.Reason)
		}
		// Invoices that could not be issued, for finance to fix and close again.
		for _, f := range rep.Failed {
			fmt.Fprintf(stdout, "failed   %-20s %s  usage of %s: %s\n", f.AccountID, f.Name, f.Month, f.Reason)
		}
		// A close refused before it began (a month not ended, a store that
		// could not be read) has nothing to sum up.
		if rep.Month != "" {
			fmt.Fprintf(stdout, "month %s (period %s): %d issued, %d already invoiced, %d skipped, %d not invoiced, %d without usage, %d PDFs\n",
				rep.Month, rep.Period, len(rep.Issued), rep.Existing, len(rep.Skipped), len(rep.Failed), rep.NoUsage, rep.PDFs)
		}
		return err
	})
}

func cmdInvoicesIssue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices issue", stderr)
	acct := fs.String("account", "", "account ID")
	month := fs.String("month", time.Now().In(twrules.Taipei).Format("2006-01"), "Taipei billing month (YYYY-MM)")
	if err := parse(fs, c, args, func() []error { return []error{required("account", *acct), flagMonth(*month)} }); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		inv, created, err := svc.IssueMonthly(ctx, *acct, *month)
		if err != nil {
			return err
		}
		state := "issued"
		if !created {
			state = "already issued"
		}
		fmt.Fprintf(stdout, "%s %s  %s NT$%d (sales %d + tax %d)%s\n", state, twrules.PrintedNumber(inv.Number), inv.Kind, inv.Total, inv.Sales, inv.Tax, supplementNote(inv))
		return nil
	})
}

func cmdInvoicesList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices list", stderr)
	month := fs.String("month", "", "Taipei month (YYYY-MM) of the MONTH column: the month billed, or a top-up invoice's month of payment; empty: all")
	acct := fs.String("account", "", "account ID; empty: all")
	// A mistyped month would match no invoice and list none, as if it had none.
	if err := parse(fs, c, args, anyMonth(month)); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		if *acct != "" && !svc.HasAccount(*acct) {
			return fmt.Errorf("%w: account %s", invoicing.ErrNotFound, domain.Excerpt(*acct))
		}
		// PERIOD is the two-month VAT period of the number; NUMBER as
		// `invoices pdf --number` takes it.
		const row = "%-7s  %-7s  %-10s  %-20s %-4s %9s %9s  %s\n"
		fmt.Fprintf(stdout, row, "PERIOD", "MONTH", "NUMBER", "ACCOUNT", "KIND", "TOTAL", "NET", "STATUS")
		for _, inv := range svc.Invoices(*month, *acct) {
			status := "issued"
			if inv.Voided {
				status = "voided"
			}
			fmt.Fprintf(stdout, row, inv.Period, svc.InvoiceMonth(inv), inv.Number, inv.AccountID, inv.Kind, fmt.Sprint(inv.Total), fmt.Sprint(inv.Net()), status)
		}
		return nil
	})
}

// writeOut renders into memory, then replaces the file whole, flushed to
// the disk: a failed rendering, a full disk or a kill midway leaves an
// earlier file as it was.
func writeOut(path string, render func(w io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes(), 0o640, true)
}

func cmdInvoicesPDF(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices pdf", stderr)
	number := fs.String("number", "", "invoice number, e.g. AB12345678")
	period := fs.String("period", "", "the invoice's two-month period, e.g. 2026-11: needed when the number was issued in more than one period")
	out := fs.String("out", "", "output file (default <number>.pdf)")
	thermal := fs.Bool("thermal", false, "print the proof in the 5.7 cm format (receipt printers)")
	allowance := fs.String("allowance", "", "an allowance's number, e.g. 11512AB123456781: write its 折讓證明單 (voided ones marked so) in place of an invoice")
	if err := parse(fs, c, args, func() []error {
		if (*number == "") == (*allowance == "") {
			return []error{errors.New("give --number (an invoice) or --allowance (an allowance)")}
		}
		return nil
	}); err != nil {
		return err
	}
	if *out == "" {
		*out = *number + *allowance + ".pdf"
	}
	ref := invoicing.InvoiceRef(*period, *number)
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		write := func(w io.Writer) error { return svc.InvoicePDF(w, ref) }
		switch {
		case *allowance != "":
			write = func(w io.Writer) error { return svc.AllowancePDF(w, *allowance) }
		case *thermal:
			write = func(w io.Writer) error { return svc.ThermalPDF(w, ref) }
		}
		if err := writeOut(*out, write); err != nil {
			return err
		}
		fmt.Fprintln(stdout, *out)
		return nil
	})
}

func cmdInvoicesExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices export", stderr)
	period := fs.String("period", "", "first month of the two-month period, e.g. 2026-11")
	message := fs.String("message", invoicing.MessageF0401, "F0401 (the period's invoices), F0501 (voids made in the period), G0401 (allowances made in the period), G0501 (allowance voids made in the period) or E0402 (the period's numbers left unused, once it has ended)")
	out := fs.String("out", "", "output zip (default <MESSAGE>-<period>.zip)")
	var p twrules.Period
	var msg string
	if err := parse(fs, c, args, func() []error {
		var err error
		p, err = flagPeriod(*period)
		problems := []error{err}
		msg = strings.ToUpper(*message)
		if !slices.Contains(invoicing.Messages, msg) {
			last := len(invoicing.Messages) - 1
			problems = append(problems, fmt.Errorf("--message %s: want %s or %s", domain.Quote(*message), strings.Join(invoicing.Messages[:last], ", "), invoicing.Messages[last]))
		}
		return problems
	}); err != nil {
		return err
	}
	if *out == "" {
		*out = msg + "-" + p.String() + ".zip"
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		if err := writeOut(*out, func(w io.Writer) error { return svc.Export(w, msg, p.String()) }); err != nil {
			return err
		}
		fmt.Fprintln(stdout, *out)
		return nil
	})
}

func cmdInvoicesReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices reconcile", stderr)
	month := fs.String("month", "", "Taipei month (YYYY-MM); empty: all")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, c, args, anyMonth(month)); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		rec, err := svc.Reconcile(ctx, *month)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rec)
		}
		if err := rec.WriteRows(stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		return rec.WriteTotals(stdout)
	})
}

// flagMonth is the problem of a --month that is no Taipei month.
func flagMonth(month string) error {
	if _, err := invoicing.ParseMonth(month); err != nil {
		return fmt.Errorf("--month %s: want YYYY-MM, a Taipei month", domain.Quote(month))
	}
	return nil
}

// anyMonth is the check of a --month whose empty value is every month.
func anyMonth(month *string) func() []error {
	return func() []error {
		if *month == "" {
			return nil
		}
		return []error{flagMonth(*month)}
	}
}

// flagPeriod reads --period, the first month of a two-month period.
func flagPeriod(period string) (twrules.Period, error) {
	p, err := twrules.ParsePeriod(period)
	if err != nil {
		return p, fmt.Errorf("--period: %s", strings.TrimPrefix(err.Error(), "twrules: "))
	}
	return p, nil
}

// closeNote is supplementNote for an invoice a close of month issued,
// naming the month of an earlier month's first invoice too: a close
// invoices the usage of every month up to its own not invoiced yet.
func closeNote(inv invoicing.Invoice, month string) string {
	if note := supplementNote(inv); note != "" || inv.Month == month {
		return note
	}
	return "  for " + inv.Month
}

// supplementNote marks an invoice that bills usage of its month that
// earlier invoices did not.
func supplementNote(inv invoicing.Invoice) string {
	if len(inv.Replaces) > 0 {
		return fmt.Sprintf("  re-issue of voided %s", strings.Join(inv.Replaces, ", "))
	}
	if inv.Month == "" || inv.Seq == 0 {
		return ""
	}
	return fmt.Sprintf("  supplementary #%d for %s", inv.Seq, inv.Month)
}
