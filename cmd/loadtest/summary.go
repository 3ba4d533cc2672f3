package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// point is one kind of request at one client count.
type point struct {
	mode    loadMode
	clients int
}

// sample is one repetition of a point: the three attacks of the same minute.
type sample struct {
	direct, proxy, gateway result
	proxyCPU, gatewayCPU   time.Duration
	// context switches per request, summed over the process's threads
	proxySwitches, gatewaySwitches float64
	// the gateway's events per durable commit (group commit)
	perCommit float64
	// the whole machine's CPU per request and idle share, in each attack
	proxyBox, gatewayBox boxSpent
}

// parsePoints reads -points (mode:clients,…) or, when it is empty, crosses
// -modes with -concurrency.
func parsePoints(points, levels, modeList string, modes []loadMode) ([]point, error) {
	byName := map[string]loadMode{}
	for _, m := range modes {
		byName[m.name] = m
	}
	var specs []string
	if points != "" {
		specs = strings.Split(points, ",")
	} else {
		for _, m := range modes {
			if !slices.Contains(strings.Split(modeList, ","), m.name) {
				continue
			}
			for _, l := range strings.Split(levels, ",") {
				specs = append(specs, m.name+":"+strings.TrimSpace(l))
			}
		}
	}
	var out []point
	for _, sp := range specs {
		name, n, ok := strings.Cut(strings.TrimSpace(sp), ":")
		m, known := byName[name]
		c, err := strconv.Atoi(n)
		if !ok || !known || err != nil || c < 1 {
			return nil, fmt.Errorf("bad point %q: want mode:clients with a mode of %s", sp, strings.Join(slices.Sorted(maps.Keys(byName)), ", "))
		}
		out = append(out, point{m, c})
	}
	return out, nil
}

// median of the per-repetition values of f.
func median(ss []sample, f func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	} else {
		return (v[n/2-1] + v[n/2]) / 2
	}
}

func usOf(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Per-repetition figures: each ratio is taken within one repetition, where
// gateway and proxy ran in the same minute, and the medians are of those.
var (
	throughputRatio = func(s sample) float64 { return s.gateway.rps / max(s.proxy.rps, 1) }
	cpuRatio        = func(s sample) float64 { return float64(s.gatewayCPU) / float64(max(s.proxyCPU, 1)) }
	p50Over         = func(s sample) float64 { return usOf(s.gateway.p50 - s.proxy.p50) }
	p99Over         = func(s sample) float64 { return usOf(s.gateway.p99 - s.proxy.p99) }
)

// printMedians writes the medians of every point as a Markdown table.
func printMedians(w io.Writer, pts []point, samples [][]sample) {
	fmt.Fprintf(w, "Medians of %d interleaved repetitions (ratios are medians of each repetition's ratio):\n\n", len(samples[0]))
	fmt.Fprintln(w, "| mode | clients | direct req/s | bare proxy req/s | gateway req/s | gateway ÷ proxy | proxy +p50 / +p99 / CPU | gateway +p50 / +p99 / CPU | CPU ÷ proxy's | context switches per request, proxy / gateway | the machine's CPU per request, proxy / gateway (idle) | events per commit |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	for i, pt := range pts {
		ss := samples[i]
		m := func(f func(sample) float64) float64 { return median(ss, f) }
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %.0f %% | %s / %s / %s µs | %s / %s / %s µs | %.1f × | %.1f / %.1f | %s / %s µs (%.0f / %.0f %%) | %.1f |\n",
			pt.mode.name, pt.clients,
			thousands(m(func(s sample) float64 { return s.direct.rps })),
			thousands(m(func(s sample) float64 { return s.proxy.rps })),
			thousands(m(func(s sample) float64 { return s.gateway.rps })),
			100*m(throughputRatio),
			thousands(m(func(s sample) float64 { return usOf(s.proxy.p50 - s.direct.p50) })),
			thousands(m(func(s sample) float64 { return usOf(s.proxy.p99 - s.direct.p99) })),
			thousands(m(func(s sample) float64 { return usOf(s.proxyCPU) })),
			thousands(m(func(s sample) float64 { return usOf(s.gateway.p50 - s.direct.p50) })),
			thousands(m(func(s sample) float64 { return usOf(s.gateway.p99 - s.direct.p99) })),
			thousands(m(func(s sample) float64 { return usOf(s.gatewayCPU) })),
			m(cpuRatio),
			m(func(s sample) float64 { return s.proxySwitches }),
			m(func(s sample) float64 { return s.gatewaySwitches }),
			thousands(m(func(s sample) float64 { return usOf(s.proxyBox.cpu) })),
			thousands(m(func(s sample) float64 { return usOf(s.gatewayBox.cpu) })),
			100*m(func(s sample) float64 { return s.proxyBox.idle }),
			100*m(func(s sample) float64 { return s.gatewayBox.idle }),
			m(func(s sample) float64 { return s.perCommit }))
	}
}

