package domain

import (
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	// The same encoding as encoding/json at a fraction of its reflection
	// cost: every billed request is encoded once and decoded by each reader.
	json "github.com/segmentio/encoding/json"
)

// namespace for deterministic event IDs (UUIDv5), so that a retried append of
// the same fact deduplicates in every store.
var idNamespace = uuid.MustParse("6f1c1f9e-6a8e-4f57-9d0c-3c1f3c0ae7a1")

// EventID derives a deterministic event ID from the fact's natural key,
// e.g. EventID(TypeRequestCompleted, requestID).
func EventID(parts ...string) uuid.UUID {
	b := make([]byte, 0, 64)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return uuid.NewSHA1(idNamespace, b)
}

// RequestEventID is the event ID of a request's outcome. A request ID that
// carries a time-ordered UUIDv7 ("gen-" and 32 hex digits) gives it directly
// (request.failed flips its last bit), so usage events insert in index order;
// any other request ID falls back to EventID.
func RequestEventID(typ, requestID string) uuid.UUID {
	if len(requestID) == 36 && requestID[:4] == "gen-" {
		if id, err := uuid.Parse(requestID[4:]); err == nil && id.Version() == 7 {
			if typ == TypeRequestFailed {
				id[15] ^= 1
			}
			return id
		}
	}
	return EventID(typ, requestID)
}

// factories builds an empty value of each current event type.
var factories = map[string]func() Event{
	TypeAccountOpened:      func() Event { return &AccountOpened{} },
	TypePlanChanged:        func() Event { return &PlanChanged{} },
	TypeAccountSuspended:   func() Event { return &AccountSuspended{} },
	TypeAccountResumed:     func() Event { return &AccountResumed{} },
	TypeDataRequirementSet: func() Event { return &DataRequirementSet{} },
	TypeKeyIssued:          func() Event { return &KeyIssued{} },
	TypeKeyRevoked:         func() Event { return &KeyRevoked{} },
	TypeCreditsToppedUp:    func() Event { return &CreditsToppedUp{} },
	TypeCreditsAdjusted:    func() Event { return &CreditsAdjusted{} },
	TypePriceListPublished: func() Event { return &PriceListPublished{} },
	TypeRequestCompleted:   func() Event { return &RequestCompleted{} },
	TypeRequestFailed:      func() Event { return &RequestFailed{} },
	TypeInvoiceIssued:      func() Event { return &InvoiceIssued{} },
	TypeInvoiceVoided:      func() Event { return &InvoiceVoided{} },
	TypeAllowanceIssued:    func() Event { return &AllowanceIssued{} },
	TypeAllowanceVoided:    func() Event { return &AllowanceVoided{} },
	TypeQuoteIssued:        func() Event { return &QuoteIssued{} },
	TypeQuoteAccepted:      func() Event { return &QuoteAccepted{} },
	TypeContractIssued:     func() Event { return &ContractIssued{} },
	TypeInvoiceRangeSet:    func() Event { return &InvoiceRangeAssigned{} },
	TypeStaffTokenIssued:   func() Event { return &StaffTokenIssued{} },
	TypeStaffTokenRevoked:  func() Event { return &StaffTokenRevoked{} },
}

// Known reports whether typ is an event type of the catalog.
func Known(typ string) bool { _, ok := factories[typ]; return ok }

// Types lists every current event type, sorted.
func Types() []string {
	out := make([]string, 0, len(factories))
	for t := range factories {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Encode returns the JSON body of an event.
func Encode(e Event) ([]byte, error) { return json.Marshal(e) }

// Decode reads a stored body of any schema version, upcasting old versions to
// the current one first. It returns a pointer to the event struct.
// ErrNewerThanBuild is an event of a schema version this build does not
// know: no retry reads it, only a newer release.
var ErrNewerThanBuild = errors.New("the history holds events of a newer release of routefree; run that release or a later one")

func Decode(typ string, version int, data []byte) (Event, error) {
	f, ok := factories[typ]
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", typ)
	}
	ev := f()
	latest := ev.SchemaVersion()
	if l, ok := ev.(interface{ LatestSchemaVersion() int }); ok {
		latest = l.LatestSchemaVersion() // a type whose version depends on its content
	}
	for version < latest {
		up, ok := upcasters[upcastKey{typ, version}]
		if !ok {
			return nil, fmt.Errorf("no upcaster for %s v%d", typ, version)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, fmt.Errorf("upcast %s v%d: %w", typ, version, err)
		}
		version++
	}
	if version > latest {
		return nil, fmt.Errorf("%s v%d is newer than this build (v%d): %w", typ, version, latest, ErrNewerThanBuild)
	}
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	return ev, nil
}
