package invoicing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/internal/atomicfile"
	"github.com/routefree/routefree/internal/inherit"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// Filing statuses of a document.
const (
	FilingPending  = "pending"  // not reported uploaded yet
	FilingUploaded = "uploaded" // Turnkey sent it
	FilingRejected = "rejected" // Turnkey or the platform refused it
)

// Document is one MIG message to upload: the F0401 of an invoice, the
// F0501 of its void, the G0401 of an allowance, the G0501 of its void, or
// the E0402 of a 字軌's numbers a period left unused.
type Document struct {
	Message   string // F0401, F0501, G0401, G0501, E0402
	Number    string // invoice number (allowance number for G0401, G0501; the 字軌 for E0402)
	Period    string // the invoice's period
	AccountID string
	At        time.Time // when the document was issued
	Deadline  time.Time // late from this instant (twrules.UploadDeadline)
	Status    string
	Reason    string // why it was rejected
	File      string // the file Turnkey reported on

	write func(io.Writer) error
}

// DueWithin is how close to its deadline a pending document is listed as
// due.
const DueWithin = 24 * time.Hour

// Due reports whether a document still to upload is late or within
// DueWithin of its deadline.
func (d Document) Due(now time.Time) bool {
	return d.Status != FilingUploaded && d.Deadline.Sub(now) <= DueWithin
}

// FileName is the document's file in the Turnkey folders. An E0402 is
// named as the export names it, so that a file finance exported and placed
// in Turnkey's folder is known as this document.
func (d Document) FileName() string {
	if d.Message == MessageE0402 {
		if p, err := twrules.ParsePeriod(d.Period); err == nil {
			return mig.E0402FileName(p, d.Number)
		}
	}
	return d.Message + "_" + d.Period + "_" + d.Number + ".xml"
}

// BlankSettle is how long after a period's end its unused numbers are
// listed for E0402: an invoice a process whose clock lags dated in the
// period may still take one of them just after its end.
const BlankSettle = time.Hour

func (d Document) key() string { return d.Message + "-" + d.Period + "-" + d.Number }

// filed is what Turnkey reported on a document (the last report wins).
type filed struct {
	status, reason, file string
}

// applyFiling folds an uploaded or rejected event.
func (l *ledger) applyFiling(e *eventstore.RecordedEvent) error {
	ev, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	switch b := ev.(type) {
	case *domain.DocumentUploaded:
		l.filing[b.Message+"-"+b.Period+"-"+b.Number] = &filed{status: FilingUploaded, file: b.File}
	case *domain.DocumentRejected:
		l.filing[b.Message+"-"+b.Period+"-"+b.Number] = &filed{status: FilingRejected, reason: b.Reason, file: b.File}
	}
	return nil
}

// stampUploadBy records the upload deadline in a document event issued at
// `at` against an invoice of kind (voids, allowances).
func stampUploadBy(ev domain.Event, kind string, at time.Time) {
	if d, ok := ev.(interface{ SetUploadBy(time.Time) }); ok {
		d.SetUploadBy(twrules.UploadDeadline(kind == pdf.KindB2B, at))
	}
}

