package invoicing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// VoidWindowError refuses a void past the period's filing deadline; it
// matches ErrVoidWindowClosed.
type VoidWindowError struct {
	Number   string
	Deadline string // RFC 3339, Taipei: late from this instant
	LastDay  string // the filing deadline's day (YYYY-MM-DD, Taipei), the last a void was allowed
}

// Past filing, the reference (統一發票使用辦法 §20) leaves an allowance, or
// the tax office's special void (專案作廢) on the seller's application.
func (e *VoidWindowError) Error() string {
	return fmt.Sprintf("invoice %s can no longer be voided: its period was filed by the end of %s, so issue an allowance (折讓) instead, or, for a wrong buyer or amount, apply to the tax office for a special void (專案作廢)", e.Number, e.LastDay)
}

func (e *VoidWindowError) Is(target error) bool { return target == ErrVoidWindowClosed }

// LiveAllowancesError refuses the void of an invoice that has allowances
// not voided: they go first (統一發票使用辦法: an allowance's invoice is
// voided only after its allowances are). It matches ErrConflict.
type LiveAllowancesError struct {
	Number     string
	Allowances []string // the live allowances, in order of issue
}

func (e *LiveAllowancesError) Error() string {
	return fmt.Sprintf("%s: invoice %s has live allowances %s: void each of them first, then the invoice",
		ErrConflict, e.Number, strings.Join(e.Allowances, ", "))
}

func (e *LiveAllowancesError) Is(target error) bool { return target == ErrConflict }

// VoidedInvoiceError refuses an allowance on a voided invoice. What it
// billed is billed again by a later invoice: BilledBy names the live ones
// that do, or, while none does yet, Reissue is the command that issues it.
// It matches ErrConflict.
type VoidedInvoiceError struct {
	Number   string
	BilledBy []string
	Reissue  string
}

func (e *VoidedInvoiceError) Error() string {
	if len(e.BilledBy) > 0 {
		return fmt.Sprintf("%s: invoice %s is voided: what it billed is on invoice %s now, issue the allowance on that invoice",
			ErrConflict, e.Number, strings.Join(e.BilledBy, ", "))
	}
	return fmt.Sprintf("%s: invoice %s is voided and what it billed is not invoiced again yet: re-issue it (%s), then issue the allowance on the new invoice",
		ErrConflict, e.Number, e.Reissue)
}

func (e *VoidedInvoiceError) Is(target error) bool { return target == ErrConflict }

// B2CAllowanceError refuses an allowance on an invoice whose buyer has no
// 統一編號 while its period is not filed yet (its void window is open):
// 統一發票使用辦法 §20 has such an invoice recovered and voided (作廢)
// then, and gives an allowance certificate instead only to a business
// buyer whose name and 統編 the invoice carries. Void and Reissue are the
// commands of the compliant way: on a monthly invoice, the void takes the
// amount off the re-issue (VoidLess), which bills the rest; a top-up
// invoice's re-issue bills its payments whole (TopUp), so less is billed
// by an allowance from From. Past LastDay, the period filed, an
// allowance is the way for every buyer. It matches ErrConflict.
type B2CAllowanceError struct {
	Number  string
	LastDay string // the void window's last day (YYYY-MM-DD, Taipei)
	From    string // the day after: the first an allowance is taken on
	Void    string // the command that voids the invoice
	Reissue string // the command that bills what it billed again
	TopUp   bool   // a top-up invoice: its re-issue bills its payments whole
}

func (e *B2CAllowanceError) Error() string {
	head := fmt.Sprintf("%s: invoice %s has no buyer 統一編號 and its period is not filed yet (its void window runs to the end of %s): "+
		"a buyer without a 統一編號 takes no allowance (折讓) before filing (統一發票使用辦法 §20), the invoice is voided and issued again: ",
		ErrConflict, e.Number, e.LastDay)
	if e.TopUp {
		return head + fmt.Sprintf("void it (%s) and re-issue it (%s), which bills its payments whole, or, to bill less, issue the allowance from %s, once the period is filed",
			e.Void, e.Reissue, e.From)
	}
	return head + fmt.Sprintf("void it, taking the amount off its re-issue (%s), then re-issue it (%s), which bills the rest", e.Void, e.Reissue)
}

