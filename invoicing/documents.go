package invoicing

import (
	"context"
	"fmt"
	"slices"

	"github.com/routefree/routefree/domain"
)

// documentPage is how many events of a period's range stream one read
// takes while loading documents.
const documentPage = 256

// LoadDocuments reads the documents of invoices that lack them (as
// Service.Invoices lists them) from their events: the lines, 隨機碼,
// carrier, donation code, seller and actor. What the ledger folded (what
// the invoice bills, its voids and allowances) is kept. Invoices of one
// period are read together, in the order of the period's stream.
func (s *Service) LoadDocuments(ctx context.Context, invs []Invoice) error {
	byPeriod := map[string][]*Invoice{}
	for i := range invs {
		if inv := &invs[i]; inv.summary {
			byPeriod[inv.Period] = append(byPeriod[inv.Period], inv)
		}
	}
	for period, want := range byPeriod {
		slices.SortFunc(want, func(a, b *Invoice) int { return compareVersions(a.at, b.at) })
		stream := domain.InvoiceRangeStream(period)
		for i := 0; i < len(want); {
			evs, err := s.store.ReadStream(ctx, stream, want[i].at, documentPage)
			if err != nil {
				return fmt.Errorf("invoicing: document of invoice %s: %w", want[i].Number, err)
			}
			read := i
			for _, e := range evs {
				for i < len(want) && want[i].at == e.Version {
					if err := fillDocument(want[i], e.Type, e.SchemaVersion, e.Data); err != nil {
						return err
					}
					i++
				}
				if i < len(want) && want[i].at < e.Version {
					break // a version the stream no longer holds
				}
			}
			if i == read {
				return fmt.Errorf("invoicing: the event of invoice %s is missing from %s", want[i].Number, stream)
			}
		}
	}
	return nil
}

func compareVersions(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fillDocument sets what an invoice's document holds, from its event.
func fillDocument(inv *Invoice, typ string, version int, data []byte) error {
	ev, err := domain.Decode(typ, version, data)
	if err != nil {
		return err
	}
	d, ok := ev.(*domain.InvoiceIssued)
	if !ok || d.Number != inv.Number {
		return fmt.Errorf("invoicing: the event of invoice %s in its period's stream is a %s of %v", inv.Number, typ, ev)
	}
	inv.Lines, inv.RandomCode, inv.Carrier, inv.DonationCode, inv.Seller, inv.Actor = d.Lines, d.RandomCode, d.Carrier, d.DonationCode, d.Seller, d.Actor
	inv.BuyerName, inv.BuyerTaxID = d.BuyerName, d.BuyerTaxID
	if !d.Covers.IsZero() {
		inv.Covers = d.Covers // as written; the ledger's is the same amount (it sets only what older events lack)
	}
	inv.summary = false
	return nil
}

// document returns an invoice of the ledger with its document. s.mu is not
// held.
func (s *Service) document(ctx context.Context, inv Invoice) (Invoice, error) {
	one := []Invoice{inv}
	err := s.LoadDocuments(ctx, one)
	return one[0], err
}
