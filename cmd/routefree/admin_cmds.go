package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/gateway/catalog"
	"github.com/routefree/routefree/internal/onejson"
)

func init() {
	register("accounts open", "open a customer account", cmdAccountsOpen)
	register("accounts plan", "change an account's plan, custom limits, credit limit and volume discount", cmdAccountsPlan)
	register("keys issue", "issue an API key for an account (shown once)", cmdKeysIssue)
	register("keys revoke", "revoke an API key", keyCommand("keys revoke", "revoked", func(ctx context.Context, h *commands.Handler, id string) error {
		return h.RevokeKey(ctx, id)
	}))
	register("keys disable", "disable an API key until it is enabled again", keyCommand("keys disable", "disabled", func(ctx context.Context, h *commands.Handler, id string) error {
		return h.SetKeyDisabled(ctx, id, true)
	}))
	register("keys enable", "enable a disabled API key", keyCommand("keys enable", "enabled", func(ctx context.Context, h *commands.Handler, id string) error {
		return h.SetKeyDisabled(ctx, id, false)
	}))
	register("keys expire", "set, move or clear an API key's expiry", cmdKeysExpire)
	register("credits topup", "record a top-up (idempotent per reference)", cmdCreditsTopUp)
	register("prices publish", "publish a price list (NTD per million tokens) from a JSON file, or derive it from the catalog", cmdPricesPublish)
}

func withHandler(ctx context.Context, c *Config, f func(h *commands.Handler) error) error {
	return withHandlerOn(ctx, c, openStore, f)
}

// pricesStore is the store prices publish writes to: a new PostgreSQL
// schema's is made, so that its first serve finds the operator's prices
// rather than publishing the catalog's; the embedded store must exist.
func pricesStore(ctx context.Context, c *Config) (eventstore.Store, error) {
	if c.Store == "postgres" {
		return createStore(ctx, c)
	}
	return openStore(ctx, c)
}

func withHandlerOn(ctx context.Context, c *Config, open func(context.Context, *Config) (eventstore.Store, error), f func(h *commands.Handler) error) error {
	store, err := open(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	return f(commands.New(store))
}

func cmdAccountsOpen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("accounts open", stderr)
	var a domain.AccountOpened
	var plan, limit string
	fs.StringVar(&a.AccountID, "id", "", "account ID (generated when empty)")
	fs.StringVar(&a.Organisation, "organisation", "", "organisation name")
	fs.StringVar(&a.TaxID, "tax-id", "", "統一編號 (checked)")
	fs.StringVar(&a.Address, "address", "", "postal address")
	fs.StringVar(&a.Contact, "contact", "", "contact person or e-mail")
	fs.StringVar(&plan, "plan", "starter", "starter, business or enterprise")
	fs.StringVar(&limit, "credit-limit", "0", "NTD credit limit (monthly-billed plans)")
	if err := parse(fs, c, args, func() []error {
		var err error
		a.CreditLimit, err = flagAmount("credit-limit", limit)
		return []error{err}
	}); err != nil {
		return err
	}
	a.Plan = domain.Plan(plan)
	return withHandler(ctx, c, func(h *commands.Handler) error {
		// An ID taken, as given or in another case, is refused naming
		// the account that holds it.
		id, err := h.OpenAccount(ctx, a)
		if err == nil {
			fmt.Fprintln(stdout, id)
		}
		return err
	})
}

func cmdAccountsPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("accounts plan", stderr)
	acct := fs.String("account", "", "account ID")
	plan := fs.String("plan", "", "starter, business or enterprise (default: unchanged)")
	rpm := fs.Int64("rpm", 0, "custom requests per minute per key (default: unchanged; 0: the plan's)")
	tpm := fs.Int64("tpm", 0, "custom tokens per minute per key (default: unchanged; 0: the plan's)")
	limit := fs.String("credit-limit", "", "NTD credit limit of a monthly-billed plan (default: unchanged; a prepaid plan has none)")
	discount := fs.String("volume-discount", "", "fraction off every request's cost, e.g. 0.1 (default: unchanged)")
	given := map[string]bool{}
	var newLimit, newDiscount *decimal.Decimal
	if err := parse(fs, c, args, func() []error {
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		var limitErr, discountErr error
		newLimit, limitErr = givenDecimal(given, "credit-limit", *limit)
		newDiscount, discountErr = givenDecimal(given, "volume-discount", *discount)
		return []error{required("account", *acct), limitErr, discountErr}
	}); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		// Money returned for allowances that the account holds is invoiced
		// at a move to a prepaid plan (docs/invoicing-ledger.md): said once
		// the move is recorded.
		var returned decimal.Decimal
		if given["plan"] && !domain.Plan(*plan).Postpaid() {
			returned = returnedHeld(ctx, h.Store, *acct, stderr)
		}
		// What is not given keeps its value; a prepaid plan has no credit.
		pc, changed, err := h.DecidePlan(ctx, *acct, func(pc *domain.PlanChanged) error {
			if given["plan"] {
				pc.Plan = domain.Plan(*plan)
			}
			if pc.Plan != domain.PlanEnterprise {
				// Custom terms are Enterprise's: an account leaving it
				// leaves them, as in the console.
				pc.RPM, pc.TPM, pc.VolumeDiscount = 0, 0, decimal.Zero
			}
			if given["rpm"] {
				pc.RPM = *rpm
			}
			if given["tpm"] {
				pc.TPM = *tpm
			}
			if newDiscount != nil {
				pc.VolumeDiscount = *newDiscount
			}
			if err := pc.CheckCustomTerms(); err != nil {
				return fmt.Errorf("%w: %w (move the account with --plan enterprise)", commands.ErrInvalid, err)
			}
			switch {
			case newLimit != nil:
				pc.CreditLimit = *newLimit
			case !pc.Plan.Postpaid():
				pc.CreditLimit = decimal.Zero
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !changed {
			fmt.Fprintf(stdout, "%s is already on %s: credit limit NT$%s, volume discount %s, rpm %s, tpm %s; nothing was changed\n", pc.AccountID, pc.Plan,
				pc.CreditLimit, pc.VolumeDiscount, customLimit(pc.RPM), customLimit(pc.TPM))
			return nil
		}
		fmt.Fprintf(stdout, "%s is now on %s: credit limit NT$%s, volume discount %s, rpm %s, tpm %s\n", pc.AccountID, pc.Plan,
			pc.CreditLimit, pc.VolumeDiscount, customLimit(pc.RPM), customLimit(pc.TPM))
		if returned.IsPositive() && !pc.Plan.Postpaid() {
			fmt.Fprintf(stdout, "NT$%s returned to %s for allowances on invoices it had paid is now prepaid credit, invoiced as a top-up paid now "+
				"(serve issues the invoice; else run: routefree invoices topups)\n", returned, pc.AccountID)
		}
		return nil
	})
}

// givenDecimal parses a decimal flag; nil when the flag was not given.
func givenDecimal(given map[string]bool, name, value string) (*decimal.Decimal, error) {
	if !given[name] {
		return nil, nil
	}
	d, err := flagAmount(name, value)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// customLimit prints a custom rate limit; zero means the plan's own.
func customLimit(n int64) string {
	if n == 0 {
		return "the plan's"
	}
	return fmt.Sprint(n)
}

func cmdKeysIssue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("keys issue", stderr)
	var k domain.KeyIssued
	var models, limit string
	fs.StringVar(&k.AccountID, "account", "", "account ID")
	fs.StringVar(&k.Name, "name", "", "a name for the key (default: its ID)")
	fs.StringVar(&models, "models", "", "comma-separated model IDs of the catalog that the key may use (empty: all)")
	fs.StringVar(&limit, "spend-limit", "", "NTD spending limit per period, positive (default: none)")
	fs.StringVar(&k.SpendPeriod, "spend-period", "", "daily, weekly, monthly or never (a total for the key's life); default monthly")
	fs.BoolVar(&k.Management, "management", false, "a management key: issues and revokes the account's keys within its own limits, calls no model")
	expires := fs.String("expires", "", "the instant the key stops working, RFC 3339 (2027-12-31T23:59:59Z, or with an offset: 2028-01-01T07:59:59+08:00); default: never")
	if err := parse(fs, c, args, func() []error {
		problems := []error{required("account", k.AccountID)}
		if *expires != "" {
			at, err := flagInstant("expires", *expires, "2027-12-31T23:59:59Z")
			problems = append(problems, err)
			k.ExpiresAt = &at
		}
		if models != "" {
			// As the admin API takes them: catalog IDs, blanks ignored; a
			// typo would issue a key that can call no model.
			cat, err := catalog.Load(c.Catalog)
			if err != nil {
				return append(problems, catalogProblem(c, err))
			}
			for _, m := range strings.Split(models, ",") {
				if m = strings.TrimSpace(m); m == "" {
					continue
				}
				if _, ok := cat.Get(m); !ok {
					problems = append(problems, fmt.Errorf("--models: unknown model %s", domain.Quote(m)))
				}
				k.Models = append(k.Models, m)
			}
		}
		if limit != "" {
			if d, err := flagAmount("spend-limit", limit); err != nil {
				problems = append(problems, err)
			} else if k.SpendLimit, err = commands.GivenSpendLimit(&d); err != nil {
				problems = append(problems, fmt.Errorf("--spend-limit: %v", err))
			}
		}
		return problems
	}); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		h.MaxKeysPerAccount = c.MaxKeysPerAccount
		id, secret, err := h.IssueKey(ctx, k)
		if err == nil {
			fmt.Fprintf(stdout, "key id: %s\nkey:    %s\n(the key is shown once; only its hash is stored)\n", id, secret)
			if k.ExpiresAt != nil {
				fmt.Fprintf(stdout, "expires: %s\n", k.ExpiresAt.UTC().Truncate(time.Second).Format(time.RFC3339))
			}
		}
		return err
	})
}