// Documents lists every document to upload with its deadline and status,
// by deadline.
func (s *Service) Documents() []Document {
	seller := s.seller.MIG()
	s.mu.Lock()
	var out []Document
	for _, p := range s.l.invoices {
		inv := p.clone()
		// The invoice's document is read when a message is written.
		whole := func() (domain.InvoiceIssued, error) {
			c, err := s.document(context.Background(), inv)
			return c.InvoiceIssued, err
		}
		b2b := inv.Kind == pdf.KindB2B
		deadline := inv.UploadBy
		if deadline.IsZero() {
			deadline = twrules.UploadDeadline(b2b, inv.IssuedAt)
		}
		out = append(out, Document{Message: MessageF0401, Number: inv.Number, Period: inv.Period, AccountID: inv.AccountID,
			At: inv.IssuedAt, Deadline: deadline,
			write: func(w io.Writer) error {
				d, err := whole()
				if err != nil {
					return err
				}
				return mig.WriteF0401(w, d, seller)
			}})
		if inv.Voided {
			// The void event records the same deadline (stampUploadBy).
			out = append(out, Document{Message: MessageF0501, Number: inv.Number, Period: inv.Period, AccountID: inv.AccountID,
				At: inv.VoidedAt, Deadline: twrules.UploadDeadline(b2b, inv.VoidedAt),
				write: func(w io.Writer) error {
					d, err := whole()
					if err != nil {
						return err
					}
					return mig.WriteF0501(w, mig.Void{Invoice: d, At: inv.VoidedAt,
						Event: domain.InvoiceVoided{Number: inv.Number, Reason: inv.VoidReason, Special: inv.Special}}, seller)
				}})
		}
		for i, a := range inv.Allowances {
			deadline := a.UploadBy
			if deadline.IsZero() {
				deadline = twrules.UploadDeadline(b2b, a.IssuedAt)
			}
			out = append(out, Document{Message: MessageG0401, Number: a.Number, Period: inv.Period, AccountID: inv.AccountID,
				At: a.IssuedAt, Deadline: deadline,
				write: func(w io.Writer) error {
					d, err := whole()
					if err != nil {
						return err
					}
					return mig.WriteG0401(w, allowanceDoc(d, inv.Allowances, i), seller)
				}})
			if !a.Voided {
				continue
			}
			deadline = a.VoidUploadBy
			if deadline.IsZero() {
				deadline = twrules.UploadDeadline(b2b, a.VoidedAt)
			}
			out = append(out, Document{Message: MessageG0501, Number: a.Number, Period: inv.Period, AccountID: inv.AccountID,
				At: a.VoidedAt, Deadline: deadline,
				write: func(w io.Writer) error {
					d, err := whole()
					if err != nil {
						return err
					}
					return mig.WriteG0501(w, mig.AllowanceVoid{Invoice: d, Allowance: a.AllowanceIssued, IssuedAt: a.IssuedAt, At: a.VoidedAt,
						Event: domain.AllowanceVoided{Number: a.Number, InvoiceNumber: a.InvoiceNumber, Reason: a.VoidReason}}, seller)
				}})
		}
	}
	out = append(out, s.blankDocuments(seller)...)
	for i := range out {
		out[i].Status = FilingPending
		if f := s.l.filing[out[i].key()]; f != nil {
			out[i].Status, out[i].Reason, out[i].File = f.status, f.reason, f.file
		}
	}
	s.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Deadline.Before(out[j].Deadline) })
	return out
}

// blankDocuments are the E0402 documents of every period that has ended
// (BlankSettle ago) with numbers never used, one per 字軌; s.mu is held.
func (s *Service) blankDocuments(seller mig.Seller) []Document {
	now := s.now()
	var out []Document
	for period := range s.l.ranges {
		p, err := twrules.ParsePeriod(period)
		if err != nil || now.Before(p.End().Add(BlankSettle)) {
			continue
		}
		for _, b := range s.blanks(p) {
			out = append(out, Document{Message: MessageE0402, Number: b.Track, Period: period,
				At: p.End(), Deadline: twrules.BlankDeadline(p),
				write: func(w io.Writer) error {
					// Named by the seller of the period's invoices.
					one := []mig.Blank{b}
					if err := s.blankSellers(context.Background(), p, one); err != nil {
						return err
					}
					return mig.WriteE0402(w, one[0], seller)
				}})
		}
	}
	return out
}

// Turnkey's folders for platform storage (平台存證) messages, under its
// root: UpCast/B2SSTORAGE/<message>/SRC takes files to send; Turnkey moves
// each to BAK once sent and to ERR when it fails (docs/invoicing.md).
const turnkeyStorage = "UpCast/B2SSTORAGE"

// TurnkeyDir is the folder of a message's files in a Turnkey state: SRC,
// BAK or ERR.
func TurnkeyDir(root, message, state string) string {
	return filepath.Join(root, filepath.FromSlash(turnkeyStorage), message, state)
}

// turnkeyWriting is the folder beside a message's SRC where the outbox
// writes each file before renaming it into SRC. Turnkey takes any file in
// SRC, whatever its name, so a file half written (by a run killed midway)
// must never lie there; beside SRC it is on SRC's file system, so the
// rename moves a whole file in at once.
const turnkeyWriting = ".routefree-writing"

// writeToTurnkey writes a document's file into SRC through turnkeyWriting.
// The file is on disk before its rename into SRC (and the rename before the
// next file): after a power cut, SRC holds whole files, never one whose
// name came through and whose bytes did not, which Turnkey would send as a
// blank document to be rejected.
func writeToTurnkey(root, message, name string, b []byte) error {
	via := filepath.Join(root, filepath.FromSlash(turnkeyStorage), message, turnkeyWriting)
	if err := inherit.MkdirAll(via, 0o750); err != nil {
		return err
	}
	src := TurnkeyDir(root, message, "SRC")
	if err := inherit.MkdirAll(src, 0o750); err != nil {
		return err
	}
	return atomicfile.WriteVia(filepath.Join(src, name), via, b, 0o600, true)
}

