package commands

import (
	"context"
	"testing"

	"github.com/routefree/routefree/domain"
)

// Finance's correction of an account's name, decided while the customer
// sets their 統一編號 from another process, keeps the customer's number
// rather than putting back the one it read.
func TestDetailsCorrectionKeepsAConcurrentTaxID(t *testing.T) {
	ctx := context.Background()
	h := newHandler(t)
	acct := mustOpen(t, ctx, h, domain.PlanStarter)
	customer := &Handler{Store: h.Store, Now: h.Now} // another process on the store
	taxID := "22099131"
	racing := &racingStore{Store: h.Store, stream: domain.AccountStream(acct), other: func() {
		if err := customer.SetInvoiceCarrier(ctx, domain.InvoiceCarrierSet{AccountID: acct, TaxID: &taxID}); err != nil {
			t.Error(err)
		}
	}}
	finance := &Handler{Store: racing, Now: h.Now}
	name := "範例股份有限公司"
	_, now, err := finance.ChangeAccountDetails(ctx, acct, DetailsChange{Organisation: &name, Reason: "typo"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := h.AccountState(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if now.TaxID != taxID || st.TaxID != taxID || st.Organisation != name {
		t.Fatalf("after a correction beside the customer's 統一編號: recorded %+v, account %q %q", now, st.Organisation, st.TaxID)
	}
}
