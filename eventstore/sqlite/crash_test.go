package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/uuid"

	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

const crashChildEnv = "ROUTEFREE_SQLITE_CRASH_CHILD"

// TestCrashKill9 kills a process that is appending under load and checks
// that every append it reported as done survived, once, with the chain
// intact. The test binary re-executes itself as the child.
func TestCrashKill9(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	want := 20000
	if testing.Short() {
		want = 3000
	}
	path := t.TempDir() + "/events.db"
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKill9$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // never leave the child running
	acked := map[uuid.UUID]bool{}
	sc := bufio.NewScanner(out)
	for len(acked) < want && sc.Scan() {
		if id, err := uuid.Parse(strings.TrimSpace(sc.Text())); err == nil {
			acked[id] = true
		}
	}
	if len(acked) < want {
		t.Fatalf("child acknowledged only %d appends before exiting", len(acked))
	}
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed" is the point

	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	stored := map[uuid.UUID]bool{}
	var last uint64
	for pos := eventstore.Start; ; {
		evs, err := s.ReadAll(ctx, pos, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if stored[e.ID] {
				t.Fatalf("event %s stored twice", e.ID)
			}
			if e.Position.Commit != last+1 {
				t.Fatalf("position %d follows %d: a gap", e.Position.Commit, last)
			}
			stored[e.ID], last = true, e.Position.Commit
		}
		pos = evs[len(evs)-1].Position
	}
	for id := range acked {
		if !stored[id] {
			t.Fatalf("append of %s was acknowledged but is not stored after the crash", id)
		}
	}
	// The reopened store continues the chain where the crash left it.
	if _, err := s.Append(ctx, "after-crash", eventstore.NoStream(), usage(0)); err != nil {
		t.Fatal(err)
	}
	res, err := eventstore.Verify(ctx, s, nil)
	if err != nil || res.Break != nil {
		t.Fatalf("hash chain after crash: %v %v", res.Break, err)
	}
	t.Logf("%d appends acknowledged, %d events stored before the kill", len(acked), len(stored))
}

// crashChild appends until killed, printing each event ID once its append
// has returned: the parent treats a printed ID as a client-visible success.
func crashChild(path string) {
	s, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := 0; ; i++ {
				evs := make([]eventstore.EventData, 1+rng.IntN(5))
				for j := range evs {
					evs[j] = usage(i)
				}
				if _, err := s.Append(context.Background(), fmt.Sprintf("account-%d", rng.IntN(10)), eventstore.Any(), evs...); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				mu.Lock()
				for _, e := range evs {
					fmt.Fprintln(w, e.ID)
				}
				w.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
