package invoicing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/internal/atomicfile"
	"github.com/routefree/routefree/internal/inherit"
	"github.com/routefree/routefree/invoicing/mig"
	"github.com/routefree/routefree/invoicing/pdf"
	"github.com/routefree/routefree/invoicing/twrules"
)

// renderers holds one renderer per (font, key): the font is parsed once.
var renderers sync.Map // rendererKey → *pdf.Renderer

type rendererKey struct{ font, key string }

var rendererMu sync.Mutex

func rendererFor(c SellerConfig) (*pdf.Renderer, error) {
	k := rendererKey{c.FontPath, c.QRKeyHex}
	if r, ok := renderers.Load(k); ok {
		return r.(*pdf.Renderer), nil
	}
	rendererMu.Lock()
	defer rendererMu.Unlock()
	if r, ok := renderers.Load(k); ok {
		return r.(*pdf.Renderer), nil
	}
	r, err := pdf.New(pdf.Config{FontPath: c.FontPath, QRKeyHex: c.QRKeyHex})
	if err != nil {
		return nil, err
	}
	renderers.Store(k, r)
	return r, nil
}

// ContentHash is the SHA-256 of an invoice's PDF as issued (without a void
// mark): rendering is deterministic, so the hash recorded at issue equals
// the hash regenerated from history by an auditor's replay.
func ContentHash(inv domain.InvoiceIssued, seller SellerConfig) ([]byte, error) {
	r, err := rendererFor(seller)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if err := r.RenderInvoice(h, inv, seller.PDF(), pdf.InvoiceOptions{}); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// RenderInvoice writes an invoice's PDF, marked 作廢 when voided.
func (s *Service) RenderInvoice(w io.Writer, inv Invoice) error {
	inv, err := s.document(context.Background(), inv)
	if err != nil {
		return err
	}
	var opts pdf.InvoiceOptions
	if inv.Voided {
		opts.Void = voidMark(inv)
	}
	return s.renderer.RenderInvoice(w, inv.InvoiceIssued, s.seller.PDF(), opts)
}

// ThermalPDF writes the invoice's proof in the 5.7 cm format (a proof
// that is not printed, B2C to a carrier or donated, gives its A4 notice).
func (s *Service) ThermalPDF(w io.Writer, number string) error {
	inv, err := s.Invoice(number)
	if err != nil {
		return err
	}
	opts := pdf.InvoiceOptions{Thermal: true}
	if inv.Voided {
		opts.Void = voidMark(inv)
	}
	return s.renderer.RenderInvoice(w, inv.InvoiceIssued, s.seller.PDF(), opts)
}

// InvoicePDF writes the PDF of the invoice with number, from the cache
// directory when it holds it.
func (s *Service) InvoicePDF(w io.Writer, number string) error {
	inv, err := s.Invoice(number)
	if err != nil {
		return err
	}
	if inv, err = s.document(context.Background(), inv); err != nil {
		return err
	}
	name, err := s.documentName(inv)
	if err != nil {
		return err
	}
	return s.cached(w, filepath.Join("invoices", name), func(w io.Writer) error { return s.RenderInvoice(w, inv) })
}

// documentName names an invoice's cached PDF after everything its rendering
// reads: the invoice as issued, its void, the seller, the renderer's
// settings and the layout where it changed (pdf.InvoiceLayout). A store restored from an older copy may give the number to
// another buyer, and new seller settings render anew: neither is ever
// served the file of another document.
func (s *Service) documentName(inv Invoice) (string, error) {
	h := sha256.New()
	err := json.NewEncoder(h).Encode(struct {
		Invoice    domain.InvoiceIssued
		Event      uuid.UUID
		Voided     bool
		VoidReason string
		VoidedAt   time.Time
		Seller     pdf.Seller
		Font, QR   string
		Layout     string `json:",omitempty"`
	}{inv.InvoiceIssued, inv.EventID, inv.Voided, inv.VoidReason, inv.VoidedAt, s.seller.PDF(), s.seller.FontPath, s.seller.QRKeyHex,
		pdf.InvoiceLayout(inv.InvoiceIssued)})
	if err != nil {
		return "", err
	}
	name := inv.Period + "-" + inv.Number
	if inv.Voided {
		name += "-void"
	}
	return fmt.Sprintf("%s-%x.pdf", name, h.Sum(nil)[:12]), nil
}

// cached serves a document from CacheDir, rendering and storing it on a miss.
func (s *Service) cached(w io.Writer, rel string, render func(io.Writer) error) error {
	if s.cacheDir == "" {
		return render(w)
	}
	path := filepath.Join(s.cacheDir, rel)
	if b, err := os.ReadFile(path); err == nil {
		_, err = w.Write(b)
		return err
	}
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		// Only a cache: a full disk or a read-only directory must not
		// keep a document from its reader, who gets it rendered anew.
		s.log.Warn("invoicing: a rendered PDF was not kept in the cache; it is rendered again at each request",
			"dir", s.cacheDir, "err", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// writeFileAtomic writes through a temporary file, so a reader never sees
// half a PDF. It does not flush to the disk: the cache and a close's PDFs
// are made again when missing or torn.
func writeFileAtomic(path string, b []byte) error {
	if err := inherit.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o600, false)
}

// pdfName is the file name of an invoice's PDF: <period>-<number>.pdf.
func pdfName(inv Invoice) string { return inv.Period + "-" + inv.Number + ".pdf" }

// WritePDFs renders invoices to dir/<period>-<number>.pdf with workers
// goroutines (default 2).
func (s *Service) WritePDFs(ctx context.Context, dir string, invs []Invoice, workers int) error {
	if workers <= 0 {
		workers = 2
	}
	if err := inherit.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range invs {
		inv := invs[i]
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var buf bytes.Buffer
			buf.Grow(64 << 10)
			if err := s.RenderInvoice(&buf, inv); err != nil {
				return fmt.Errorf("invoicing: PDF of %s: %w", inv.Number, err)
			}
			// Through a temporary file: a PDF stopped halfway (kill -9)
			// never lies there under the invoice's name.
			return writeFileAtomic(filepath.Join(dir, pdfName(inv)), buf.Bytes())
		})
	}
	return g.Wait()
}

