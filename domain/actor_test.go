package domain

import (
	"context"
	"testing"
)

// Every command event's v1 body (no actor) reads back with the actor
// unknown, and keeps its other fields.
func TestV1CommandEventsUpcastToUnknownActor(t *testing.T) {
	v1 := map[string]string{
		TypeAccountOpened:      `{"account_id":"a1","organisation":"Org","plan":"starter","credit_limit":"0"}`,
		TypePlanChanged:        `{"account_id":"a1","plan":"business","credit_limit":"100","volume_discount":"0"}`,
		TypeAccountSuspended:   `{"account_id":"a1","reason":"fraud"}`,
		TypeKeyIssued:          `{"key_id":"k1","account_id":"a1","hash":"ab","prefix":"sk-rf-x","spend_limit":"0"}`,
		TypeKeyRevoked:         `{"key_id":"k1","account_id":"a1"}`,
		TypeCreditsToppedUp:    `{"account_id":"a1","amount":"100","method":"bank-transfer","reference":"r1"}`,
		TypeCreditsAdjusted:    `{"account_id":"a1","amount":"-5","reason":"refund"}`,
		TypePriceListPublished: `{"version":3,"effective_at":"2026-01-01T00:00:00Z","prices":{}}`,
		TypeInvoiceIssued:      `{"number":"AB12345678","period":"2026-11","account_id":"a1","kind":"b2b","random_code":"1234","lines":[],"sales":1,"tax":0,"total":1,"issued_at":"2026-11-02T00:00:00Z"}`,
		TypeInvoiceVoided:      `{"number":"AB12345678","reason":"wrong buyer"}`,
		TypeAllowanceIssued:    `{"number":"AL1","invoice_number":"AB12345678","sales":1,"tax":0,"reason":"x"}`,
		TypeQuoteIssued:        `{"quote_id":"q1","agency":"A","items":[],"valid_days":30,"subtotal":0,"tax":0,"total":0,"issued_at":"2026-11-02T00:00:00Z"}`,
		TypeQuoteAccepted:      `{"quote_id":"q1"}`,
		TypeContractIssued:     `{"contract_id":"c1","quote_id":"q1","period_start":"2026-11-02T00:00:00Z","period_end":"2027-11-02T00:00:00Z","plan":"enterprise"}`,
		TypeInvoiceRangeSet:    `{"period":"2026-11","prefix":"AB","from":1,"to":99}`,
		TypeStaffTokenIssued:   `{"token_id":"stf_1","role":"admin","hash":"ab"}`,
		TypeStaffTokenRevoked:  `{"token_id":"stf_1"}`,
	}
	for typ, body := range v1 {
		ev, err := Decode(typ, 1, []byte(body))
		if err != nil {
			t.Fatalf("%s v1: %v", typ, err)
		}
		at, ok := ev.(Attributed)
		if !ok {
			t.Fatalf("%s is not attributed", typ)
		}
		if got := *at.ActedBy(); got != (Actor{Kind: ActorUnknown}) {
			t.Errorf("%s v1: actor %+v, want unknown", typ, got)
		}
		if ev.SchemaVersion() != 2 {
			t.Errorf("%s: schema version %d, want 2 (the one that added the actor)", typ, ev.SchemaVersion())
		}
		if a, ok := ActorOf(typ, 1, []byte(body)); !ok || a.Kind != ActorUnknown {
			t.Errorf("ActorOf(%s v1) = %+v, %v", typ, a, ok)
		}
	}
	// Fields other than the actor survive the upcast.
	ev, _ := Decode(TypeCreditsAdjusted, 1, []byte(v1[TypeCreditsAdjusted]))
	if ca := ev.(*CreditsAdjusted); ca.AccountID != "a1" || ca.Reason != "refund" || ca.Amount.String() != "-5" {
		t.Fatalf("adjustment upcast lost fields: %+v", ca)
	}
	// A v1 price list replaced the whole list.
	ev, _ = Decode(TypePriceListPublished, 1, []byte(v1[TypePriceListPublished]))
	if pl := ev.(*PriceListPublished); !pl.Replace || pl.Version != 3 {
		t.Fatalf("price list v1 upcast: %+v", pl)
	}
}

func TestActorIsStampedFromTheContextAndRoundTrips(t *testing.T) {
	staff := Actor{Kind: ActorStaff, ID: "stf_0123", Role: "finance"}
	ctx := WithActor(context.Background(), staff)
	ev := &CreditsToppedUp{AccountID: "a1", Method: MethodBankTransfer, Reference: "r"}
	Stamp(ctx, ev)
	if ev.Actor != staff {
		t.Fatalf("stamped %+v, want %+v", ev.Actor, staff)
	}
	// An actor the event already names (a caller's input) is replaced by
	// the context's.
	spoofed := &CreditsToppedUp{AccountID: "a1", Actor: Actor{Kind: ActorSystem, ID: "spoofed"}}
	Stamp(ctx, spoofed)
	if spoofed.Actor != staff {
		t.Fatalf("an event naming its own actor was stamped %+v, want %+v", spoofed.Actor, staff)
	}
	b, err := Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := ActorOf(TypeCreditsToppedUp, 2, b); !ok || a != staff {
		t.Fatalf("ActorOf = %+v, %v", a, ok)
	}
	if got := staff.String(); got != "staff:stf_0123 (finance)" {
		t.Fatalf("String = %q", got)
	}
	// No actor in the context: unknown, never a guess.
	ev2 := &AccountSuspended{AccountID: "a1", Actor: Actor{Kind: ActorStaff, ID: "stf_claimed"}}
	Stamp(context.Background(), ev2)
	if ev2.Actor.Kind != ActorUnknown {
		t.Fatalf("no actor in context stamped %+v", ev2.Actor)
	}
}

// Request events record no actor of their own: their key acted.
func TestRequestEventsNameTheirKeyAsActor(t *testing.T) {
	b, _ := Encode(&RequestCompleted{RequestID: "r1", KeyID: "key_1", AccountID: "a1"})
	if a, ok := ActorOf(TypeRequestCompleted, 2, b); !ok || a != (Actor{Kind: ActorKey, ID: "key_1"}) {
		t.Fatalf("completed: %+v %v", a, ok)
	}
	b, _ = Encode(&RequestFailed{RequestID: "r2", KeyID: "key_2"})
	if a, ok := ActorOf(TypeRequestFailed, 1, b); !ok || a != (Actor{Kind: ActorKey, ID: "key_2"}) {
		t.Fatalf("failed: %+v %v", a, ok)
	}
	if _, ok := ActorOf(TypeRequestFailed, 1, []byte("not json")); ok {
		t.Fatal("a body that does not decode has no actor")
	}
}
