package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
)

func init() {
	register("events generate", "append a synthetic history (accounts, top-ups, requests) for load and replay checks", cmdEventsGenerate)
}

// cmdEventsGenerate writes a reproducible synthetic history and prints the
// balances it implies, so that `routefree replay` can be checked against
// them. It refuses a store that already holds events.
func cmdEventsGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("events generate", stderr)
	n := fs.Int("events", 1_000_000, "how many events to write")
	accounts := fs.Int("accounts", 1000, "how many accounts")
	seed := fs.Uint64("seed", 42, "random seed")
	if err := parse(fs, c, args, func() []error {
		if *accounts <= 0 || *n < 3**accounts {
			return []error{errors.New("--events must be at least three times --accounts (at least 1)")}
		}
		return nil
	}); err != nil {
		return err
	}
	store, err := createStore(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	if evs, err := store.ReadAll(ctx, eventstore.Start, 1); err != nil || len(evs) > 0 {
		if err == nil {
			err = fmt.Errorf("the store already holds events; generate into an empty one")
		}
		return err
	}
	rnd := rand.New(rand.NewPCG(*seed, *seed))
	start := generateStart
	balances := make([]decimal.Decimal, *accounts)
	ev := func(at time.Time, e domain.Event) eventstore.EventData {
		domain.Stamp(ctx, e)
		id := uuid.New()
		if t, ok := e.(*domain.CreditsToppedUp); ok && t.Method != domain.MethodAdjustment {
			id = commands.PaymentID(t.Reference) // as commands.TopUp stores a payment
		}
		d, err := commands.Event(id, at, e)
		if err != nil {
			panic(err)
		}
		return d
	}
	acct := func(i int) string { return fmt.Sprintf("acct_gen%05d", i) }
	written := 0
	prog := newProgress(stderr, "generated")
	for i := 0; i < *accounts; i++ {
		credit := decimal.NewFromInt(int64(1000 + rnd.IntN(9000)))
		balances[i] = credit
		if _, err := store.Append(ctx, domain.AccountStream(acct(i)), eventstore.NoStream(),
			ev(start, &domain.AccountOpened{AccountID: acct(i), Organisation: fmt.Sprintf("Org %d", i), Plan: domain.PlanStarter})); err != nil {
			return err
		}
		// A key per account; its secret is derived and never printed.
		if _, err := store.Append(ctx, domain.KeyStream("key_gen"+acct(i)[8:]), eventstore.NoStream(),
			ev(start, &domain.KeyIssued{KeyID: "key_gen" + acct(i)[8:], AccountID: acct(i), Hash: commands.HashKey(fmt.Sprintf("sk-rf-gen-%d-%d", *seed, i)),
				Prefix: "sk-rf-gen…", Name: "generated"})); err != nil {
			return err
		}
		if _, err := store.Append(ctx, domain.TopUpStream(acct(i)), eventstore.NoStream(),
			ev(start, &domain.CreditsToppedUp{AccountID: acct(i), Amount: credit, Method: domain.MethodBankTransfer, Reference: "gen-" + acct(i)})); err != nil {
			return err
		}
		written += 3
	}
	models := []string{"openai/gpt-4.1", "openai/gpt-4.1-mini", "anthropic/claude-sonnet-4.6", "google/gemini-2.5-flash", "deepseek/deepseek-chat"}
	// Requests in appends of up to 1,000 per account stream, spread over two months.
	for written < *n {
		a := rnd.IntN(*accounts)
		batch := make([]eventstore.EventData, 0, 1000)
		for j := 0; j < 1000 && written+len(batch) < *n; j++ {
			at := generatedAt(start, written+len(batch), *n)
			u := domain.Usage{Input: rnd.Int64N(4000), Output: 1 + rnd.Int64N(1000)}
			u.Cached = rnd.Int64N(u.Input + 1)
			cost := decimal.New(rnd.Int64N(2_000_000), -7) // up to NT$0.2, full precision
			balances[a] = balances[a].Sub(cost)
			id, _ := uuid.NewV7()
			batch = append(batch, ev(at, &domain.RequestCompleted{RequestID: "gen-" + id.String(), KeyID: "key_gen" + acct(a)[8:], AccountID: acct(a),
				Model: models[rnd.IntN(len(models))], Provider: "generated", Usage: u, Cost: cost, PriceList: 1, StartedAt: at,
				LatencyMs: 200 + rnd.Int64N(800), Outcome: domain.OutcomeCompleted, Attempts: 1}))
		}
		if _, err := store.Append(ctx, domain.UsageStream(acct(a)), eventstore.Any(), batch...); err != nil {
			return err
		}
		written += len(batch)
		prog.tick(uint64(written))
	}
	prog.done(uint64(written))
	total := decimal.Zero
	for _, b := range balances {
		total = total.Add(b)
	}
	fmt.Fprintf(stdout, "generated %d events for %d accounts; expected TOTAL balance %s NTD (compare with `routefree replay`)\n", written, *accounts, total)
	return nil
}

// The generated history starts on generateStart and covers generateSpan:
// October and November 2026.
var (
	generateStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	generateSpan  = 61 * 24 * time.Hour
)

// generatedAt is the time of the i-th of n events: spread evenly over the
// span. The span is divided first: i × span overflows a time.Duration
// (int64 nanoseconds) from i ≈ 1,750 on.
func generatedAt(start time.Time, i, n int) time.Time {
	return start.Add(generateSpan / time.Duration(n) * time.Duration(i))
}
