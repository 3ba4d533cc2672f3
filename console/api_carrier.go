package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/routefree/routefree/domain"
)

// carrierInput is where an account's B2C invoices go: a carrier (手機條碼
// or 自然人憑證), a donation code (愛心碼), or neither (a printed proof).
type carrierInput struct {
	Carrier      string `json:"carrier"`
	DonationCode string `json:"donation_code"`
	// TaxID, when given, is the buyer's 統一編號 from now on ("": none,
	// B2C); left out, it stays as it was.
	TaxID *string `json:"tax_id"`
}

// apiInvoiceCarrier sets an account's invoice carrier or donation code
// (the customer for their own account, or an admin).
func (s *server) apiInvoiceCarrier(c echo.Context) error {
	a, err := s.account(c, c.Param("id"))
	if err != nil {
		return err
	}
	var in carrierInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	set := domain.InvoiceCarrierSet{AccountID: a.ID, Carrier: in.Carrier, DonationCode: in.DonationCode, TaxID: in.TaxID}
	h, settle := s.cmds()
	err = h.SetInvoiceCarrier(c.Request().Context(), set)
	if err == nil {
		err = settle(c.Request().Context())
	}
	if err != nil {
		return apiError(err)
	}
	// The whole setting in force, as stored: a body that leaves tax_id out
	// keeps the account's 統一編號, and its invoices stay B2B, carrier or not.
	to, err := accountInvoiceTo(c.Request().Context(), s.deps.Store, a.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": map[string]any{
		"account_id": a.ID, "carrier": to.Carrier, "donation_code": to.DonationCode, "tax_id": to.TaxID}})
}
