package projections

// Models is the set of read models the gateway and console use, built
// together so that wiring and replay agree.
type Models struct {
	// Accounts is the shared account directory: Balances writes it, Keys
	// and the console read it.
	Accounts *Accounts
	Keys     *Keys
	Balances *Balances
	Prices   *Prices
	Invoices *Invoices
	Requests *Requests
	Usage    *Usage    // nil: no SQL usage model
	Activity *Activity // nil: no SQL activity model (set beside Usage)
	KeyUsage *KeyUsage // nil: no SQL usage by key and app (set beside Usage)
}

// NewModels returns fresh memory models and the given usage model (may be nil).
func NewModels(usage *Usage) *Models {
	accounts := NewAccounts()
	return &Models{
		Accounts: accounts, Keys: newKeys(accounts), Balances: newBalances(accounts), Prices: NewPrices(),
		Invoices: NewInvoices(), Requests: NewRequests(), Usage: usage,
	}
}

// All lists the models as projections for NewRunner.
func (m *Models) All() []Projection {
	ps := []Projection{m.Keys, m.Balances, m.Prices, m.Invoices, m.Requests}
	if m.Usage != nil {
		ps = append(ps, m.Usage)
	}
	if m.Activity != nil {
		ps = append(ps, m.Activity)
	}
	if m.KeyUsage != nil {
		ps = append(ps, m.KeyUsage)
	}
	return ps
}