// AllowanceInvoice returns the invoice an allowance is against.
func (s *Service) AllowanceInvoice(number string) (Invoice, error) {
	s.mu.Lock()
	inv := s.l.byAllow[number]
	var c Invoice
	if inv != nil {
		c = inv.clone()
	}
	s.mu.Unlock()
	if inv == nil {
		return Invoice{}, fmt.Errorf("%w: allowance %s", ErrNotFound, domain.Excerpt(number))
	}
	return s.document(context.Background(), c)
}

// AllowancePDF writes the 折讓證明單 with the allowance number, marked 作廢
// when voided.
func (s *Service) AllowancePDF(w io.Writer, number string) error {
	s.mu.Lock()
	inv := s.l.byAllow[number]
	var c Invoice
	if inv != nil {
		c = inv.clone()
	}
	s.mu.Unlock()
	if inv == nil {
		return fmt.Errorf("%w: allowance %s", ErrNotFound, domain.Excerpt(number))
	}
	c, err := s.document(context.Background(), c)
	if err != nil {
		return err
	}
	for _, a := range c.Allowances {
		if a.Number == number && a.Voided {
			return s.renderer.RenderVoidedAllowance(w, a.AllowanceIssued, a.IssuedAt, c.InvoiceIssued, s.seller.PDF(),
				pdf.VoidMark{Reason: a.VoidReason, At: a.VoidedAt})
		}
		if a.Number == number {
			return s.renderer.RenderAllowance(w, a.AllowanceIssued, a.IssuedAt, c.InvoiceIssued, s.seller.PDF())
		}
	}
	return fmt.Errorf("%w: allowance %s", ErrNotFound, domain.Excerpt(number))
}

// ExportF0401 writes the MIG 4.1 F0401 messages of a period's invoices as a
// zip, voided ones included (their F0501 follows separately).
func (s *Service) ExportF0401(w io.Writer, period string) error {
	invs := s.PeriodInvoices(period)
	if err := s.LoadDocuments(context.Background(), invs); err != nil {
		return err
	}
	evs := make([]domain.InvoiceIssued, len(invs))
	for i, inv := range invs {
		evs[i] = inv.InvoiceIssued
	}
	return mig.ExportF0401(w, evs, s.seller.MIG())
}

