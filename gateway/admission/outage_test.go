package admission

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisProxy stands between a ledger and the real Redis on loopback, so a
// test can make Redis unreachable to that ledger alone (other tests share
// the server) and give it back.
type redisProxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns []net.Conn
}

type proxyMode int

const (
	proxyPass      proxyMode = iota
	proxyCut                 // connections are closed and new ones refused
	proxyDropReply           // requests reach Redis; the first byte of a reply closes the connection instead
)

func newRedisProxy(t testing.TB, target string) *redisProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &redisProxy{t: t, ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.set(proxyCut) })
	go p.accept()
	return p
}

func (p *redisProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.mode == proxyCut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close(); _ = c.Close() }()
		go p.replies(up, c)
	}
}

// replies copies Redis's answers back unless they are to be dropped.
func (p *redisProxy) replies(up, c net.Conn) {
	defer func() { _ = up.Close(); _ = c.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			p.mu.Lock()
			drop := p.mode != proxyPass
			p.mu.Unlock()
			if drop {
				return
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// set changes the mode; cutting closes every open connection.
func (p *redisProxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	if m == proxyCut {
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.conns = nil
	}
}

// proxiedLedger returns a Redis ledger reaching Redis through a proxy, one
// reaching it directly on the same prefix (another instance), and the proxy.
func proxiedLedger(t *testing.T, o LedgerOptions) (*RedisLedger, *RedisLedger, *redisProxy) {
	t.Helper()
	clients, prefix := redisClients(t, 1)
	opt := clients[0].(*redis.Client).Options()
	p := newRedisProxy(t, opt.Addr)
	popt := *opt
	popt.Addr = p.ln.Addr().String()
	popt.DialTimeout, popt.ReadTimeout, popt.WriteTimeout = 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	rdb := redis.NewClient(&popt)
	t.Cleanup(func() { _ = rdb.Close() })
	return NewRedisLedger(rdb, prefix, o), NewRedisLedger(clients[0], prefix, o), p
}

// waitHeld waits until the account's holds total want, for at most 20 s
// (the tests' holds live 10 minutes): what it sees is not their lapse.
func waitHeld(t *testing.T, l Ledger, acct, want string, wantN int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		h, n, err := l.Held(ctx, acct)
		if err == nil && h.Equal(d(want)) && n == wantN {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("held %s ×%d (%v), want %s ×%d, long before the holds would lapse", h, n, err, want, wantN)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRedisLedgerSettleDuringAnOutageIsRetried: a request finishes while
// its instance cannot reach Redis. Its settle fails; once Redis answers
// again the ledger settles it by itself, so the hold stops locking credit
// long before it would have lapsed, and its cost counts once.
func TestRedisLedgerSettleDuringAnOutageIsRetried(t *testing.T) {
	cut, other, p := proxiedLedger(t, LedgerOptions{HoldTTL: 10 * time.Minute})
	mustOK(t, hold(t, cut, "acct", "k", "r1", view("10", 1), "10"))

	p.set(proxyCut)
	if err := cut.Settle(ctx, "acct", "k", "r1", d("4"), 2); err == nil {
		t.Fatal("settle succeeded with Redis cut off")
	}
	p.set(proxyPass)

	waitHeld(t, other, "acct", "0", 0)
	// NT$4 spent of NT$10, counted once for a view that has not applied it.
	mustRefuse(t, hold(t, other, "acct", "k", "r2", view("10", 1), "6.000001"), CauseCredits)
	mustOK(t, hold(t, other, "acct", "k", "r3", view("10", 1), "6"))
}

// TestRedisLedgerSettleWhoseAnswerWasLostCountsOnce: the settle reaches
// Redis but its answer never comes back (the connection drops on the
// way), so client and ledger try it again. The cost counts once.
func TestRedisLedgerSettleWhoseAnswerWasLostCountsOnce(t *testing.T) {
	lost, other, p := proxiedLedger(t, LedgerOptions{HoldTTL: 10 * time.Minute})
	// A first request settled normally: Redis knows the script, so the
	// one below is not refused for an unknown script (an answer dropped too).
	mustOK(t, hold(t, lost, "acct", "k", "r0", view("10", 1), "1"))
	if err := lost.Settle(ctx, "acct", "k", "r0", d("0"), 1); err != nil {
		t.Fatal(err)
	}
	mustOK(t, hold(t, lost, "acct", "k", "r1", view("10", 1), "10"))

	p.set(proxyDropReply)
	if err := lost.Settle(ctx, "acct", "k", "r1", d("4"), 2); err == nil {
		t.Fatal("settle answered though every answer was dropped")
	}
	assertHeld(t, other, "acct", "0", 0) // it did reach Redis
	p.set(proxyPass)

	// Let the ledger's own retry through before judging the count.
	waitRetried(t, lost)
	mustRefuse(t, hold(t, other, "acct", "k", "r2", view("10", 1), "6.000001"), CauseCredits)
	mustOK(t, hold(t, other, "acct", "k", "r3", view("10", 1), "6"))
	// A settle sent again by its caller counts once too.
	if err := lost.Settle(ctx, "acct", "k", "r1", d("4"), 2); err != nil {
		t.Fatal(err)
	}
	if err := other.Release(ctx, "acct", "k", "r3"); err != nil {
		t.Fatal(err)
	}
	mustOK(t, hold(t, other, "acct", "k", "r4", view("10", 1), "6"))
}

// TestRedisLedgerReleaseDuringAnOutageIsRetried: a failed request's
// release is retried like a settle.
func TestRedisLedgerReleaseDuringAnOutageIsRetried(t *testing.T) {
	cut, other, p := proxiedLedger(t, LedgerOptions{HoldTTL: 10 * time.Minute})
	mustOK(t, hold(t, cut, "acct", "k", "r1", view("10", 1), "10"))
	p.set(proxyCut)
	if err := cut.Release(ctx, "acct", "k", "r1"); err == nil {
		t.Fatal("release succeeded with Redis cut off")
	}
	p.set(proxyPass)
	waitHeld(t, other, "acct", "0", 0)
	mustOK(t, hold(t, other, "acct", "k", "r2", view("10", 1), "10"))
}

// TestRedisLedgerGivesUpARetryOnceTheHoldLapsed: a settle is not retried
// past the hold's life; its retry ends with the outage's end at the latest.
func TestRedisLedgerGivesUpARetryOnceTheHoldLapsed(t *testing.T) {
	cut, _, p := proxiedLedger(t, LedgerOptions{HoldTTL: 600 * time.Millisecond})
	mustOK(t, hold(t, cut, "acct", "k", "r1", view("10", 1), "10"))
	p.set(proxyCut)
	if err := cut.Settle(ctx, "acct", "k", "r1", d("4"), 2); err == nil {
		t.Fatal("settle succeeded with Redis cut off")
	}
	// Redis stays cut off: the retry is dropped by itself, and the hold
	// is no longer among those to put back.
	waitRetried(t, cut)
	if cut.hasState() {
		t.Fatal("the lapsed hold is still kept to be put back")
	}
}

// waitRetried waits until l has nothing left to retry.
func waitRetried(t *testing.T, l *RedisLedger) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for l.retrying() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d operations still waiting for Redis", l.retrying())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// forgetPrefix deletes every key of prefix, as a Redis restarted empty
// would have lost them (the server is shared: no FLUSHALL).
func forgetPrefix(t *testing.T, rdb redis.UniversalClient, prefix string) {
	t.Helper()
	bg := context.Background()
	iter := rdb.Scan(bg, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(bg) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatalf("no keys under %s", prefix)
	}
	if err := rdb.Del(bg, keys...).Err(); err != nil {
		t.Fatal(err)
	}
}

// holdAfterRestore is hold, waiting out the moments after Redis lost its
// state when the ledger answers that it is being restored.
func holdAfterRestore(t *testing.T, l Ledger, acct, key, id string, v AccountView, amount string) HoldResult {
	t.Helper()
	r, _ := holdWaitingRestore(t, l, acct, key, id, v, amount)
	return r
}

// holdWaitingRestore is holdAfterRestore, also counting the answers that
// the ledger was being restored.
func holdWaitingRestore(t *testing.T, l Ledger, acct, key, id string, v AccountView, amount string) (_ HoldResult, restoring int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := l.Hold(ctx, acct, key, id, v, d(amount))
		if errors.Is(err, ErrLedgerRestoring) && time.Now().Before(deadline) {
			restoring++
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("hold %s: %v", id, err)
		}
		return r, restoring
	}
}

// TestRedisLedgerPutsBackHoldsRedisLost: Redis restarted empty while a
// request held NT$8 of NT$10. The instance whose request it is writes its
// hold back before admitting anything more, so NT$5 is refused.
func TestRedisLedgerPutsBackHoldsRedisLost(t *testing.T) {
	clients, prefix := redisClients(t, 1)
	l := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, hold(t, l, "acct", "k", "r1", view("10", 1), "8"))
	forgetPrefix(t, clients[0], prefix)

	mustRefuse(t, holdAfterRestore(t, l, "acct", "k", "r2", view("10", 1), "5"), CauseCredits)
	assertHeld(t, l, "acct", "8", 1)
	// The request then ends as usual.
	if err := l.Settle(ctx, "acct", "k", "r1", d("3"), 2); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, hold(t, l, "acct", "k", "r4", view("10", 1), "7.000001"), CauseCredits)
	mustOK(t, hold(t, l, "acct", "k", "r5", view("10", 1), "7"))
}

// TestRedisLedgerPutsBackSettledCostsRedisLost: a cost settled a moment
// before Redis lost its state, which the balances projection has not
// applied yet, still counts afterwards.
func TestRedisLedgerPutsBackSettledCostsRedisLost(t *testing.T) {
	clients, prefix := redisClients(t, 1)
	l := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, hold(t, l, "acct", "k", "r1", view("10", 1), "8"))
	if err := l.Settle(ctx, "acct", "k", "r1", d("6"), 2); err != nil {
		t.Fatal(err)
	}
	forgetPrefix(t, clients[0], prefix)
	mustRefuse(t, holdAfterRestore(t, l, "acct", "k", "r2", view("10", 1), "4.000001"), CauseCredits)
	mustOK(t, hold(t, l, "acct", "k", "r3", view("10", 1), "4"))
	// Once applied, the view's balance has it and the ledger no longer does.
	if err := l.Release(ctx, "acct", "k", "r3"); err != nil {
		t.Fatal(err)
	}
	mustOK(t, hold(t, l, "acct", "k", "r4", view("4", 2), "4"))
}

// TestRedisLedgerAnotherInstanceWaitsForLostHolds: Redis lost its state
// while instance A had a request holding NT$8 of NT$10. Instance B, which
// notices first, must not admit NT$5 on the empty ledger: it answers that
// the ledger is being restored until A has written its hold back, and
// refuses for credits after.
func TestRedisLedgerAnotherInstanceWaitsForLostHolds(t *testing.T) {
	clients, prefix := redisClients(t, 2)
	a := NewRedisLedger(clients[0], prefix, LedgerOptions{HoldTTL: time.Minute})
	b := NewRedisLedger(clients[1], prefix, LedgerOptions{HoldTTL: time.Minute})
	mustOK(t, hold(t, a, "acct", "k", "r1", view("10", 1), "8"))
	assertHeld(t, b, "acct", "8", 1) // B is running and has seen the ledger
	forgetPrefix(t, clients[0], prefix)

	r, restoring := holdWaitingRestore(t, b, "acct", "k", "r2", view("10", 1), "5")
	mustRefuse(t, r, CauseCredits)
	if restoring == 0 {
		t.Fatal("B admitted on the emptied ledger without waiting")
	}
	assertHeld(t, b, "acct", "8", 1)
}