func (e *B2CAllowanceError) Is(target error) bool { return target == ErrConflict }

// AllowanceBeforeFiling is the refusal that an allowance on inv would get
// now for its buyer having no 統一編號 while its period is not filed, or
// nil: its buyer has one, or its void window is closed. Pages offer the
// allowance only then, and say why otherwise.
func (s *Service) AllowanceBeforeFiling(inv Invoice) *B2CAllowanceError {
	if inv.BuyerTaxID != "" || inv.Voided {
		return nil
	}
	if s.VoidWindowClosed(inv) != nil {
		return nil
	}
	p, _ := twrules.ParsePeriod(inv.Period)
	deadline := p.FilingDeadline().In(twrules.Taipei)
	e := &B2CAllowanceError{Number: inv.Number,
		LastDay: deadline.AddDate(0, 0, -1).Format(time.DateOnly), From: deadline.Format(time.DateOnly),
		TopUp: inv.BillsPayments()}
	period := ""
	s.mu.Lock()
	if s.l.reused[normalizeNumber(inv.Number)] {
		period = " --period " + inv.Period
	}
	s.mu.Unlock()
	if e.TopUp {
		e.Void = "routefree invoices void --number " + inv.Number + period + " --reason …"
		e.Reissue = "routefree invoices topups"
	} else {
		e.Void = "routefree invoices void --number " + inv.Number + period + " --less AMOUNT --reason …"
		e.Reissue = fmt.Sprintf("routefree invoices issue --account %s --month %s", inv.AccountID, inv.Month)
	}
	return e
}

// sharesTopUp reports whether a top-up invoice bills one of the top-ups
// refs (or ref, for an invoice from before they were listed).
func sharesTopUp(l *invoice, refs []string, ref string) bool {
	if len(refs) == 0 {
		refs = []string{ref}
	}
	theirs := l.TopUps
	if len(theirs) == 0 {
		theirs = []string{l.TopUpRef}
	}
	for _, r := range refs {
		if slices.Contains(theirs, r) {
			return true
		}
	}
	return false
}

// voidedError says where the amount of a voided invoice is billed now.
func (s *Service) voidedError(inv *Invoice) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &VoidedInvoiceError{Number: inv.Number}
	var b *bill
	if inv.TopUpRef != "" {
		b, e.Reissue = s.l.topUpBills[inv.AccountID], "routefree invoices topups"
	} else {
		b, e.Reissue = s.l.months[acctMonth{inv.AccountID, inv.Month}], fmt.Sprintf("routefree invoices issue --account %s --month %s", inv.AccountID, inv.Month)
	}
	// The bill lists its invoices in order of issue: those after the
	// voided one bill what it did.
	after := false
	for _, l := range b.invoicesOrNil() {
		switch {
		case l.Number == inv.Number && l.Period == inv.Period:
			after = true
		case after && !l.Voided && (inv.TopUpRef == "" || sharesTopUp(l, inv.TopUps, inv.TopUpRef)):
			ref := l.Number
			if s.l.reused[normalizeNumber(l.Number)] {
				ref = InvoiceRef(l.Period, l.Number)
			}
			e.BilledBy = append(e.BilledBy, ref)
		}
	}
	return e
}

// invoiceAppend appends one event to an invoice's own stream, expecting the
// version the decision was made on; on a conflict it syncs the stream and
// decides again. decide returns the event and the ID of its kind (the
// allowance number, the void of an invoice); the stored ID also covers the
// event's content (decisionID), so that another decision's event stored
// under the same kind is a conflict, never taken for this one.
func (s *Service) invoiceAppend(ctx context.Context, ref string, decide func(inv *Invoice) (domain.Event, [16]byte, error)) (Invoice, error) {
	inv, _, err := s.invoiceAppendStored(ctx, ref, decide)
	return inv, err
}

