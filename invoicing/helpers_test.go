package invoicing

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// taipei builds an instant from Taipei wall time.
func taipei(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.FixedZone("CST", 8*3600))
}

type env struct {
	t     testing.TB
	ctx   context.Context
	store *sqlite.Store
	path  string
	cmd   *commands.Handler
	clock *clock
	svc   *Service
}

func newEnv(t testing.TB, now time.Time) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &clock{t: now}
	e := &env{t: t, ctx: context.Background(), store: s, path: path, clock: c}
	e.cmd = &commands.Handler{Store: s, Now: c.Now}
	e.svc = e.newService()
	return e
}

func (e *env) newService() *Service {
	e.t.Helper()
	svc, err := New(e.store, Config{Seller: DevSeller(), Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

func (e *env) open(id, org, taxID string, plan domain.Plan) {
	e.t.Helper()
	if _, err := e.cmd.OpenAccount(e.ctx, domain.AccountOpened{AccountID: id, Organisation: org, TaxID: taxID, Plan: plan}); err != nil {
		e.t.Fatal(err)
	}
}

var reqSeq int

// use records a completed request of an account.
func (e *env) use(acct, model string, at time.Time, in, out int64, cost string) {
	e.t.Helper()
	reqSeq++
	id := fmt.Sprintf("req-%s-%d", acct, reqSeq)
	rc := &domain.RequestCompleted{RequestID: id, AccountID: acct, Model: model, Usage: domain.Usage{Input: in, Output: out},
		Cost: dec(cost), StartedAt: at.UTC(), Outcome: domain.OutcomeCompleted}
	d, err := commands.Event(domain.EventID(domain.TypeRequestCompleted, id), at.Add(2*time.Second), rc)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(e.ctx, domain.UsageStream(acct), eventstore.Any(), d); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) assign(period, prefix string, from, to int64) {
	e.t.Helper()
	if err := e.svc.AssignRange(e.ctx, period, prefix, from, to); err != nil {
		e.t.Fatal(err)
	}
}

// The read-back helpers need poppler-utils (pdftotext, pdftoppm).
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: apt-get install -y poppler-utils", name)
	}
	return p
}

func pdfText(t testing.TB, doc []byte) string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool(t, "pdftotext"), "-enc", "UTF-8", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return string(out)
}

func rasterize(t testing.TB, doc []byte, dpi int) image.Image {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool(t, "pdftoppm"), "-png", "-gray", "-singlefile", "-f", "1", "-l", "1",
		"-r", strconv.Itoa(dpi), in, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// crop cuts a region (mm) from a page rendered at dpi.
func crop(img image.Image, dpi int, x, y, w, h float64) image.Image {
	px := func(mm float64) int { return int(mm / 25.4 * float64(dpi)) }
	r := image.Rect(px(x), px(y), px(x+w), px(y+h))
	out := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
	return out
}

var hints = map[gozxing.DecodeHintType]interface{}{
	gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	gozxing.DecodeHintType_TRY_HARDER:    true,
}

func decodeQR(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("QR decode: %v", err)
	}
	return res.GetText()
}

func decodeCode39(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := oned.NewCode39Reader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("Code 39 decode: %v", err)
	}
	return res.GetText()
}

func mustContain(t testing.TB, text string, wants ...string) {
	t.Helper()
	joined := strings.ReplaceAll(text, "\n", "")
	for _, w := range wants {
		if !strings.Contains(text, w) && !strings.Contains(joined, w) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("extracted text:\n%s", text)
	}
}
