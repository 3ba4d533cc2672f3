package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

func init() {
	register("replay", "rebuild every projection from the first event and print the auditor's figures", cmdReplay)
}

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("replay", stderr)
	backup := fs.String("backup", "", "replay an `events backup` file where it is kept instead of the store, writing nothing to it or beside it (read-only media too)")
	if err := parse(fs, c, args); err != nil {
		return err
	}
	var store eventstore.Store
	var err error
	if *backup != "" {
		store, err = sqlite.OpenSnapshot(*backup)
	} else {
		store, err = openStore(ctx, c)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	prog := newProgress(stderr, "replayed")
	figs, err := projections.Replay(ctx, store, prog.tick)
	if err != nil {
		return err
	}
	prog.done(figs.Events)
	seller := sellerFrom(c)
	svc, err := invoicing.New(store, invoicing.Config{Seller: seller})
	if err != nil {
		return err
	}
	if err := svc.Sync(ctx); err != nil {
		return err
	}
	// Invoices by month as the reconciliation and the lists count them.
	figs.CountInvoices(svc.RecordMonth)
	if err := figs.Write(stdout); err != nil {
		return err
	}
	if err := writeDocumentDigest(ctx, svc, seller, stdout); err != nil {
		return err
	}
	if figs.Chain.Break != nil {
		return fmt.Errorf("hash chain broken at position %s", figs.Chain.Break.Position)
	}
	return nil
}

// writeDocumentDigest prints the reconciliation's totals of the ledger
// svc folded from the first event (usage and top-ups against invoices,
// pending amounts by reason), renders every invoice again and prints one
// digest of their contents: two replays (or a replay and the files that
// were issued) give the same line only if every document is byte-identical.
func writeDocumentDigest(ctx context.Context, svc *invoicing.Service, seller invoicing.SellerConfig, w io.Writer) error {
	invs := svc.Invoices("", "")
	if err := svc.LoadDocuments(ctx, invs); err != nil {
		return err
	}
	rec, err := svc.Reconcile(ctx, "")
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := rec.WriteTotals(w); err != nil {
		return err
	}
	all := sha256.New()
	for _, inv := range invs {
		h, err := invoicing.ContentHash(inv.InvoiceIssued, seller)
		if err != nil {
			return fmt.Errorf("invoice %s: %w", inv.Number, err)
		}
		all.Write(h)
	}
	_, err = fmt.Fprintf(w, "\nINVOICE DOCUMENTS %d  content digest %x\n", len(invs), all.Sum(nil))
	return err
}
