package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

// SetRankingsListed records an account owner's choice whether the public
// rankings show the account's apps.
func (h *Handler) SetRankingsListed(ctx context.Context, account string, listed bool) error {
	return decideAgain(ctx, func() error {
		_, last, err := h.Account(ctx, account)
		if err != nil {
			return err
		}
		_, err = h.append(ctx, domain.AccountStream(account), eventstore.Exact(uint64(last)), uuid.New(),
			&domain.RankingsListed{AccountID: account, Listed: listed})
		return err
	})
}