// Message types of the MIG 4.1 exports.
const (
	MessageF0401 = "F0401" // invoices issued
	MessageF0501 = "F0501" // invoices voided (作廢)
	MessageG0401 = "G0401" // allowances (折讓)
	MessageG0501 = "G0501" // allowances voided
	MessageE0402 = "E0402" // numbers of a period left unused (空白未使用字軌)
)

// Messages are the message types Export writes.
var Messages = []string{MessageF0401, MessageF0501, MessageG0401, MessageG0501, MessageE0402}

// Blanks are the numbers of a period's ranges that were never used, per
// 字軌. Numbers are taken in order, range after range, and every number
// taken is reported (a voided invoice's too), so what is left of each
// range is one run from its first unused number to its end, besides the
// rare numbers passed over (see ledger.applyRange).
func (s *Service) Blanks(p twrules.Period) []mig.Blank {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blanks(p)
}

// blanks is Blanks with s.mu held.
func (s *Service) blanks(p twrules.Period) []mig.Blank {
	st := s.l.ranges[p.String()]
	if st == nil {
		return nil
	}
	var runs []twrules.Range
	for _, g := range st.passed {
		runs = append(runs, st.rngs.Runs(g[0], g[1])...)
	}
	runs = append(runs, st.rngs.Runs(st.count, st.rngs.Size()-1)...)
	// In the order the numbers are taken, 字軌 by 字軌.
	first := func(r twrules.Range) int64 { k, _ := st.rngs.Index(fmt.Sprintf("%s%08d", r.Prefix, r.From)); return k }
	sort.SliceStable(runs, func(i, j int) bool { return first(runs[i]) < first(runs[j]) })
	var out []mig.Blank
	for _, run := range runs {
		i := slices.IndexFunc(out, func(b mig.Blank) bool { return b.Track == run.Prefix })
		if i < 0 {
			out = append(out, mig.Blank{Period: p, Track: run.Prefix})
			i = len(out) - 1
		}
		out[i].Runs = append(out[i].Runs, run)
	}
	return out
}

// ExportE0402 writes the E0402 messages of a period that has ended: until
// then its numbers may still be used.
func (s *Service) ExportE0402(w io.Writer, p twrules.Period) error {
	if now := s.now(); now.Before(p.End()) {
		return fmt.Errorf("%w: period %s runs until %s (Taipei): its numbers may still be used, and its unused ones are reported once it has ended, within ten days",
			ErrInvalid, p, p.End().Add(-time.Second).In(twrules.Taipei).Format("2006-01-02 15:04:05"))
	}
	blanks := s.Blanks(p)
	if err := s.blankSellers(context.Background(), p, blanks); err != nil {
		return err
	}
	return mig.ExportE0402(w, blanks, s.seller.MIG())
}

// blankSellers sets the seller of each of a period's blanks to the one its
// invoices recorded at issue, as their F0401s name it: that of the last
// invoice the blank's 字軌 numbered, whose numbers the unused ones follow,
// else that of the period's last invoice. The configuration may have
// changed since; a period with no invoice recording its seller keeps the
// configured one. s.mu is not held.
func (s *Service) blankSellers(ctx context.Context, p twrules.Period, blanks []mig.Blank) error {
	period := p.String()
	s.mu.Lock()
	var last *invoice
	byTrack := map[string]*invoice{}
	for _, inv := range s.l.invoices {
		if inv.Period != period || len(inv.Number) < 2 {
			continue
		}
		if last == nil || inv.at > last.at {
			last = inv
		}
		if t := byTrack[inv.Number[:2]]; t == nil || inv.at > t.at {
			byTrack[inv.Number[:2]] = inv
		}
	}
	var invs []Invoice
	from := make([]int, len(blanks)) // each blank's invoice in invs, -1: none
	for i, b := range blanks {
		inv := byTrack[b.Track]
		if inv == nil {
			inv = last
		}
		from[i] = slices.IndexFunc(invs, func(c Invoice) bool { return inv != nil && c.EventID == inv.EventID })
		if inv != nil && from[i] < 0 {
			invs, from[i] = append(invs, inv.clone()), len(invs)
		}
	}
	s.mu.Unlock()
	if err := s.LoadDocuments(ctx, invs); err != nil {
		return err
	}
	for i := range blanks {
		if from[i] >= 0 {
			blanks[i].Seller = invs[from[i]].Seller
		}
	}
	return nil
}

