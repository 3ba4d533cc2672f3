package domain

import "context"

// Kinds of actor: who caused a command event.
const (
	ActorStaff   = "staff"   // a staff token (ID) with its role
	ActorKey     = "key"     // a customer's API key (ID), acting as the account owner
	ActorMember  = "member"  // a customer's person signed in through single sign-on (ID "oidc:…" or "saml:…"), acting as the account owner
	ActorCLI     = "cli"     // a CLI command, by the operating-system user (ID)
	ActorSystem  = "system"  // the gateway's own work (ID names it, e.g. "serve")
	ActorUnknown = "unknown" // events recorded before actors were (schema v1)
)

// Actor names who caused a command event. Request events name no actor:
// their key (KeyID) is the actor, see ActorOf.
type Actor struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Role string `json:"role,omitempty"` // staff only
}

// String is the actor as the audit page shows it, e.g. "staff:stf_ab12 (finance)".
func (a Actor) String() string {
	s := a.Kind
	if a.ID != "" {
		s += ":" + a.ID
	}
	if a.Role != "" {
		s += " (" + a.Role + ")"
	}
	return s
}

// Attributed is a command event: it carries the actor that caused it.
type Attributed interface {
	Event
	ActedBy() *Actor
}

type actorKey struct{}

// WithActor returns a context that names who acts: each edge (console and
// admin API, invoicing API, CLI, serve's own work) sets it once, and every
// command event appended under the context records it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx; an edge that named none gives
// ActorUnknown rather than a guess.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Kind != "" {
		return a
	}
	return Actor{Kind: ActorUnknown}
}

// Stamp records the actor of ctx on e when e is a command event. Whatever
// actor e already names is replaced: an event may be built from a caller's
// input, and only the edge that signed the caller in says who acts.
func Stamp(ctx context.Context, e Event) {
	if a, ok := e.(Attributed); ok {
		*a.ActedBy() = ActorFrom(ctx)
	}
}

// ActorOf returns who caused a stored event: the recorded actor of a command
// event (ActorUnknown for those written before actors were), the key of a
// request event. ok is false for a body that does not decode.
func ActorOf(typ string, version int, data []byte) (a Actor, ok bool) {
	ev, err := Decode(typ, version, data)
	if err != nil {
		return Actor{}, false
	}
	switch v := ev.(type) {
	case Attributed:
		return *v.ActedBy(), true
	case *RequestCompleted:
		return Actor{Kind: ActorKey, ID: v.KeyID}, true
	case *RequestFailed:
		if v.KeyID == "" { // refused before a key was known
			return Actor{Kind: ActorUnknown}, true
		}
		return Actor{Kind: ActorKey, ID: v.KeyID}, true
	}
	return Actor{}, false
}

func (e *AccountOpened) ActedBy() *Actor        { return &e.Actor }
func (e *PlanChanged) ActedBy() *Actor          { return &e.Actor }
func (e *AccountSuspended) ActedBy() *Actor     { return &e.Actor }
func (e *AccountResumed) ActedBy() *Actor       { return &e.Actor }
func (e *DataRequirementSet) ActedBy() *Actor   { return &e.Actor }
func (e *KeyIssued) ActedBy() *Actor            { return &e.Actor }
func (e *KeyRevoked) ActedBy() *Actor           { return &e.Actor }
func (e *CreditsToppedUp) ActedBy() *Actor      { return &e.Actor }
func (e *CreditsAdjusted) ActedBy() *Actor      { return &e.Actor }
func (e *PriceListPublished) ActedBy() *Actor   { return &e.Actor }
func (e *InvoiceIssued) ActedBy() *Actor        { return &e.Actor }
func (e *InvoiceVoided) ActedBy() *Actor        { return &e.Actor }
func (e *AllowanceIssued) ActedBy() *Actor      { return &e.Actor }
func (e *InvoiceCarrierSet) ActedBy() *Actor    { return &e.Actor }
func (e *DocumentUploaded) ActedBy() *Actor     { return &e.Actor }
func (e *DocumentRejected) ActedBy() *Actor     { return &e.Actor }
func (e *AllowanceVoided) ActedBy() *Actor      { return &e.Actor }
func (e *QuoteIssued) ActedBy() *Actor          { return &e.Actor }
func (e *QuoteAccepted) ActedBy() *Actor        { return &e.Actor }
func (e *ContractIssued) ActedBy() *Actor       { return &e.Actor }
func (e *InvoiceRangeAssigned) ActedBy() *Actor { return &e.Actor }
func (e *StaffTokenIssued) ActedBy() *Actor     { return &e.Actor }
func (e *StaffTokenRevoked) ActedBy() *Actor    { return &e.Actor }
