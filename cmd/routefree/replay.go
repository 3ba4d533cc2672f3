package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing"
	"github.com/routefree/routefree/projections"
)

func init() {
	register("replay", "rebuild every projection from the first event and print the auditor's figures", cmdReplay)
}

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("replay", stderr)
	if err := parse(fs, c, args); err != nil {
		return err
	}
	store, err := openStore(ctx, c)
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
	if err := figs.Write(stdout); err != nil {
		return err
	}
	if err := writeDocumentDigest(ctx, c, store, stdout); err != nil {
		return err
	}
	if figs.Chain.Break != nil {
		return fmt.Errorf("hash chain broken at position %s", figs.Chain.Break.Position)
	}
	return nil
}

// writeDocumentDigest folds the invoicing ledger from the first event,
// prints the reconciliation's totals (usage and top-ups against invoices,
// pending amounts by reason), renders every invoice again and prints one
// digest of their contents: two replays (or a replay and the files that
// were issued) give the same line only if every document is byte-identical.
func writeDocumentDigest(ctx context.Context, c *Config, store eventstore.Store, w io.Writer) error {
	seller := sellerFrom(c)
	svc, err := invoicing.New(store, invoicing.Config{Seller: seller})
	if err != nil {
		return err
	}
	if err := svc.Sync(ctx); err != nil {
		return err
	}
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
