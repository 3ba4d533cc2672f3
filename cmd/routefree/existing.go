package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/routefree/routefree/console"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/projections"
)

// eventCount counts the events in the store, for serve's first words: it
// is an in-memory projection, so it sees the whole history at every start.
type eventCount struct {
	mu  sync.Mutex
	pos eventstore.Position
	n   int64
	// The last event applied, which the store must go on holding.
	lastID   uuid.UUID
	lastHash []byte
}

func (c *eventCount) Name() string { return "event-count" }

func (c *eventCount) Checkpoint(context.Context) (eventstore.Position, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos, nil
}

func (c *eventCount) Apply(_ context.Context, batch []projections.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range batch {
		if c.pos.Less(batch[i].Position) {
			c.n++
			c.pos = batch[i].Position
			c.lastID, c.lastHash = batch[i].ID, batch[i].Hash
		}
	}
	return nil
}

// last is the last event applied: its ID and hash (ok false before any).
func (c *eventCount) last() (id uuid.UUID, hash []byte, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastID, c.lastHash, c.n > 0
}

func (c *eventCount) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// tellExisting tells someone starting serve on a store that already holds
// a history (the ./data of an earlier run, say) where they are: what the
// store holds, that the demo key and the first admin token were printed
// only when it was new, and how to get new ones. A new store, or one that
// holds only prices, says no more: this start prints the keys themselves.
func (in *instance) tellExisting(w io.Writer, events int64) {
	if events == 0 {
		return
	}
	where := in.cfg.Store + " store"
	if in.cfg.Store == "sqlite" {
		where = "store " + in.cfg.sqlitePath()
	}
	accounts, tokens := in.views.AccountCount(), len(in.views.StaffTokens())
	fmt.Fprintf(w, "opened the existing %s: %d events, %d accounts, %d API keys, %d staff tokens\n",
		where, events, accounts, in.models.Keys.Len(), tokens)
	if accounts == 0 && tokens == 0 {
		// Only prices so far (published before the first serve): this start
		// bootstraps the store as a new one and prints its keys below.
		return
	}
	// Say only what an earlier start printed: a store first served without
	// --bootstrap-demo has no demo key yet (this start may print one), and
	// an admin token given by ROUTEFREE_ADMIN_TOKEN was never printed.
	var printed []string
	if len(in.models.Keys.ByAccount(demoAccount)) > 0 {
		printed = append(printed, "the demo key")
	}
	for _, t := range in.views.StaffTokens() {
		if t.Name == console.BootstrapTokenName {
			printed = append(printed, "the first admin token")
			break
		}
	}
	switch len(printed) {
	case 1:
		fmt.Fprintf(w, "  %s was printed when this store was new, and is not shown again;\n", printed[0])
	case 2:
		fmt.Fprintf(w, "  %s and %s were printed when this store was new, and are not shown again;\n", printed[0], printed[1])
	}
	store := in.cfg.storeFlags()
	fmt.Fprintf(w, "  a new API key:     %s keys issue --account acct_demo%s   (or another account's ID)\n", selfCommand(), store)
	fmt.Fprintf(w, "  a new admin token: %s staff issue --role admin%s   (or set ROUTEFREE_ADMIN_TOKEN)\n", selfCommand(), store)
	switch in.cfg.Store {
	case "sqlite":
		fmt.Fprintln(w, "  a fresh start:     serve --data-dir with an empty directory, or move this one away")
	case "postgres":
		fmt.Fprintln(w, "  a fresh start:     another schema (search_path in --postgres-url) or database")
	default:
		fmt.Fprintln(w, "  a fresh start:     another KurrentDB database")
	}
}

// goRunExe matches the path of an executable that `go run` built: in a
// build directory (go-build…/b001/exe/NAME) or in the build cache
// (…/xx/HASH-d/NAME).
var goRunExe = regexp.MustCompile(`/go-build[0-9]+/b[0-9]+/exe/[^/]+$|/[0-9a-f]{2}/[0-9a-f]{64}-d/[^/]+$`)

// selfCommand begins the commands serve prints as the operator runs this
// program: "go run ./cmd/routefree" under `go run` (the README's first
// command, with no routefree on the PATH), else "routefree".
func selfCommand() string {
	if goRunExe.MatchString(filepath.ToSlash(os.Args[0])) {
		return "go run ./cmd/routefree"
	}
	return "routefree"
}

// storeFlags are the flags that point a CLI command at this store, as a
// suffix of a command line ("" for the default ./data). A URL's password
// is shown as xxxxx: the line goes to the terminal and its logs.
func (c *Config) storeFlags() string {
	switch c.Store {
	case "sqlite":
		if c.DataDir == "data" {
			return ""
		}
		return " --data-dir " + shellWord(c.DataDir)
	case "postgres":
		return " --store postgres --postgres-url " + shellWord(redactURL(c.PostgresURL))
	default:
		return " --store " + c.Store + " --kurrentdb-url " + shellWord(redactURL(c.KurrentURL))
	}
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "…"
	}
	return u.Redacted()
}

// shellWord quotes s for a POSIX shell when it holds anything but plain
// path and URL characters.
func shellWord(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r)) {
			plain = false
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
