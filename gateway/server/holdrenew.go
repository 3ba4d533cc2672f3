package server

import (
	"context"
	"log/slog"
	"sync"
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
	// mu guards t, which the first renewal may read before AfterFunc has
	// returned it (a mutex in the struct: no allocation of its own).
	mu          sync.Mutex
	t           *time.Timer
	every       time.Duration
	ledger      admission.Ledger
	account, id string
	log         *slog.Logger
}

func (k *call) keepHold() {
	every := k.s.deps.Ledger.HoldTTL() / 3
	if every <= 0 {
		return
	}
	r := &holdRenewal{every: every, ledger: k.s.deps.Ledger, account: k.key.AccountID, id: k.id, log: k.s.cfg.Logger}
	r.mu.Lock()
	r.t = time.AfterFunc(every, r.renew)
	r.mu.Unlock()
	k.renewal = r
}

func (r *holdRenewal) renew() {
	ctx, cancel := context.WithTimeout(context.Background(), r.every)
	ok, err := r.ledger.Renew(ctx, r.account, r.id)
	cancel()
	if err != nil {
		r.log.Warn("hold renewal failed; trying again", "request_id", r.id, "err", err)
	}
	if ok || err != nil {
		r.mu.Lock()
		r.t.Reset(r.every)
		r.mu.Unlock()
	}
}

// stopRenewal ends the renewals before the hold is settled or released.
// A renewal already under way finds the hold gone and stops there.
func (k *call) stopRenewal() {
	if r := k.renewal; r != nil {
		r.mu.Lock()
		r.t.Stop()
		r.mu.Unlock()
		k.renewal = nil
	}
}