// invoiceAppendStored is invoiceAppend, also saying whether this call
// stored the event: the same decision made at once by two callers is
// stored once, and each learns here whether it was the one.
func (s *Service) invoiceAppendStored(ctx context.Context, ref string, decide func(inv *Invoice) (domain.Event, [16]byte, error)) (Invoice, bool, error) {
	if err := s.Sync(ctx); err != nil {
		return Invoice{}, false, err
	}
	for attempt := 0; attempt < decideAttempts; attempt++ {
		s.mu.Lock()
		cur, err := s.l.find(ref, nil)
		if err != nil {
			s.mu.Unlock()
			return Invoice{}, false, err
		}
		inv := cur.clone()
		// Decided again after a conflict, it is this invoice, even if its
		// number is issued again in another period meanwhile.
		ref = InvoiceRef(inv.Period, inv.Number)
		s.mu.Unlock()
		ev, id, err := decide(&inv)
		if err != nil {
			return inv, false, err
		}
		at := s.issueTime()
		stampUploadBy(ev, inv.Kind, at)
		d, err := encode(ctx, id, at, ev)
		if err != nil {
			return inv, false, err
		}
		d.ID = decisionID(id, d.Data)
		exp := eventstore.NoStream()
		if inv.version >= 0 {
			exp = eventstore.Exact(uint64(inv.version))
		}
		stream := invoiceStream(inv.Period, inv.Number)
		res, err := s.store.Append(ctx, stream, exp, d)
		if err != nil && !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
			return inv, false, err
		}
		if cerr := s.catchUpStream(ctx, stream, inv.version); cerr != nil {
			return inv, false, cerr
		}
		if err == nil {
			inv, err := s.Invoice(ref)
			return inv, err == nil && !slices.Contains(res.Existing, d.ID), err
		}
	}
	return Invoice{}, false, fmt.Errorf("%w: invoice %s is busy", ErrConflict, ref)
}

// decisionID is the event ID of a decision: the ID of its kind narrowed by
// the event's content. The store keeps one event per ID, so the same
// decision submitted twice at once is stored once; two different decisions
// on the same state (allowance 2 of NT$10 and of NT$45) never share an ID,
// and the later one fails its expected version and decides again instead
// of being answered with the other's event.
func decisionID(kind uuid.UUID, data []byte) uuid.UUID { return uuid.NewSHA1(kind, data) }

// Void voids (作廢) an invoice before its period's filing deadline. Past it,
// the error (ErrVoidWindowClosed) points to an allowance, or to the tax
// office's special void, recorded with SpecialVoid once approved. An invoice with
// allowances, or already voided, is refused.
//
// number is the invoice's reference (see InvoiceRef).
func (s *Service) Void(ctx context.Context, number, reason string) (Invoice, error) {
	return s.VoidLess(ctx, number, reason, 0)
}

// VoidLess is Void, taking less (whole NTD, tax included; 0 for nothing)
// off the re-issue of a monthly invoice's usage: the buyer is given it
// back as by an allowance (the ledger moves it as an allowance's amount,
// credit.allow), and the re-issue bills the rest, at least NT$1. It is
// how an invoice to a buyer without a 統一編號 bills less before its
// period is filed, when it takes no allowance (B2CAllowanceError). The
// void event records less, so the re-issue bills less whenever it comes.
// A top-up invoice's re-issue bills its payments whole: less is refused
// there.
func (s *Service) VoidLess(ctx context.Context, number, reason string, less int64) (Invoice, error) {
	reason, err := s.voidReason(reason)
	if err != nil {
		return Invoice{}, err
	}
	if less < 0 {
		return Invoice{}, fmt.Errorf("%w: the amount to take off the re-issue is a positive whole number of NTD, or 0 for none (NT$%d given)", ErrInvalid, less)
	}
	return s.invoiceAppend(ctx, number, func(inv *Invoice) (domain.Event, [16]byte, error) {
		if err := voidable(inv); err != nil {
			return nil, [16]byte{}, err
		}
		if late := s.VoidWindowClosed(*inv); late != nil {
			return nil, [16]byte{}, late
		}
		switch {
		case less > 0 && inv.BillsPayments():
			return nil, [16]byte{}, fmt.Errorf("%w: invoice %s bills payments, whose re-issue bills them whole: nothing is taken off it (refund with credits adjust, then allow the refund once the period is filed)", ErrInvalid, inv.Number)
		case less >= inv.Total:
			return nil, [16]byte{}, fmt.Errorf("%w: NT$%d taken off the re-issue of invoice %s (NT$%d) leaves no invoice: take off at most NT$%d", ErrInvalid, less, inv.Number, inv.Total, inv.Total-1)
		}
		return &domain.InvoiceVoided{Number: inv.Number, Reason: reason, Less: less},
			domain.EventID(domain.TypeInvoiceVoided, inv.Period, inv.Number), nil
	})
}

