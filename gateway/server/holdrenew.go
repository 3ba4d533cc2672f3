package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/routefree/routefree/gateway/admission"
)

// holdRenewal keeps a running request's credit hold from expiring. Holds
// expire so that a crashed instance's holds stop locking credit, but a request
// may outlive one: a unary answer is waited for up to the unary timeout on
// each upstream it fails over to, and a stream lasts as long as the model
// writes. Renewed every third of the hold's life, the hold lasts while
// the request does and a crash still frees it a hold's life later.
type holdRenewal struct {
	t           *time.Timer
	every       time.Duration
	ledger      admission.Ledger
	account, id string
	log         *slog.Logger
	// set is closed once t is: the first renewal may fire before
	// AfterFunc has returned it.
	set chan struct{}
}

func (k *call) keepHold() {
	every := k.s.deps.Ledger.HoldTTL() / 3
	if every <= 0 {
		return
	}
	r := &holdRenewal{every: every, ledger: k.s.deps.Ledger, account: k.key.AccountID, id: k.id, log: k.s.cfg.Logger,
		set: make(chan struct{})}
	r.t = time.AfterFunc(every, r.renew)
	close(r.set)
	k.renewal = r
}

func (r *holdRenewal) renew() {
	<-r.set
	ctx, cancel := context.WithTimeout(context.Background(), r.every)
	ok, err := r.ledger.Renew(ctx, r.account, r.id)
	cancel()
	if err != nil {
		r.log.Warn("hold renewal failed; trying again", "request_id", r.id, "err", err)
	}
	if ok || err != nil {
		r.t.Reset(r.every)
	}
}

// stopRenewal ends the renewals before the hold is settled or released.
// A renewal already under way finds the hold gone and stops there.
func (k *call) stopRenewal() {
	if k.renewal != nil {
		k.renewal.t.Stop()
		k.renewal = nil
	}
}
