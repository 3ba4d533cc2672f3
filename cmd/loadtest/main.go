// Command loadtest measures what the gateway costs on top of an upstream:
// it runs the fake upstream and the real routefree binary as subprocesses
// (so the gateway's CPU is measured alone), then for each concurrency and
// each kind of request (chat completions unary and streamed, Anthropic
// messages unary and streamed, embeddings; -modes) runs a fixed-duration
// closed-loop attack straight at the fake and then through the gateway,
// and prints req/s,
// latency percentiles, the overhead and the gateway's CPU per request.
// A bare pass-through proxy (fakeupstream -forward, the standard library's
// ReverseProxy) is measured the same way: the floor of one Go HTTP hop on
// this machine, against which the gateway's own work can be read.
// Every request through the gateway is billed durably (SQLite,
// synchronous=FULL); at the end the store is opened and the usage events
// are counted against the successful requests.
//
// With -reps N every point is measured N times, interleaved, and the run
// ends with Markdown tables of the medians and of the performance targets
// (each a ratio to the bare proxy of the same repetition, pass or short).
//
//	go run ./cmd/loadtest -duration 5s -reps 3 -points unary:1,unary:16,unary:64,stream:16
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/routefree/routefree/domain"
	"github.com/routefree/routefree/eventstore"
	"github.com/routefree/routefree/eventstore/sqlite"
)

func main() {
	repo := flag.String("repo", ".", "repository root (where ./cmd/routefree builds)")
	duration := flag.Duration("duration", 5*time.Second, "length of each attack")
	warmup := flag.Duration("warmup", time.Second, "unmeasured attack before each measured one (0: none)")
	levels := flag.String("concurrency", "1,16,64", "client counts, comma-separated (every mode at each)")
	points := flag.String("points", "", "instead of -modes × -concurrency, the points to measure as mode:clients, comma-separated (e.g. unary:1,unary:16,unary:64,stream:16)")
	reps := flag.Int("reps", 1, "interleaved repetitions of every point; the summary tables give medians")
	modes := flag.String("modes", "unary,stream,messages,messages-stream,embeddings", "what to measure, comma-separated: unary and stream chat completions, Anthropic messages (unary, stream), embeddings")
	chunks := flag.Int("chunks", 16, "content chunks per streamed reply")
	keep := flag.Bool("keep", false, "keep the temporary directory (binaries, data, logs)")
	gatewayEnv := flag.String("gateway-env", "", "extra environment of the gateway alone, as space-separated NAME=value (e.g. GODEBUG=gctrace=1)")
	profiles := flag.String("profile", "", "directory to write the gateway's CPU profile (MODE-CLIENTS.pprof) and a 2 s execution trace (MODE-CLIENTS.trace) of each measured attack of the first repetition to")
	flag.Parse()
	if *reps < 1 {
		log.Fatal("-reps must be at least 1")
	}
	if *duration <= 0 {
		log.Fatal("-duration must be more than 0")
	}
	if err := runAll(*repo, *duration, *warmup, *levels, *modes, *points, *reps, *chunks, *keep, *profiles, *gatewayEnv); err != nil {
		log.Fatal(err)
	}
}