// MaxSpecialApproval bounds a special void's approval reference: the
// length of F0501's ReturnTaxDocumentNumber (專案作廢核准文號).
const MaxSpecialApproval = 60

// SpecialVoidEarlyError refuses a special void while the invoice's void
// window is open: a normal void is the way until its last day. It matches
// ErrConflict.
type SpecialVoidEarlyError struct {
	Number  string
	LastDay string // the last day of the void window (YYYY-MM-DD, Taipei)
}

func (e *SpecialVoidEarlyError) Error() string {
	return fmt.Sprintf("%s: invoice %s can still be voided until the end of %s, its period's filing deadline: void it without a special approval; a special void (專案作廢) is recorded only after that day",
		ErrConflict, e.Number, e.LastDay)
}

func (e *SpecialVoidEarlyError) Is(target error) bool { return target == ErrConflict }

// SpecialVoid records a special void (專案作廢): the void of an invoice
// past its period's filing deadline that the tax office approved on the
// seller's application. It is a void in every other way: the invoice bills
// nothing, what it billed is pending (or owed back) again, and its F0501
// carries the approval. Within the void window it is refused: Void is the
// way then.
//
// number is the invoice's reference (see InvoiceRef).
func (s *Service) SpecialVoid(ctx context.Context, number, reason string, approval domain.SpecialVoid) (Invoice, error) {
	reason, err := s.voidReason(reason)
	if err != nil {
		return Invoice{}, err
	}
	approval, err = s.specialApproval(approval)
	if err != nil {
		return Invoice{}, err
	}
	return s.invoiceAppend(ctx, number, func(inv *Invoice) (domain.Event, [16]byte, error) {
		if err := voidable(inv); err != nil {
			return nil, [16]byte{}, err
		}
		late := s.VoidWindowClosed(*inv)
		if late == nil {
			p, _ := twrules.ParsePeriod(inv.Period)
			return nil, [16]byte{}, &SpecialVoidEarlyError{Number: inv.Number,
				LastDay: p.FilingDeadline().In(twrules.Taipei).AddDate(0, 0, -1).Format(time.DateOnly)}
		}
		// The tax office approves what was applied for after the deadline.
		if approval.ApprovedOn <= late.LastDay {
			return nil, [16]byte{}, fmt.Errorf("%w: the approval's day %s is not after invoice %s's period was filed (by the end of %s): the tax office approves a special void after that day",
				ErrInvalid, approval.ApprovedOn, inv.Number, late.LastDay)
		}
		sv := approval
		return &domain.InvoiceVoided{Number: inv.Number, Reason: reason, Special: &sv},
			domain.EventID(domain.TypeInvoiceVoided, inv.Period, inv.Number), nil
	})
}

// specialApproval checks a special void's approval before anything is
// recorded: a reference as the tax office's letter gives it (required, at
// most MaxSpecialApproval characters, one line, printable on the voided
// invoice's PDF) and its day, no later than today in Taipei.
func (s *Service) specialApproval(a domain.SpecialVoid) (domain.SpecialVoid, error) {
	a.Approval, a.ApprovedOn = strings.TrimSpace(a.Approval), strings.TrimSpace(a.ApprovedOn)
	if a.Approval == "" {
		return a, fmt.Errorf("%w: a special void needs the tax office's approval reference (核准文號)", ErrInvalid)
	}
	if p := textProblem("the approval reference", a.Approval, MaxSpecialApproval, false); p != "" {
		return a, fmt.Errorf("%w: %s", ErrInvalid, p)
	}
	chars, err := unprintableChars(s.renderer, a.Approval)
	if err != nil {
		return a, err
	}
	if chars != "" {
		return a, fmt.Errorf("%w: the approval reference contains %s, which the documents cannot print", ErrInvalid, chars)
	}
	day, err := time.ParseInLocation(time.DateOnly, a.ApprovedOn, twrules.Taipei)
	if err != nil {
		return a, fmt.Errorf("%w: the approval's day %s: want YYYY-MM-DD", ErrInvalid, domain.Quote(a.ApprovedOn))
	}
	// Days compare as text once written in one form.
	a.ApprovedOn = day.Format(time.DateOnly)
	if today := s.now().In(twrules.Taipei).Format(time.DateOnly); a.ApprovedOn > today {
		return a, fmt.Errorf("%w: the approval's day %s is after today (%s)", ErrInvalid, a.ApprovedOn, today)
	}
	return a, nil
}

