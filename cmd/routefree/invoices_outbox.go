package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/invoicing/twrules"
)

func init() {
	register("invoices outbox", "exchange MIG files with the MOF Turnkey program: record its results, write pending messages (--dir: Turnkey's root)", cmdInvoicesOutbox)
}

func cmdInvoicesOutbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoices outbox", stderr)
	dir := fs.String("dir", "", "Turnkey's root folder (files go to UpCast/B2SSTORAGE/<message>/SRC)")
	if err := parse(fs, c, args, needs("dir", dir)); err != nil {
		return err
	}
	return withInvoicing(ctx, c, stderr, func(svc *invoicing.Service) error {
		rep, err := svc.Outbox(ctx, *dir)
		for _, f := range rep.Cleared {
			fmt.Fprintf(stdout, "cleared   %s  (left by a run stopped while writing it)\n", f)
		}
		// What was written is printed even when some document failed: the
		// others went out.
		for _, f := range rep.Written {
			fmt.Fprintf(stdout, "written   %s\n", f)
		}
		for _, f := range rep.Removed {
			fmt.Fprintf(stdout, "removed   %s  (its range was withdrawn)\n", f)
		}
		for _, f := range rep.Failed {
			fmt.Fprintf(stdout, "failed    %s %s  %v\n", f.Message, twrules.PrintedNumber(f.Number), f.Err)
		}
		if err != nil && len(rep.Failed) == 0 {
			return err
		}
		now := time.Now()
		for _, d := range svc.Documents() {
			switch {
			case d.Status == invoicing.FilingRejected:
				fmt.Fprintf(stdout, "rejected  %s %s  %s\n", d.Message, twrules.PrintedNumber(d.Number), d.Reason)
			case d.Status == invoicing.FilingPending && d.Due(now):
				fmt.Fprintf(stdout, "due       %s %s  upload by the end of %s\n", d.Message, d.Number, twrules.LastUploadDay(d.Deadline))
			}
		}
		fmt.Fprintf(stdout, "%d written, %d uploaded, %d rejected, %d pending, %d failed\n", len(rep.Written), rep.Uploaded, rep.Rejected, len(rep.Pending), len(rep.Failed))
		return err
	})
}
