package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// SetInvoiceCarrier sets where an account's B2C invoices go: a mobile
// barcode or citizen certificate carrier, a donation code, or neither
// (printed proofs). The format is checked here, at the door.
func (h *Handler) SetInvoiceCarrier(ctx context.Context, s domain.InvoiceCarrierSet) error {
	if err := domain.CheckInvoiceCarrier(&s); err != nil {
		return invalid("%s", err.Error())
	}
	return decideAgain(ctx, func() error {
		_, last, err := h.Account(ctx, s.AccountID)
		if err != nil {
			return err
		}
		_, err = h.append(ctx, domain.AccountStream(s.AccountID), eventstore.Exact(uint64(last)), uuid.New(), &s)
		return err
	})
}