func runAll(repo string, d, warm time.Duration, levels, modeList, points string, reps, chunks int, keep bool, profiles, gatewayEnv string) error {
	tmp, err := os.MkdirTemp("", "routefree-loadtest-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "working directory:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	gwBin, err := build(repo, tmp, "./cmd/routefree")
	if err != nil {
		return fmt.Errorf("building routefree: %w", err)
	}
	fakeBin, err := build(repo, tmp, "./cmd/fakeupstream")
	if err != nil {
		return fmt.Errorf("building fakeupstream: %w", err)
	}

	fakeAddr, _ := freeAddr()
	fake, err := start(fakeBin, nil, filepath.Join(tmp, "fake.log"), "-listen", fakeAddr, "-chunks", strconv.Itoa(chunks),
		"-completion-tokens", strconv.Itoa(chunks))
	if err != nil {
		return err
	}
	defer fake.stop()
	if err := waitTCP(fakeAddr, 10*time.Second); err != nil {
		return err
	}
	proxyAddr, _ := freeAddr()
	proxy, err := start(fakeBin, nil, filepath.Join(tmp, "proxy.log"), "-listen", proxyAddr, "-forward", "http://"+fakeAddr)
	if err != nil {
		return err
	}
	defer proxy.stop()
	if err := waitTCP(proxyAddr, 10*time.Second); err != nil {
		return err
	}

	data := filepath.Join(tmp, "data")
	gwAddr, _ := freeAddr()
	env := []string{"ROUTEFREE_FAKE_UPSTREAM_URL=http://" + fakeAddr + "/v1", "ROUTEFREE_FAKE_UPSTREAM_KEY=x"}
	env = append(env, strings.Fields(gatewayEnv)...)
	serveArgs := []string{"serve", "--data-dir", data, "--listen", gwAddr}
	ctx := context.Background()

	// First run: the demo account and its key. Then raise its limits and
	// credit offline, against the same store, and serve again.
	gw, err := start(gwBin, env, filepath.Join(tmp, "gateway-bootstrap.log"), append(serveArgs, "--bootstrap-demo")...)
	if err != nil {
		return err
	}
	key, err := gw.waitKey(60 * time.Second)
	if err == nil {
		err = waitHTTP("http://"+gwAddr+"/readyz", 60*time.Second)
	}
	if err != nil {
		gw.stop()
		return err
	}
	if err := gw.stop(); err != nil {
		return fmt.Errorf("stopping the bootstrap gateway: %w", err)
	}
	if _, err := run(ctx, gwBin, "accounts", "plan", "--data-dir", data, "--account", "acct_demo", "--plan", "enterprise",
		"--rpm", "100000000", "--tpm", "100000000000", "--credit-limit", "100000000"); err != nil {
		return err
	}
	if _, err := run(ctx, gwBin, "credits", "topup", "--data-dir", data, "--account", "acct_demo", "--amount", "100000000",
		"--method", "adjustment", "--reference", "loadtest", "--max-topup", "100000000"); err != nil {
		return err
	}
	serveArgs = append(serveArgs, "--log-level", "warn")
	debugAddr := ""
	if profiles != "" {
		if err := os.MkdirAll(profiles, 0o755); err != nil {
			return err
		}
		debugAddr, _ = freeAddr()
		serveArgs = append(serveArgs, "--debug-listen", debugAddr)
	}
	gw, err = start(gwBin, env, filepath.Join(tmp, "gateway.log"), serveArgs...)
	if err != nil {
		return err
	}
	if err := waitHTTP("http://"+gwAddr+"/readyz", 60*time.Second); err != nil {
		gw.stop()
		return err
	}
	pid := gw.cmd.Process.Pid

	prompt := `"messages":[{"role":"user","content":"Say hello to the load test, please."}]`
	pts, err := parsePoints(points, levels, modeList, loadModes(prompt))
	if err != nil {
		return err
	}
	fmt.Printf("RouteFree load test: %s per attack (+%s warm-up), %d interleaved repetitions, fake upstream with %d chunks, GOMAXPROCS of the gateway = all cores\n\n", d, warm, reps, chunks)
	fmt.Printf("overheads are p50 and p99 latency minus the direct ones; CPU is the process's user+system time per request, cs its context switches per request, machine the whole machine's busy CPU time per request (load generator and upstream included) with the share it was idle, ev/commit the gateway's events per durable commit\n\n")
	const row = "%-15s %3s %7s %12s %11s %13s %9s %10s %10s %10s %10s %10s %6s %16s %12s %12s %12s %6s %16s %9s %7s\n"
	fmt.Printf(row, "mode", "rep", "clients", "req/s direct", "req/s proxy", "req/s gateway", "gw÷proxy", "p50 direct", "p99 direct",
		"proxy +p50", "proxy +p99", "proxy CPU", "cs", "machine (idle)", "gateway +p50", "gateway +p99", "gateway CPU", "cs", "machine (idle)", "ev/commit", "ok")
	var billedWant uint64
	samples := make([][]sample, len(pts))
	// Repetitions are interleaved (every point once, then again) so that a
	// slow minute of the machine weighs on every point alike.
	for rep := 1; rep <= reps; rep++ {
		for i, pt := range pts {
			md, n := pt.mode, pt.clients
			bodyDirect, bodyGW := md.direct, md.gateway
			direct := "http://" + fakeAddr + md.upstreamPath
			bare := "http://" + proxyAddr + md.upstreamPath
			through := "http://" + gwAddr + md.gatewayPath
			attack(direct, "x", bodyDirect, n, warm)
			dr := attack(direct, "x", bodyDirect, n, d)
			attack(bare, "x", bodyDirect, n, warm)
			pr, pspent, pbox, err := measured(proxy.cmd.Process.Pid, func() result { return attack(bare, "x", bodyDirect, n, d) })
			if err != nil {
				return err
			}
			w := attack(through, key, bodyGW, n, warm)
			billedWant += uint64(w.success*float64(w.requests) + 0.5)
			before, err := gatewayAt(pid, gwAddr)
			if err != nil {
				return err
			}
			var prof <-chan error
			var trace <-chan error
			if debugAddr != "" && rep == 1 {
				name := filepath.Join(profiles, fmt.Sprintf("%s-%d", md.name, n))
				prof = profile(debugAddr, "profile", d, name+".pprof")
				trace = profile(debugAddr, "trace", min(d, 2*time.Second), name+".trace")
			}
			box0, err := machineNow()
			if err != nil {
				return err
			}
			gr := attack(through, key, bodyGW, n, d)
			box1, err := machineNow()
			if err != nil {
				return err
			}
			after, err := gatewayAt(pid, gwAddr)
			if err != nil {
				return err
			}
			if prof != nil {
				if err := errors.Join(<-prof, <-trace); err != nil {
					return fmt.Errorf("profiling the gateway: %w", err)
				}
			}
			billedWant += uint64(gr.success*float64(gr.requests) + 0.5)
			gspent, evPerCommit := spentPer(before.spent, after.spent, gr.requests), perCommit(before.commits, after.commits)
			gbox := machineSpent(box0, box1, gr.requests)
			samples[i] = append(samples[i], sample{direct: dr, proxy: pr, gateway: gr,
				proxyCPU: pspent.cpu, gatewayCPU: gspent.cpu, proxySwitches: pspent.switches, gatewaySwitches: gspent.switches, perCommit: evPerCommit,
				proxyBox: pbox, gatewayBox: gbox})
			fmt.Printf(row, md.name, strconv.Itoa(rep), strconv.Itoa(n), fmt.Sprintf("%.0f", dr.rps), fmt.Sprintf("%.0f", pr.rps), fmt.Sprintf("%.0f", gr.rps),
				fmt.Sprintf("%.0f%%", 100*gr.rps/max(pr.rps, 1)), us(dr.p50), us(dr.p99),
				us(pr.p50-dr.p50), us(pr.p99-dr.p99), us(pspent.cpu), fmt.Sprintf("%.1f", pspent.switches), boxCell(pbox),
				us(gr.p50-dr.p50), us(gr.p99-dr.p99), us(gspent.cpu), fmt.Sprintf("%.1f", gspent.switches), boxCell(gbox),
				fmt.Sprintf("%.1f", evPerCommit), fmt.Sprintf("%.1f%%", 100*gr.success))
			for _, t := range []struct {
				name string
				r    result
			}{{"direct", dr}, {"proxy", pr}, {"gateway", gr}} {
				for _, e := range t.r.errors {
					fmt.Fprintf(os.Stderr, "  %s error: %s\n", t.name, e)
				}
			}
		}
	}
	fmt.Println()
	printMedians(os.Stdout, pts, samples)
	fmt.Println()
	printTargets(os.Stdout, pts, samples)
	if err := gw.stop(); err != nil {
		return fmt.Errorf("stopping the gateway: %w", err)
	}
	billed, err := countBilled(filepath.Join(data, "events.db"))
	if err != nil {
		return err
	}
	fmt.Printf("\ndurable usage events after shutdown: %d (successful gateway requests: %d)\n", billed, billedWant)
	if billed < billedWant {
		return fmt.Errorf("%d successful requests were not billed", billedWant-billed)
	}
	return nil
}

// loadMode is one kind of request measured: the body sent straight to the
// fake upstream and the one sent through the gateway, which reaches the
// fake as the same upstream call.
type loadMode struct {
	name                      string
	upstreamPath, gatewayPath string
	direct, gateway           []byte
}

func loadModes(prompt string) []loadMode {
	stream := `"stream":true,"stream_options":{"include_usage":true},`
	msg := `"max_tokens":64,"messages":[{"role":"user","content":"Say hello to the load test, please."}]`
	chat := func(extra string) []byte { return []byte(`{"model":"echo",` + extra + prompt + `}`) }
	input := `"input":["Say hello to the load test, please.","And once more."]`
	return []loadMode{
		{"unary", "/v1/chat/completions", "/api/v1/chat/completions", chat(""), []byte(`{"model":"routefree/echo",` + prompt + `}`)},
		{"stream", "/v1/chat/completions", "/api/v1/chat/completions", chat(stream), []byte(`{"model":"routefree/echo",` + stream + prompt + `}`)},
		// /messages to an OpenAI-shaped upstream: the translated path.
		{"messages", "/v1/chat/completions", "/api/v1/messages", chat(""), []byte(`{"model":"routefree/echo",` + msg + `}`)},
		{"messages-stream", "/v1/chat/completions", "/api/v1/messages", chat(stream), []byte(`{"model":"routefree/echo","stream":true,` + msg + `}`)},
		{"embeddings", "/v1/embeddings", "/api/v1/embeddings", []byte(`{"model":"echo-embedding",` + input + `}`), []byte(`{"model":"routefree/echo-embedding",` + input + `}`)},
	}
}

// us renders a duration in microseconds.
func us(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }

// boxCell renders the machine's CPU per request and its idle share.
func boxCell(b boxSpent) string { return fmt.Sprintf("%s (%.0f%%)", us(b.cpu), 100*b.idle) }

// countBilled counts request.completed events in the gateway's store.
func countBilled(path string) (uint64, error) {
	st, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var n uint64
	for pos := eventstore.Start; ; {
		evs, err := st.ReadAll(context.Background(), pos, 10000)
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			return n, nil
		}
		for _, e := range evs {
			if e.Type == domain.TypeRequestCompleted {
				n++
			}
		}
		pos = evs[len(evs)-1].Position
	}
}