// clearLeftovers removes what a run killed while writing left: the
// temporary file of a document's file, in turnkeyWriting, or in SRC where
// earlier releases made it. Only names this writer gives are touched
// (.<message>_….xml.partial-<digits>); the caller holds lockTurnkey, so no
// other run is writing one.
func clearLeftovers(root string, rep *OutboxReport) error {
	for _, msg := range Messages {
		for _, dir := range []string{
			filepath.Join(root, filepath.FromSlash(turnkeyStorage), msg, turnkeyWriting),
			TurnkeyDir(root, msg, "SRC"),
		} {
			ents, err := os.ReadDir(dir)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("invoicing: reading Turnkey's %s: %w", dir, err)
			}
			for _, de := range ents {
				of, ok := atomicfile.Leftover(de.Name())
				if !ok || de.IsDir() || !strings.HasPrefix(of, msg+"_") || !strings.HasSuffix(of, ".xml") {
					continue
				}
				path := filepath.Join(dir, de.Name())
				if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
					return fmt.Errorf("invoicing: removing a file a stopped outbox run left: %w", err)
				}
				rel, _ := filepath.Rel(root, path)
				rep.Cleared = append(rep.Cleared, filepath.ToSlash(rel))
			}
		}
	}
	return nil
}

// lockTurnkey takes an exclusive lock on Turnkey's root folder for one
// outbox run, waiting for another process's run to end: two runs would
// each take the other's file being written for a leftover. A file system
// that keeps no such locks (some network shares) runs unlocked: a run
// whose temporary file another clears then fails its rename, and SRC
// still never holds part of a file.
func lockTurnkey(root string) (unlock func(), err error) {
	d, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("invoicing: Turnkey's folder: %w", err)
	}
	err = syscall.Flock(int(d.Fd()), syscall.LOCK_EX)
	if err != nil && !errors.Is(err, syscall.ENOLCK) && !errors.Is(err, syscall.EOPNOTSUPP) && !errors.Is(err, syscall.EINVAL) {
		d.Close()
		return nil, fmt.Errorf("invoicing: locking Turnkey's folder %s: %w", root, err)
	}
	return func() { d.Close() }, nil
}

// OutboxReport says what an outbox run did.
type OutboxReport struct {
	Written  []string // files written to SRC (relative to the root)
	Removed  []string // E0402 files of withdrawn ranges taken back from SRC
	Cleared  []string // temporary files a run stopped while writing left
	Uploaded int      // uploaded events recorded
	Rejected int      // rejected events recorded
	Pending  []Document
	// Failed are the pending documents that could not be built (a
	// history an older release wrote, say); every other one is written.
	Failed []FailedDocument
}

// FailedDocument is a document the outbox could not build, and why.
type FailedDocument struct {
	Document
	Err error
}

// Outbox exchanges files with Turnkey under root: it first records what
// Turnkey reported (a document's file in BAK: uploaded; in ERR: rejected,
// with the text of a .txt or .log file of the same name as the reason),
// then writes every document still pending to SRC, one XML file each.
// Rejected documents are not written again: they need a correction.
// Running it again records and writes nothing new. A file reaches SRC
// whole or not at all (writeToTurnkey), and a run first clears what one
// killed while writing left (clearLeftovers). Before all that it
// reads Turnkey's F0401 files against this history (scanTurnkey): an
// invoice of this history whose number another invoice's file holds is
// held back, and the error names the numbers used outside the history.
// A root that does not exist is refused, never made: a mistyped folder
// would hold the files where no Turnkey reads them, past their deadlines.
func (s *Service) Outbox(ctx context.Context, root string) (OutboxReport, error) {
	var rep OutboxReport
	if fi, err := os.Stat(root); (err == nil && !fi.IsDir()) || os.IsNotExist(err) {
		return rep, fmt.Errorf("%w: Turnkey's folder %s does not exist (or is not a folder): give the root folder of the Turnkey program, where its UpCast folder is", ErrInvalid, root)
	} else if err != nil {
		return rep, fmt.Errorf("invoicing: Turnkey's folder: %w", err)
	}
	unlock, err := lockTurnkey(root)
	if err != nil {
		return rep, err
	}
	defer unlock()
	if err := clearLeftovers(root, &rep); err != nil {
		return rep, err
	}
	if err := s.Sync(ctx); err != nil {
		return rep, err
	}
	docs := s.Documents()
	byFile := map[string]*Document{}
	for i := range docs {
		byFile[docs[i].FileName()] = &docs[i]
	}
	foreign, clashes, err := s.scanTurnkey(root, byFile)
	if err != nil {
		return rep, err
	}
	for _, msg := range Messages {
		for _, state := range []string{"BAK", "ERR"} {
			err := filepath.WalkDir(TurnkeyDir(root, msg, state), func(path string, de fs.DirEntry, err error) error {
				if err != nil {
					if os.IsNotExist(err) {
						return nil
					}
					return err
				}
				d := byFile[de.Name()]
				if de.IsDir() || d == nil || d.Message != msg || d.Status == FilingUploaded || heldBack(clashes, d) {
					return nil
				}
				rel, _ := filepath.Rel(root, path)
				if state == "BAK" {
					rep.Uploaded++
					d.Status = FilingUploaded
					return s.recordFiling(ctx, d.key(), &domain.DocumentUploaded{Message: msg, Number: d.Number, Period: d.Period, File: filepath.ToSlash(rel)})
				}
				if d.Status == FilingRejected {
					return nil
				}
				rep.Rejected++
				d.Status = FilingRejected
				return s.recordFiling(ctx, d.key(), &domain.DocumentRejected{Message: msg, Number: d.Number, Period: d.Period,
					File: filepath.ToSlash(rel), Reason: rejectReason(path)})
			})
			if err != nil {
				return rep, fmt.Errorf("invoicing: reading Turnkey's %s/%s: %w", msg, state, err)
			}
		}
	}
	// A period whose numbers Turnkey's folders show used outside this
	// history has fewer blanks than the history knows: its E0402 waits
	// until they are taken out of use (turnkeyError names them).
	usedOutside := map[string]bool{}
	for _, f := range foreign {
		usedOutside[f.period] = true
	}
	for i := range docs {
		d := &docs[i]
		if d.Status != FilingPending || heldBack(clashes, d) || d.Message == MessageE0402 && usedOutside[d.Period] {
			continue
		}
		rep.Pending = append(rep.Pending, *d)
		var buf bytes.Buffer
		if err := d.write(&buf); err != nil {
			// One document's fault must not keep the others from Turnkey
			// and their deadlines: it is reported, the rest go on.
			rep.Failed = append(rep.Failed, FailedDocument{Document: *d, Err: err})
			continue
		}
		path := filepath.Join(TurnkeyDir(root, d.Message, "SRC"), d.FileName())
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, buf.Bytes()) {
			continue // Turnkey has not picked it up yet
		}
		if err := writeToTurnkey(root, d.Message, d.FileName(), buf.Bytes()); err != nil {
			return rep, err
		}
		rel, _ := filepath.Rel(root, path)
		rep.Written = append(rep.Written, filepath.ToSlash(rel))
	}
	if err := s.takeBackWithdrawn(root, byFile, &rep); err != nil {
		return rep, err
	}
	if rep.Uploaded+rep.Rejected > 0 {
		err = s.Sync(ctx)
	}
	return rep, errors.Join(err, rep.failures(), turnkeyError(foreign, clashes))
}