// voidable refuses the void of an invoice already voided or with live
// allowances, which go first.
func voidable(inv *Invoice) error {
	switch {
	case inv.Voided:
		return fmt.Errorf("%w: invoice %s is already voided", ErrConflict, inv.Number)
	case liveAllowances(inv) > 0:
		e := &LiveAllowancesError{Number: inv.Number}
		for _, a := range inv.Allowances {
			if !a.Voided {
				e.Allowances = append(e.Allowances, a.Number)
			}
		}
		return e
	}
	return nil
}

// VoidWindowClosed is the refusal that a void of inv would get now for
// being past its period's filing deadline, or nil while the window is
// open: pages offer the void only then, and say why otherwise.
func (s *Service) VoidWindowClosed(inv Invoice) *VoidWindowError {
	p, _ := twrules.ParsePeriod(inv.Period)
	deadline := p.FilingDeadline()
	if s.now().Before(deadline) {
		return nil
	}
	return &VoidWindowError{Number: inv.Number, Deadline: deadline.Format("2006-01-02T15:04:05Z07:00"),
		LastDay: deadline.In(twrules.Taipei).AddDate(0, 0, -1).Format("2006-01-02")}
}

// voidReason checks the reason of a void (of an invoice or an allowance)
// before anything is recorded: given, no longer than MIG's CancelReason
// (F0501, G0501) takes, free of control characters, and printable on the
// voided document.
func (s *Service) voidReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", fmt.Errorf("%w: a void needs a reason", ErrInvalid)
	}
	if n := utf8.RuneCountInString(reason); n > mig.MaxCancelReason {
		return "", fmt.Errorf("%w: a void's reason is at most %d characters (MIG CancelReason); this one has %d", ErrInvalid, mig.MaxCancelReason, n)
	}
	// XML 1.0 takes no control character, nor does the PDF print one.
	if p := textProblem("reason", reason, mig.MaxCancelReason, false); p != "" {
		return "", fmt.Errorf("%w: %s", ErrInvalid, p)
	}
	return reason, s.printableReason(reason)
}

// printableReason refuses a reason that the documents' font cannot print
// (the allowance's or the voided document's PDF would fail), naming the
// characters, as an invoice's texts are checked before issue (printable).
func (s *Service) printableReason(reason string) error {
	chars, err := unprintableChars(s.renderer, reason)
	if chars == "" {
		return err
	}
	return fmt.Errorf("%w: the reason contains %s, which the documents cannot print: write it with common characters",
		ErrInvalid, chars)
}

// unprintableChars lists the characters of text that r's font lacks, as
// 「字」(U+5B57) or U+202E (domain.NameRune), or "" when it has them all (err is then any other error
// of the check).
func unprintableChars(r *pdf.Renderer, text string) (string, error) {
	var missing *pdf.MissingGlyphsError
	err := r.Printable(text)
	if !errors.As(err, &missing) {
		return "", err
	}
	chars := make([]string, len(missing.Runes))
	for i, c := range missing.Runes {
		chars[i] = domain.NameRune(c)
	}
	return strings.Join(chars, ", "), nil
}

func liveAllowances(inv *Invoice) int {
	n := 0
	for _, a := range inv.Allowances {
		if !a.Voided {
			n++
		}
	}
	return n
}

