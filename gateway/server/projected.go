package server

import (
	"context"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/admission"
	"github.com/routefree/routefree/projections"
)

// Projected is the Directory over RouteFree's in-memory projections. Store,
// when it can read events by ID, answers generations older than the
// in-memory request index holds.
type Projected struct {
	M     *projections.Models
	Store eventstore.Store
}

// Key looks a key up by its hash.
func (p Projected) Key(hash string) (Key, bool) {
	ki, ok := p.M.Keys.Lookup(hash)
	if !ok {
		return Key{}, false
	}
	return Key{ID: ki.KeyID, AccountID: ki.AccountID, Name: ki.Name, Plan: ki.Plan,
		Limits: admission.Limits{RPM: ki.RPM, TPM: ki.TPM}, Models: ki.Models,
		SpendLimit: ki.SpendLimit, SpendPeriod: ki.SpendPeriod, Revoked: ki.Revoked, Disabled: ki.Disabled, Suspended: ki.Suspended,
		Management: ki.Management, ExpiresAt: ki.ExpiresAt}, true
}

// Account returns the admission view of an account, from one snapshot.
func (p Projected) Account(accountID, keyID string, now time.Time) (Account, bool) {
	v, ok := p.M.Balances.View(accountID, keyID, now)
	if !ok {
		return Account{}, false
	}
	return account(v), true
}

// Admission is Account without the totals: what every request needs.
func (p Projected) Admission(accountID, keyID string, now time.Time) (Account, bool) {
	v, ok := p.M.Balances.Admission(accountID, keyID, now)
	if !ok {
		return Account{}, false
	}
	return account(v), true
}

func account(v projections.AccountView) Account {
	limit := v.CreditLimit
	if !v.Plan.Postpaid() {
		limit = decimal.Zero // prepaid plans never go below zero
	}
	var req *domain.DataRequirement
	if v.Residency != "" || v.NoRetention {
		req = &domain.DataRequirement{Residency: v.Residency, NoRetention: v.NoRetention}
	}
	return Account{
		Requirement: req,
		View: admission.AccountView{Balance: v.Balance, CreditLimit: limit, AppliedVersion: v.AppliedUsageVersion,
			KeySpent: v.KeySpend, KeyLimit: v.KeySpendLimit},
		VolumeDiscount: v.VolumeDiscount, MonthSpend: v.MonthSpend, KeySpend: v.KeySpend,
		TotalCredited: v.TotalCredited, TotalUsed: v.TotalUsed,
		KeyUsed: v.KeyUsed, KeyDay: v.KeyDay, KeyWeek: v.KeyWeek, KeyMonth: v.KeyMonth,
	}
}

// Prices returns the price list in force at a moment.
func (p Projected) Prices(at time.Time) (int, map[string]domain.ModelPrice, bool) {
	return p.M.Prices.At(at)
}

// Generation returns one request's stats from the request index, or from
// its event in the store.
func (p Projected) Generation(id string) (Generation, bool) {
	f, ok := p.M.Requests.Get(id)
	if !ok {
		if f, ok = p.fromStore(id); !ok {
			return Generation{}, false
		}
	}
	status := http.StatusOK
	if f.Failed {
		status = f.Status
	}
	g := Generation{ID: f.RequestID, Model: f.Model, Provider: f.Provider, Upstream: f.Upstream,
		CreatedAt: f.StartedAt, TokensPrompt: f.Usage.Input, TokensOut: f.Usage.Output, Cached: f.Usage.Cached,
		Reasoning: f.Usage.Reasoning, Estimated: f.Usage.Estimated, Cost: f.Cost, LatencyMs: f.LatencyMs,
		TTFBMs: f.TTFBMs, FinishReason: f.FinishReason, NativeFinishReason: f.NativeFinishReason, Outcome: f.Outcome, Status: status, Streamed: f.Stream,
		Attempts: f.Attempts, AppTitle: f.AppTitle, AppReferer: f.AppReferer, AccountID: f.AccountID}
	if ki, ok := p.M.Keys.Get(f.KeyID); ok {
		k := Key{ID: ki.KeyID, AccountID: ki.AccountID, Models: ki.Models, SpendLimit: ki.SpendLimit,
			SpendPeriod: ki.SpendPeriod, Management: ki.Management, ExpiresAt: ki.ExpiresAt}
		scope := k.Scope()
		g.Key = &scope
	}
	return g, true
}

// fromStore reads a request's outcome event by its ID (derived from the
// request ID, so no index is needed).
func (p Projected) fromStore(id string) (projections.RequestFact, bool) {
	r, ok := p.Store.(eventstore.EventReader)
	if !ok {
		return projections.RequestFact{}, false
	}
	for _, typ := range []string{domain.TypeRequestCompleted, domain.TypeRequestFailed} {
		e, err := r.ReadEvent(context.Background(), domain.RequestEventID(typ, id))
		if err != nil || e.Type != typ {
			continue
		}
		body, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
		if err != nil {
			return projections.RequestFact{}, false
		}
		return projections.FactOf(body)
	}
	return projections.RequestFact{}, false
}