// cmdKeysExpire sets, moves or clears a key's expiry: --at an instant in
// the future, or --never. Every serve refuses the key from that instant on.
func cmdKeysExpire(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("keys expire", stderr)
	id := fs.String("key", "", "key ID")
	atFlag := fs.String("at", "", "the instant the key stops working, RFC 3339 (2027-12-31T23:59:59Z, or with an offset: 2028-01-01T07:59:59+08:00)")
	never := fs.Bool("never", false, "the key never expires (clears its expiry)")
	var at *time.Time
	if err := parse(fs, c, args, func() []error {
		problems := []error{required("key", *id)}
		if (*atFlag == "") == !*never {
			problems = append(problems, errors.New("give --at or --never, one of them"))
		}
		if *atFlag != "" {
			t, err := flagInstant("at", *atFlag, "2027-12-31T23:59:59Z")
			problems = append(problems, err)
			at = &t
		}
		return problems
	}); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		if err := h.ChangeKeyExpiry(ctx, *id, at, nil); err != nil {
			return err
		}
		if at == nil {
			fmt.Fprintf(stdout, "%s never expires\n", *id)
		} else {
			fmt.Fprintf(stdout, "%s expires at %s\n", *id, at.UTC().Truncate(time.Second).Format(time.RFC3339))
		}
		return nil
	})
}

// keyCommand is a command on one key, named by --key: run does it, and
// done is what is printed after the key ID.
func keyCommand(name, done string, run func(context.Context, *commands.Handler, string) error) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs, c := newFlags(name, stderr)
		id := fs.String("key", "", "key ID")
		if err := parse(fs, c, args, needs("key", id)); err != nil {
			return err
		}
		return withHandler(ctx, c, func(h *commands.Handler) error {
			err := run(ctx, h, *id)
			if err == nil {
				fmt.Fprintf(stdout, "%s %s\n", done, *id)
			}
			return err
		})
	}
}

func cmdCreditsTopUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("credits topup", stderr)
	var t domain.CreditsToppedUp
	var amount string
	fs.StringVar(&t.AccountID, "account", "", "account ID")
	fs.StringVar(&amount, "amount", "", "NTD amount")
	fs.StringVar(&t.Method, "method", domain.MethodBankTransfer, "credit-card, bank-transfer or adjustment (credit given, not paid for: never invoiced)")
	fs.StringVar(&t.Reference, "reference", "", "external reference (bank transfer ID, card charge ID), one account's; of an adjustment, staff's own, which the customer does not see; a repeat is ignored")
	if err := parse(fs, c, args, func() []error {
		var err error
		t.Amount, err = requiredAmount("amount", amount)
		return []error{required("account", t.AccountID), err}
	}); err != nil {
		return err
	}
	return withHandler(ctx, c, func(h *commands.Handler) error {
		h.MaxTopUp = c.maxTopUp()
		dup, err := h.TopUp(ctx, t)
		switch {
		case err != nil:
			return err
		case dup:
			fmt.Fprintf(stdout, "already recorded: top-up %s of NT$%s to %s\n", t.Reference, t.Amount, t.AccountID)
		default:
			fmt.Fprintf(stdout, "recorded: top-up %s of NT$%s to %s\n", t.Reference, t.Amount, t.AccountID)
			if t.Method == domain.MethodAdjustment {
				adviseCreditOffset(ctx, h.Store, t.AccountID, stdout, stderr) // credit given, as by credits adjust
			}
		}
		return nil
	})
}

func cmdPricesPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("prices publish", stderr)
	effective := fs.String("effective", "", "when the list takes effect (RFC 3339; default now; never in the past)")
	replace := fs.Bool("replace", false, "the file is the whole list: models not in it lose their price (default: it amends the list in force, every other model keeps its price)")
	fromCatalog := fs.Bool("from-catalog", false, "derive NTD prices from the catalog's USD prices, exchange rate and margin")
	// The price file may come before or after the flags.
	var files []string
	if err := parseArgs(fs, c, args, func(file string) { files = append(files, file) }); err != nil {
		return err
	}
	var at time.Time
	if err := c.checkFlags(func() []error {
		var problems []error
		if *fromCatalog != (len(files) == 0) || len(files) > 1 {
			problems = append(problems, errors.New("give one price file or --from-catalog"))
		}
		if *effective != "" {
			var err error
			at, err = flagInstant("effective", *effective, "2027-01-01T00:00:00+08:00")
			problems = append(problems, err)
		}
		return problems
	}); err != nil {
		return err
	}
	cat, err := catalog.Load(c.Catalog)
	if err != nil {
		return err
	}
	var prices commands.GivenPrices
	if *fromCatalog {
		prices = cat.NTDPrices()
	} else {
		b, err := readPriceFile(files[0])
		if err != nil {
			return err
		}
		if err := onejson.Check(b); err != nil {
			return fmt.Errorf("%s: %v%s", files[0], err, priceFileForm(err))
		}
		if err := json.Unmarshal(b, &prices); err != nil {
			return fmt.Errorf("%s: %v%s", files[0], err, priceFileForm(err))
		}
		if err := commands.CheckModels(prices, knownTo(cat)); err != nil {
			return fmt.Errorf("%s: %w", files[0], err)
		}
	}
	return withHandlerOn(ctx, c, pricesStore, func(h *commands.Handler) error {
		p, err := h.PublishPriceList(ctx, commands.PriceList{Prices: prices, EffectiveAt: at, Replace: *replace})
		if err != nil {
			return err
		}
		if p.Unchanged {
			fmt.Fprintf(stdout, "nothing changed: every price is already that of price list v%d in force at %s; nothing was published\n",
				p.Version, p.EffectiveAt.Format(time.RFC3339))
			return nil
		}
		how := "amends"
		if *replace {
			how = "replaces"
		}
		fmt.Fprintf(stdout, "published price list v%d (%s the list; effective %s): %d models, %d priced by this file\n",
			p.Version, how, p.EffectiveAt.Format(time.RFC3339), p.Models, len(p.Changed))
		for _, c := range p.Carried {
			fmt.Fprintf(stdout, "carried into the list scheduled for %s: published again as v%d (was v%d)\n",
				c.EffectiveAt.Format(time.RFC3339), c.Version, c.Carries)
		}
		if len(p.Removed) > 0 {
			fmt.Fprintf(stdout, "no longer priced (requests for them get 404 and /models omits them): %s\n", strings.Join(p.Removed, ", "))
		}
		return nil
	})
}

// maxPriceFile bounds a price file: a list of every model offered anywhere
// is a few hundred kilobytes.
const maxPriceFile = 16 << 20

// readPriceFile reads a price file of at most maxPriceFile bytes, reading no
// more than that of a larger file or a device: the command runs beside
// serve, whose memory it must leave alone.
func readPriceFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPriceFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPriceFile {
		return nil, fmt.Errorf("%s: a price file is at most %d MiB; is it the right file?", path, maxPriceFile>>20)
	}
	return b, nil
}

// priceFileForm shows a price file's form after an error of its JSON
// syntax or shape.
func priceFileForm(err error) string {
	var syntax *json.SyntaxError
	var shape *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &shape) {
		return ` (want {"model": {"input": "…", "output": "…", "cached_input": "…", "cache_write": "…", "cache_write_1h": "…", "reasoning": "…"}})`
	}
	return ""
}

// knownTo tells whether the catalog has a model.
func knownTo(cat *catalog.Catalog) func(string) bool {
	return func(model string) bool { _, ok := cat.Get(model); return ok }
}

// flagAmount reads an amount flag as the console reads an amount field:
// a plain decimal number (1000, 42.5, -50). 1e3 and +100 are refused as a
// slip rather than recorded as NT$1000 and NT$100; the refusal quotes a
// short prefix of what was given.
func flagAmount(name, v string) (decimal.Decimal, error) {
	d, ok := commands.PlainAmount(strings.TrimSpace(v))
	if !ok {
		return decimal.Zero, fmt.Errorf("--%s %s is not a plain amount (digits, an optional decimal point and minus sign)", name, domain.Quote(v))
	}
	return d, nil
}

// requiredAmount is flagAmount of a flag that must be given.
func requiredAmount(name, v string) (decimal.Decimal, error) {
	if err := required(name, v); err != nil {
		return decimal.Zero, err
	}
	return flagAmount(name, v)
}

// flagInstant reads an instant flag, RFC 3339; example is one the refusal
// shows.
func flagInstant(name, v, example string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %s is not an RFC 3339 instant such as %s", name, domain.Quote(v), example)
	}
	return t, nil
}

// catalogProblem is a catalog that a command's flags needed and that did
// not load: named once, where --catalog's file is missing and Validate
// names it already.
func catalogProblem(c *Config, err error) error {
	if _, statErr := os.Stat(c.Catalog); c.Catalog != "" && statErr != nil {
		return nil
	}
	return fmt.Errorf("--catalog: %v", err)
}