// maxAllowances is how many live allowances an invoice may have at once;
// voided ones do not count, as they no longer take anything off it.
const maxAllowances = 9

// allowanceSeq is the last character of an allowance's number, by order of
// issue. A voided allowance keeps its number (the platform has it), so
// every allowance of an invoice, voided or not, takes one: the period code
// (5) and the invoice number (10) leave one character of MIG's 16.
const allowanceSeq = "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// maxAllowanceReasonRunes bounds an allowance's reason, which its 折讓證明單
// prints in a column of its one page (G0401 carries none).
const maxAllowanceReasonRunes = 200

// IssueAllowance issues an allowance (折讓) of amount NTD (tax included)
// against an invoice: live allowances together may not exceed its total,
// and a voided invoice takes none, nor does an invoice to a buyer without
// a 統一編號 before its period's filing deadline (B2CAllowanceError: it is
// voided and issued again then). The tax is split on the cumulative
// amount, so that the allowances' sales and tax never exceed the
// invoice's: on 30 + 1, allowances of 11 and 20 take 10 + 1, then 20 + 0. The allowance
// number is the period code, the invoice number and a sequence character
// (16 characters, MIG's limit): 1 to 9, then A to Z.
//
// number is the invoice's reference (see InvoiceRef).
func (s *Service) IssueAllowance(ctx context.Context, number string, amount int64, reason string) (Allowance, error) {
	al, _, err := s.IssueAllowanceOnce(ctx, number, amount, reason, "")
	return al, err
}

// maxOnceKey bounds the key of IssueAllowanceOnce, which its event keeps.
const maxOnceKey = 300

// IssueAllowanceOnce is IssueAllowance issued once per key: the same key
// again on the invoice (a command run again after it was cut off) is
// answered with the allowance the key issued, recorded false; the key with
// another amount or reason is ErrConflict naming that allowance. Of runs
// at once under one key, one issues it and says so. An empty key issues on
// every call.
func (s *Service) IssueAllowanceOnce(ctx context.Context, number string, amount int64, reason, key string) (al Allowance, recorded bool, err error) {
	// A key typed again in full width or another Unicode form is the key
	// typed before, as are the keys recorded so (domain.OnceKey).
	key, _ = domain.OnceKey(key)
	if len(key) > maxOnceKey {
		return Allowance{}, false, fmt.Errorf("%w: the key is at most %d bytes", ErrInvalid, maxOnceKey)
	}
	reason = strings.TrimSpace(reason)
	if amount <= 0 || reason == "" {
		return Allowance{}, false, fmt.Errorf("%w: an allowance needs a positive amount and a reason", ErrInvalid)
	}
	if p := textProblem("reason", reason, maxAllowanceReasonRunes, false); p != "" {
		return Allowance{}, false, fmt.Errorf("%w: %s", ErrInvalid, p)
	}
	if err := s.printableReason(reason); err != nil {
		return Allowance{}, false, err
	}
	var issued *domain.AllowanceIssued
	var before *Allowance // the key's allowance, issued by an earlier run
	inv, stored, err := s.invoiceAppendStored(ctx, number, func(inv *Invoice) (domain.Event, [16]byte, error) {
		if i := slices.IndexFunc(inv.Allowances, func(a Allowance) bool { k, _ := domain.OnceKey(a.Once); return key != "" && k == key }); i >= 0 {
			a := inv.Allowances[i]
			if a.Sales+a.Tax != amount || a.Reason != reason {
				return nil, [16]byte{}, fmt.Errorf("%w: the key already issued allowance %s on invoice %s, of NT$%d (%s)", ErrConflict, a.Number, inv.Number, a.Sales+a.Tax, a.Reason)
			}
			before = &a
			return nil, [16]byte{}, errIssuedBefore
		}
		if inv.Voided {
			return nil, [16]byte{}, s.voidedError(inv)
		}
		if b2c := s.AllowanceBeforeFiling(*inv); b2c != nil {
			return nil, [16]byte{}, b2c
		}
		if liveAllowances(inv) >= maxAllowances {
			return nil, [16]byte{}, fmt.Errorf("%w: invoice %s already has %d live allowances: void one to issue another", ErrConflict, inv.Number, maxAllowances)
		}
		if len(inv.Allowances) >= len(allowanceSeq) {
			return nil, [16]byte{}, fmt.Errorf("%w: invoice %s has used all %d allowance numbers", ErrConflict, inv.Number, len(allowanceSeq))
		}
		if amount > inv.Net() {
			return nil, [16]byte{}, fmt.Errorf("%w: allowance NT$%d exceeds what invoice %s still bills (NT$%d)", ErrInvalid, amount, inv.Number, inv.Net())
		}
		p, _ := twrules.ParsePeriod(inv.Period)
		allowNumber := p.Code() + inv.Number + allowanceSeq[len(inv.Allowances):len(inv.Allowances)+1]
		sales, tax := allowanceSplit(inv, amount)
		issued = &domain.AllowanceIssued{Number: allowNumber, InvoiceNumber: inv.Number, Sales: sales, Tax: tax, Reason: reason, Once: key}
		return issued, domain.EventID(domain.TypeAllowanceIssued, allowNumber), nil
	})
	if errors.Is(err, errIssuedBefore) {
		return *before, false, nil
	}
	if err != nil {
		return Allowance{}, false, err
	}
	// Answer with this request's allowance only, never another's that
	// took its number.
	for _, a := range inv.Allowances {
		if a.Number == issued.Number && a.Sales == issued.Sales && a.Tax == issued.Tax && a.Reason == issued.Reason && a.Once == key {
			return a, stored, nil
		}
	}
	return Allowance{}, false, fmt.Errorf("%w: allowance %s not found after its append", ErrConflict, issued.Number)
}