// target is one line of the target table: a figure of one point, and
// whether it passes.
type target struct {
	figure  string
	mode    string
	clients int
	goal    string
	eval    func(ss []sample) (string, bool)
}

var targets = []target{
	{"one client, p50 overhead", "unary", 1, "≤ proxy + 0.30 ms", func(ss []sample) (string, bool) {
		v := median(ss, p50Over)
		return fmt.Sprintf("proxy %s ms", signedMs(v)), v <= 300
	}},
	{"one client, p99 overhead", "unary", 1, "≤ proxy + 1 ms", func(ss []sample) (string, bool) {
		v := median(ss, p99Over)
		return fmt.Sprintf("proxy %s ms", signedMs(v)), v <= 1000
	}},
	{"one client, CPU per request", "unary", 1, "≤ 1.6 × proxy", func(ss []sample) (string, bool) {
		v := median(ss, cpuRatio)
		return fmt.Sprintf("%.2f × proxy", v), v <= 1.6
	}},
	{"16 clients, throughput", "unary", 16, "≥ 85 % of proxy", func(ss []sample) (string, bool) {
		v := median(ss, throughputRatio)
		return fmt.Sprintf("%.1f %% of proxy", 100*v), v >= 0.85
	}},
	{"64 clients, throughput", "unary", 64, "≥ 110 % of proxy, CPU per request ≤ proxy's", func(ss []sample) (string, bool) {
		t, c := median(ss, throughputRatio), median(ss, cpuRatio)
		return fmt.Sprintf("%.1f %% of proxy, CPU %.2f × proxy's", 100*t, c), t >= 1.10 && c <= 1
	}},
	{"streams, 16 clients, throughput", "stream", 16, "≥ 80 % of proxy", func(ss []sample) (string, bool) {
		v := median(ss, throughputRatio)
		return fmt.Sprintf("%.1f %% of proxy", 100*v), v >= 0.80
	}},
	{"streams, 16 clients, CPU per request", "stream", 16, "≤ 1.5 × proxy", func(ss []sample) (string, bool) {
		v := median(ss, cpuRatio)
		return fmt.Sprintf("%.2f × proxy", v), v <= 1.5
	}},
}

// printTargets writes the target table, filled in from the points measured.
func printTargets(w io.Writer, pts []point, samples [][]sample) {
	fmt.Fprintf(w, "Targets (medians of %d interleaved repetitions, each against the bare proxy of the same repetition):\n\n", len(samples[0]))
	fmt.Fprintln(w, "| figure | this run | target | |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, t := range targets {
		i := slices.IndexFunc(pts, func(p point) bool { return p.mode.name == t.mode && p.clients == t.clients })
		if i < 0 {
			fmt.Fprintf(w, "| %s | not measured (%s:%d) | %s | |\n", t.figure, t.mode, t.clients, t.goal)
			continue
		}
		got, ok := t.eval(samples[i])
		verdict := "short"
		if ok {
			verdict = "pass"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.figure, got, t.goal, verdict)
	}
}

// signedMs renders microseconds as "+ 0.42" or "− 0.10" milliseconds.
func signedMs(us float64) string {
	if us < 0 {
		return fmt.Sprintf("− %.2f", -us/1000)
	}
	return fmt.Sprintf("+ %.2f", us/1000)
}

// thousands renders a rounded number with comma separators.
func thousands(v float64) string {
	n := int64(v + 0.5)
	if v < 0 {
		n = int64(v - 0.5)
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}
