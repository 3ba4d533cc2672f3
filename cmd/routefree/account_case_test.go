package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/postgres"
	"github.com/routefree/routefree/eventstore/sqlite"
	"github.com/routefree/routefree/gateway/providers/providertest"
	"github.com/routefree/routefree/internal/testenv"
)

// openedAccounts lists the account IDs a history opened, in order.
func openedAccounts(t *testing.T, s eventstore.Store) []string {
	t.Helper()
	var ids []string
	pos := eventstore.Start
	for {
		evs, err := s.ReadAll(context.Background(), pos, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			return ids
		}
		for _, e := range evs {
			pos = e.Position
			if e.Type != domain.TypeAccountOpened {
				continue
			}
			d, err := domain.Decode(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, d.(*domain.AccountOpened).AccountID)
		}
	}
}

// openAt starts `accounts open --id id` and returns a function that waits
// for it and returns its exit error and stderr.
func openAt(t *testing.T, env, store []string, id string) func() (error, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"accounts", "open", "--id", id, "--organisation", "Org " + id}, store...)...)
	cmd.Env = env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func() (error, string) { err := cmd.Wait(); return err, errb.String() }
}

// Two accounts whose IDs differ only in case (acme, ACME) would look alike
// on invoices, keys and payments: the second is refused, naming the first,
// by the CLI on either store. Opened at once by two processes, one of
// each pair is opened and the other refused.
func TestAccountIDsThatDifferOnlyInCaseAreRefused(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := storeDir(t)
			env := append(baseEnv(""), "ROUTEFREE_DATA_DIR="+dir)
			var store []string
			var s eventstore.Store
			if backend == "postgres" {
				url := testenv.PostgresURL(t)
				store = []string{"--store", "postgres", "--postgres-url", url}
				s = openPostgres(t, url) // makes the store's tables
			}
			runCLI(t, env, append([]string{"accounts", "open", "--id", "acme", "--organisation", "Acme"}, store...)...)
			err, stderr := openAt(t, env, store, "ACME")()
			if err == nil || !strings.Contains(stderr, "account acme") || !strings.Contains(stderr, "case") {
				t.Fatalf("opening ACME beside acme: %v\n%s", err, stderr)
			}
			// The same ID exactly is refused as before.
			if err, stderr := openAt(t, env, store, "acme")(); err == nil || !strings.Contains(stderr, "account acme already exists") {
				t.Fatalf("opening acme again: %v\n%s", err, stderr)
			}
			const rounds = 6
			for i := range rounds {
				lower, upper := fmt.Sprintf("race%d", i), fmt.Sprintf("RACE%d", i)
				a, b := openAt(t, env, store, lower), openAt(t, env, store, upper)
				errA, outA := a()
				errB, outB := b()
				if (errA == nil) == (errB == nil) {
					t.Fatalf("round %d: %s: %v %s; %s: %v %s; want one opened and one refused", i, lower, errA, outA, upper, errB, outB)
				}
				winner, refusal := lower, outB
				if errA != nil {
					winner, refusal = upper, outA
				}
				if !strings.Contains(refusal, "account "+winner) {
					t.Fatalf("round %d: the refusal does not name %s:\n%s", i, winner, refusal)
				}
			}
			if s == nil {
				s = openSQLite(t, dir)
			}
			opened := openedAccounts(t, s)
			if len(opened) != 1+rounds {
				t.Fatalf("history opened %q; want acme and one of each pair", opened)
			}
		})
	}
}

// The admin API refuses the look-alike too, in the API's error shape,
// naming the account that exists.
func TestAdminAPIRefusesAnAccountIDThatDiffersOnlyInCase(t *testing.T) {
	dir := storeDir(t)
	env := append(baseEnv(fakeUpstream(t, providertest.Script{})), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "accounts", "open", "--id", "Globex", "--organisation", "Globex")
	token := staffToken(t, env, nil, "admin")
	p := startServe(t, env)
	body := `{"account_id":"GLOBEX","organisation":"Globex again"}`
	req, _ := http.NewRequest(http.MethodPost, p.base+"/admin/api/accounts", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusConflict || e.Error.Code != http.StatusConflict || !strings.Contains(e.Error.Message, "account Globex") {
		t.Fatalf("POST GLOBEX beside Globex: %d %+v", resp.StatusCode, e)
	}
}

// A store in which an earlier release opened two accounts whose IDs
// differ only in case keeps them both working; a third look-alike is
// refused, naming one of them.
func TestLookAlikeAccountsOfAnEarlierReleaseKeepWorking(t *testing.T) {
	dir := storeDir(t)
	env := append(baseEnv(""), "ROUTEFREE_DATA_DIR="+dir)
	runCLI(t, env, "accounts", "open", "--id", "acct_seed", "--organisation", "Seed")
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"initech", "INITECH"} {
		// As an earlier release recorded it: under an event ID of its own.
		d, err := commands.Event(uuid.New(), time.Now(), &domain.AccountOpened{AccountID: id, Organisation: "Initech", Plan: domain.PlanStarter,
			Actor: domain.Actor{Kind: domain.ActorCLI, ID: "ops"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(context.Background(), domain.AccountStream(id), eventstore.NoStream(), d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"initech", "INITECH"} {
		issuedKey(t, runCLI(t, env, "keys", "issue", "--account", id, "--name", "k"))
		runCLI(t, env, "credits", "topup", "--account", id, "--amount", "100", "--method", "adjustment", "--reference", "seed-"+id)
	}
	err, stderr := openAt(t, env, nil, "Initech")()
	if err == nil || !strings.Contains(stderr, "account initech") && !strings.Contains(stderr, "account INITECH") {
		t.Fatalf("opening Initech beside initech and INITECH: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "events.db")); err != nil {
		t.Fatal(err)
	}
}

func openSQLite(t *testing.T, dir string) eventstore.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(dir, "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T, url string) eventstore.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