// takeBackWithdrawn removes from Turnkey's E0402 SRC folder the file of a
// withdrawn range's 字軌 that an earlier run wrote and Turnkey has not sent
// yet, when the period reports nothing blank of that 字軌 any more: the
// range was never the tax office's. A 字軌 that still has blanks keeps its
// file, written again above with what is left.
func (s *Service) takeBackWithdrawn(root string, current map[string]*Document, rep *OutboxReport) error {
	s.mu.Lock()
	var names []string
	for period, st := range s.l.ranges {
		p, err := twrules.ParsePeriod(period)
		if err != nil {
			continue
		}
		for _, w := range st.withdrawn {
			if name := mig.E0402FileName(p, w.Prefix); current[name] == nil && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	s.mu.Unlock()
	for _, name := range names {
		path := filepath.Join(TurnkeyDir(root, MessageE0402, "SRC"), name)
		err := os.Remove(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("invoicing: taking back the E0402 of a withdrawn range: %w", err)
		}
		rel, _ := filepath.Rel(root, path)
		rep.Removed = append(rep.Removed, filepath.ToSlash(rel))
	}
	return nil
}

// failures is one error naming every document that could not be built.
func (rep *OutboxReport) failures() error {
	if len(rep.Failed) == 0 {
		return nil
	}
	msgs := make([]string, len(rep.Failed))
	for i, f := range rep.Failed {
		msgs[i] = fmt.Sprintf("%s %s: %v", f.Message, f.Number, f.Err)
	}
	return fmt.Errorf("invoicing: %d of the pending documents could not be written, the others were: %s", len(rep.Failed), strings.Join(msgs, "; "))
}

// recordFiling appends a filing event; its ID is the document and the
// outcome, so a report read twice is stored once.
func (s *Service) recordFiling(ctx context.Context, key string, ev domain.Event) error {
	d, err := encode(ctx, domain.EventID(ev.EventType(), key), s.now(), ev)
	if err != nil {
		return err
	}
	_, err = s.store.Append(ctx, domain.FilingStream(key), eventstore.Any(), d)
	return err
}

// rejectReason reads the log Turnkey left beside a refused file, if any.
func rejectReason(path string) string {
	base := strings.TrimSuffix(path, filepath.Ext(path))
	for _, ext := range []string{".txt", ".log", ".err"} {
		if b, err := os.ReadFile(base + ext); err == nil {
			r := strings.TrimSpace(string(b))
			if len([]rune(r)) > 500 {
				r = string([]rune(r)[:500])
			}
			if r != "" {
				return r
			}
		}
	}
	return "Turnkey moved the file to ERR; see its log"
}
