package domain

// TypeQuoteWithdrawn takes back a quote that was issued and not accepted.
const TypeQuoteWithdrawn = "quote.withdrawn"

// QuoteWithdrawn records that finance took back a quote (報價單) issued
// with a mistake: from then on it cannot be accepted, and its PDF says it
// was withdrawn. A quote issued to replace it (QuoteIssued.Replaces)
// withdraws it so, naming the replacement. It is appended to the quote's
// stream, so that it is ordered with the quote's acceptance: of the two,
// only the first is recorded.
type QuoteWithdrawn struct {
	QuoteID    string `json:"quote_id"`
	Reason     string `json:"reason,omitempty"`      // finance's own words, printed on the PDF
	ReplacedBy string `json:"replaced_by,omitempty"` // the quote issued in its place, if any
	Actor      Actor  `json:"actor"`                 // who caused it
}

func (QuoteWithdrawn) EventType() string  { return TypeQuoteWithdrawn }
func (QuoteWithdrawn) SchemaVersion() int { return 1 }
func (e *QuoteWithdrawn) ActedBy() *Actor { return &e.Actor }

func init() {
	factories[TypeQuoteWithdrawn] = func() Event { return &QuoteWithdrawn{} }
}