// Export writes one MIG 4.1 message type of a two-month period as a zip:
// F0401 the period's invoices; F0501, G0401 and G0501 the voids,
// allowances and allowance voids made during the period (Asia/Taipei), whatever period their invoice is
// in, since each is reported when it happens; E0402 the period's numbers
// left unused, once it has ended.
func (s *Service) Export(w io.Writer, message, period string) error {
	if message == MessageF0401 {
		return s.ExportF0401(w, period)
	}
	p, err := twrules.ParsePeriod(period)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if message == MessageE0402 {
		return s.ExportE0402(w, p)
	}
	// The invoices with a void, allowance or allowance void in the period,
	// read whole once the ledger is let go.
	var invs []Invoice
	s.mu.Lock()
	for _, inv := range s.l.invoices {
		in := inv.Voided && p.Contains(inv.changes.voidedAt)
		for _, a := range inv.allowances() {
			in = in || p.Contains(a.IssuedAt) || (a.Voided && p.Contains(a.VoidedAt))
		}
		if in {
			invs = append(invs, inv.clone())
		}
	}
	s.mu.Unlock()
	if err := s.LoadDocuments(context.Background(), invs); err != nil {
		return err
	}
	var voids []mig.Void
	var allowances []mig.AllowanceDoc
	var allowanceVoids []mig.AllowanceVoid
	for _, c := range invs {
		if c.Voided && p.Contains(c.VoidedAt) {
			voids = append(voids, mig.Void{Invoice: c.InvoiceIssued, At: c.VoidedAt,
				Event: domain.InvoiceVoided{Number: c.Number, Reason: c.VoidReason, Special: c.Special}})
		}
		for i, a := range c.Allowances {
			if p.Contains(a.IssuedAt) {
				allowances = append(allowances, allowanceDoc(c.InvoiceIssued, c.Allowances, i))
			}
			if a.Voided && p.Contains(a.VoidedAt) {
				allowanceVoids = append(allowanceVoids, mig.AllowanceVoid{Invoice: c.InvoiceIssued, Allowance: a.AllowanceIssued,
					IssuedAt: a.IssuedAt, At: a.VoidedAt,
					Event: domain.AllowanceVoided{Number: a.Number, InvoiceNumber: a.InvoiceNumber, Reason: a.VoidReason}})
			}
		}
	}
	switch message {
	case MessageF0501:
		sort.Slice(voids, func(i, j int) bool { return voids[i].Invoice.Number < voids[j].Invoice.Number })
		return mig.ExportF0501(w, voids, s.seller.MIG())
	case MessageG0401:
		sort.Slice(allowances, func(i, j int) bool { return allowances[i].Event.Number < allowances[j].Event.Number })
		return mig.ExportG0401(w, allowances, s.seller.MIG())
	case MessageG0501:
		sort.Slice(allowanceVoids, func(i, j int) bool { return allowanceVoids[i].Allowance.Number < allowanceVoids[j].Allowance.Number })
		return mig.ExportG0501(w, allowanceVoids, s.seller.MIG())
	}
	return fmt.Errorf("%w: message %s: want %s, %s, %s or %s", ErrInvalid, domain.Quote(message), MessageF0401, MessageF0501, MessageG0401, MessageG0501)
}

// voidMark is what a voided invoice's PDF prints of its void.
func voidMark(inv Invoice) *pdf.VoidMark {
	v := &pdf.VoidMark{Reason: inv.VoidReason, At: inv.VoidedAt}
	if inv.Special != nil {
		v.Approval, v.ApprovedOn = inv.Special.Approval, inv.Special.ApprovedOn
	}
	return v
}

// allowanceDoc is what G0401 needs of the i-th allowance of an invoice:
// the invoice and the allowances issued before it, whose items it follows.
func allowanceDoc(inv domain.InvoiceIssued, all []Allowance, i int) mig.AllowanceDoc {
	a := all[i]
	d := mig.AllowanceDoc{Invoice: inv, Event: a.AllowanceIssued, At: a.IssuedAt, Seq: a.issuedV}
	for _, e := range all[:i] {
		d.Earlier = append(d.Earlier, mig.PriorAllowance{Event: e.AllowanceIssued, Seq: e.issuedV, VoidSeq: e.voidedV})
	}
	return d
}