// errIssuedBefore ends an allowance's decision when its key issued one.
var errIssuedBefore = errors.New("invoicing: the key's allowance was issued before")

// allowanceSplit splits an allowance into sales and tax: the tax of the
// live allowances' cumulative amount (split like an invoice total, capped
// at the invoice's tax) less the tax they already took. Both the split's
// tax and its sales grow with the amount, so at the invoice's total they
// are exactly its sales and tax.
func allowanceSplit(inv *Invoice, amount int64) (sales, tax int64) {
	prevSales, prevTax := inv.allowed()
	_, cumTax := twrules.SplitInclusive(prevSales + prevTax + amount)
	tax = min(max(min(cumTax, inv.Tax)-prevTax, 0), amount)
	if over := prevSales + amount - tax - inv.Sales; over > 0 { // only after allowances split otherwise
		tax = min(tax+over, amount)
	}
	return amount - tax, tax
}

// VoidAllowance voids (作廢) an allowance: its invoice bills the amount
// again, and once all its allowances are voided, the invoice may be.
func (s *Service) VoidAllowance(ctx context.Context, number, reason string) (Allowance, error) {
	reason, err := s.voidReason(reason)
	if err != nil {
		return Allowance{}, err
	}
	if err := s.Sync(ctx); err != nil {
		return Allowance{}, err
	}
	s.mu.Lock()
	inv := s.l.byAllow[number]
	s.mu.Unlock()
	if inv == nil {
		return Allowance{}, fmt.Errorf("%w: allowance %s", ErrNotFound, domain.Excerpt(number))
	}
	got, err := s.invoiceAppend(ctx, InvoiceRef(inv.Period, inv.Number), func(inv *Invoice) (domain.Event, [16]byte, error) {
		for _, a := range inv.Allowances {
			if a.Number != number {
				continue
			}
			if a.Voided {
				return nil, [16]byte{}, fmt.Errorf("%w: allowance %s is already voided", ErrConflict, number)
			}
			return &domain.AllowanceVoided{Number: number, InvoiceNumber: inv.Number, Reason: reason},
				domain.EventID(domain.TypeAllowanceVoided, number), nil
		}
		return nil, [16]byte{}, fmt.Errorf("%w: allowance %s", ErrNotFound, domain.Excerpt(number))
	})
	if err != nil {
		return Allowance{}, err
	}
	for _, a := range got.Allowances {
		if a.Number == number {
			return a, nil
		}
	}
	return Allowance{}, fmt.Errorf("%w: allowance %s not found after its void", ErrConflict, number)
}
