package invoicing

import (
	"context"
	"fmt"
	"strings"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/invoicing/twrules"
)

// 字軌 letters recycle across periods, so the same number may be issued
// again in a later period: an invoice is known by its period and number.
// Wherever an invoice is named (API paths, forms, the CLI), a reference is
// its number (AB12345678 or AB-12345678), which is enough while the number
// was issued once, or its period and number (2026-11-AB12345678, the name
// of its own stream). A bare number issued in several periods names none of
// them: the caller is asked for the period rather than given the latest.

// InvoiceRef is the reference of an invoice in a period ("" for none): the
// number alone, or the period and the number.
func InvoiceRef(period, number string) string {
	if period == "" {
		return number
	}
	return period + "-" + normalizeNumber(number)
}

// splitRef reads a reference into its period ("" when not given) and
// number.
func splitRef(ref string) (period, number string) {
	ref = strings.TrimSpace(ref)
	if len(ref) > 8 && ref[7] == '-' {
		if p, err := twrules.ParsePeriod(ref[:7]); err == nil {
			return p.String(), normalizeNumber(ref[8:])
		}
	}
	return "", normalizeNumber(ref)
}

// find returns the invoice a reference names among those that keep
// (all when keep is nil). s.mu is held.
func (l *ledger) find(ref string, keep func(*invoice) bool) (*invoice, error) {
	period, number := splitRef(ref)
	var found []*invoice
	if inv := l.byNumber[number]; inv != nil && !l.reused[number] {
		found = append(found, inv)
	} else if inv != nil {
		for _, c := range l.invoices {
			if c.Number == number {
				found = append(found, c)
			}
		}
	}
	var match []*invoice
	for _, inv := range found {
		if (period == "" || inv.Period == period) && (keep == nil || keep(inv)) {
			match = append(match, inv)
		}
	}
	switch len(match) {
	case 0:
		return nil, fmt.Errorf("%w: invoice %s", ErrNotFound, domain.Excerpt(ref))
	case 1:
		return match[0], nil
	}
	periods := make([]string, len(match))
	for i, inv := range match {
		periods[i] = inv.Period
	}
	return nil, fmt.Errorf("%w: invoice number %s was issued in the periods %s: name the period too (period=%s, or %s)",
		ErrConflict, number, strings.Join(periods, ", "), periods[len(periods)-1], InvoiceRef(periods[len(periods)-1], number))
}

// NumberReused reports whether an invoice number was issued in more than
// one period, so that a link to one of them names its period.
func (s *Service) NumberReused(number string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.l.reused[normalizeNumber(number)]
}

// AccountInvoice returns an account's invoice by reference: another
// account's invoice with the same number is neither found nor named.
func (s *Service) AccountInvoice(acct, ref string) (Invoice, error) {
	s.mu.Lock()
	inv, err := s.l.find(ref, func(inv *invoice) bool { return inv.AccountID == acct })
	var c Invoice
	if err == nil {
		c = inv.clone()
	}
	s.mu.Unlock()
	if err != nil {
		return Invoice{}, err
	}
	return s.document(context.Background(), c)
}
