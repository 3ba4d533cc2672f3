package main

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/invoicing/twrules"
	"github.com/routefree/routefree/projections"
)

// copyStore copies a SQLite store's files (the database and any WAL) from
// one directory to another, as an operator's backup or restore of a
// stopped gateway's events.db does; the destination's old WAL goes.
func copyStore(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		dst := filepath.Join(to, "events.db"+suffix)
		if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		src, err := os.Open(filepath.Join(from, "events.db"+suffix))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUsageAfterTheStoreIsRestoredFromABackup: events.db put back from an
// earlier copy beside the read models of a later history. The usage the
// console shows must be the restored history's, as replay counts it, not
// the lost requests' with the restored store's new ones left out.
func TestUsageAfterTheStoreIsRestoredFromABackup(t *testing.T) {
	up := fakeUpstream(t, providertest.Script{Text: "restored", Chunks: 2})
	env := baseEnv(up)
	dir, backup := t.TempDir(), t.TempDir()
	store := []string{"--data-dir", dir}
	key := prepareDemo(t, env, store, 100000, "")

	serveAndChat := func(n int) {
		p := startServe(t, env, store...)
		for range n {
			if st := chatStatus(p.base, key); st != 200 {
				t.Fatalf("chat: status %d", st)
			}
		}
		if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
			t.Fatalf("serve exit status %d", code)
		}
	}
	serveAndChat(3)
	copyStore(t, dir, backup)
	serveAndChat(5) // lost with the restore
	copyStore(t, backup, dir)
	serveAndChat(2)
	serveAndChat(0) // serve listens once every read model holds the history, and writes them out as it stops

	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	figs, err := projections.Replay(context.Background(), s, nil)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "readmodels.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var requests int64
	var costs []string
	rows, err := db.Query("SELECT requests, cost FROM usage_monthly WHERE account_id = 'acct_demo'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int64
		var c string
		if err := rows.Scan(&n, &c); err != nil {
			t.Fatal(err)
		}
		requests += n
		costs = append(costs, c)
	}
	rows.Close()
	shown := decimal.Zero
	for _, c := range costs {
		shown = shown.Add(decimal.RequireFromString(c))
	}
	var used decimal.Decimal
	for _, byAccount := range figs.MonthlyByAccount {
		used = used.Add(byAccount["acct_demo"])
	}
	if requests != 5 || !shown.Equal(used) {
		t.Fatalf("usage shown after the restore: %d requests costing %s; the restored history has 5 costing %s", requests, shown, used)
	}
}

// TestInvoicePDFAfterTheStoreIsRestoredFromABackup: an invoice issued and
// its PDF fetched (and kept in the documents folder), then the store put
// back from a copy taken before it; the number goes to another buyer. Its
// PDF must be that buyer's, never the lost invoice's.
func TestInvoicePDFAfterTheStoreIsRestoredFromABackup(t *testing.T) {
	dir, backup := t.TempDir(), t.TempDir()
	env := append(os.Environ(), "ROUTEFREE_DATA_DIR="+dir)
	if code := startServe(t, env).stop(syscall.SIGTERM, 30*time.Second); code != 0 { // makes the store
		t.Fatalf("serve exit status %d", code)
	}
	period := twrules.PeriodOf(time.Now()).String()
	runCLI(t, env, "invoices", "range", "--period", period, "--prefix", "AB", "--from", "12345000", "--to", "12345099")
	copyStore(t, dir, backup)

	pdfOf := func(org string) string {
		id := "acct_" + map[string]string{"甲公司": "first", "乙公司": "second"}[org]
		runCLI(t, env, "accounts", "open", "--id", id, "--organisation", org, "--tax-id", "04595257")
		runCLI(t, env, "credits", "topup", "--account", id, "--amount", "1000", "--method", "bank-transfer", "--reference", "T-"+id)
		if out := runCLI(t, env, "invoices", "topups"); !strings.Contains(out, "issued 1 top-up invoices") {
			t.Fatalf("topups: %s", out)
		}
		path := filepath.Join(t.TempDir(), "invoice.pdf")
		runCLI(t, env, "invoices", "pdf", "--number", "AB12345000", "--out", path)
		return pdfFileText(t, path)
	}
	if text := pdfOf("甲公司"); !strings.Contains(text, "甲公司") {
		t.Fatalf("the first invoice's PDF:\n%s", text)
	}
	copyStore(t, backup, dir)
	if text := pdfOf("乙公司"); !strings.Contains(text, "乙公司") || strings.Contains(text, "甲公司") {
		t.Fatalf("AB12345000 issued to 乙公司 after the restore; its PDF reads:\n%s", text)
	}
}
