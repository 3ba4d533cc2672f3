package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// freeAddr returns a loopback address with a port nothing listens on yet.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// build compiles a command of the repository into dir.
func build(repo, dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir, cmd.Stdout, cmd.Stderr = repo, os.Stderr, os.Stderr
	return out, cmd.Run()
}

// proc is a child process whose stdout is scanned and stderr kept in a file.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
}

func start(bin string, env []string, logFile string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	logs, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody is reading: drop
			}
		}
		close(p.lines)
	}()
	return p, nil
}

// stop asks the process to shut down gracefully and waits for it.
func (p *proc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("%s did not stop in 30 s", p.cmd.Path)
	}
}

var demoKey = regexp.MustCompile(`demo key \(shown once\): (\S+)`)

// waitKey reads the demo key the first serve prints.
func (p *proc) waitKey(timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return "", fmt.Errorf("serve exited without printing a demo key")
			}
			if m := demoKey.FindStringSubmatch(line); m != nil {
				return m[1], nil
			}
		case <-deadline:
			return "", fmt.Errorf("no demo key within %s", timeout)
		}
	}
}

// waitHTTP polls url until it answers 200.
func waitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s", url, timeout)
}

// waitTCP waits until addr accepts connections.
func waitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not listening within %s", addr, timeout)
}

// run executes a one-shot command and returns its output.
func run(ctx context.Context, bin string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// usage is what a process has spent so far: CPU time and context switches.
type usage struct {
	cpu      time.Duration
	switches int64
}

// usageOf reads a process's user+system CPU time from /proc/<pid>/stat (in
// clock ticks of 1/100 s, the kernel's USER_HZ) and its context switches,
// voluntary or not, summed over its threads (/proc/<pid>/task/*/status: the
// process's own status counts its first thread only). A thread that exits
// takes its count with it; the Go runtime keeps its threads.
func usageOf(pid int) (usage, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	// The command name (field 2) may hold spaces: split after its ')'.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return usage{}, fmt.Errorf("bad /proc stat: %q", s)
	}
	u := usage{cpu: time.Duration(utime+stime) * 10 * time.Millisecond}
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil {
		return usage{}, err
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended meanwhile
		}
		for _, line := range strings.Split(string(b), "\n") {
			name, v, ok := strings.Cut(line, ":")
			if ok && (name == "voluntary_ctxt_switches" || name == "nonvoluntary_ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				u.switches += n
			}
		}
	}
	return u, nil
}

// machine is what the machine's CPUs have done so far, in clock ticks,
// from the first line of /proc/stat: busy (user, nice, system, irq,
// softirq, steal) and idle (idle, iowait). The load generator, the fake
// upstream and the process measured share the machine, so when it is
// nearly never idle, throughput is the inverse of the whole machine's CPU
// per request, the generator's and the upstream's included.
type machine struct{ busy, idle int64 }

func machineNow() (machine, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machine{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machine{}, fmt.Errorf("bad /proc/stat: %q", line)
	}
	var v [8]int64
	for i := range v {
		if v[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return machine{}, fmt.Errorf("bad /proc/stat: %q", line)
		}
	}
	return machine{busy: v[0] + v[1] + v[2] + v[5] + v[6] + v[7], idle: v[3] + v[4]}, nil
}

// boxSpent is the machine's busy CPU time per request between two
// readings, and the share of its CPU time left idle.
type boxSpent struct {
	cpu  time.Duration
	idle float64
}

func machineSpent(before, after machine, requests uint64) boxSpent {
	busy, idle := after.busy-before.busy, after.idle-before.idle
	if requests == 0 || busy+idle <= 0 {
		return boxSpent{}
	}
	return boxSpent{cpu: time.Duration(busy) * 10 * time.Millisecond / time.Duration(requests), idle: float64(idle) / float64(busy+idle)}
}

// perRequest is what a process spent per request between two readings.
type perRequest struct {
	cpu      time.Duration
	switches float64
}

func spentPer(before, after usage, requests uint64) perRequest {
	if requests == 0 {
		return perRequest{}
	}
	return perRequest{
		cpu:      (after.cpu - before.cpu) / time.Duration(requests),
		switches: float64(after.switches-before.switches) / float64(requests),
	}
}

// profile takes a CPU profile or an execution trace (kind "profile" or
// "trace") of the gateway for d through its debug listener and writes it
// to path; the channel reports when it is written.
func profile(debugAddr, kind string, d time.Duration, path string) <-chan error {
	done := make(chan error, 1)
	go func() {
		secs := max(1, int(d.Round(time.Second)/time.Second))
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", debugAddr, kind, secs))
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("profile: %s", resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		done <- errors.Join(err, f.Close())
	}()
	return done
}

// measured runs an attack and returns it with what process pid, and the
// whole machine, spent per request meanwhile.
func measured(pid int, attack func() result) (result, perRequest, boxSpent, error) {
	before, err := usageOf(pid)
	if err != nil {
		return result{}, perRequest{}, boxSpent{}, err
	}
	box0, err := machineNow()
	if err != nil {
		return result{}, perRequest{}, boxSpent{}, err
	}
	r := attack()
	box1, err := machineNow()
	if err != nil {
		return r, perRequest{}, boxSpent{}, err
	}
	after, err := usageOf(pid)
	if err != nil {
		return r, perRequest{}, boxSpent{}, err
	}
	return r, spentPer(before, after, r.requests), machineSpent(box0, box1, r.requests), nil
}

// commits is what the gateway's group commits have written so far, from
// its /metrics: write transactions and the events in them.
type commits struct{ batches, events float64 }

// commitsOf reads the gateway's commit counters. The ratio of two readings'
// differences is the events a commit carried: what one durable commit's
// cost is shared by.
func commitsOf(addr string) (commits, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return commits{}, err
	}
	defer resp.Body.Close()
	var c commits
	found := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *float64
		switch name {
		case "routefree_eventstore_commits_total":
			dst = &c.batches
		case "routefree_eventstore_committed_events_total":
			dst = &c.events
		default:
			continue
		}
		if *dst, err = strconv.ParseFloat(v, 64); err != nil {
			return commits{}, fmt.Errorf("/metrics: %s: %w", name, err)
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return commits{}, err
	}
	if found != 2 {
		return commits{}, fmt.Errorf("/metrics of %s has no commit counters", addr)
	}
	return c, nil
}

// gatewayState is a reading of the gateway: what its process has spent and
// what its group commits have written.
type gatewayState struct {
	spent   usage
	commits commits
}

func gatewayAt(pid int, addr string) (gatewayState, error) {
	u, err := usageOf(pid)
	if err != nil {
		return gatewayState{}, err
	}
	c, err := commitsOf(addr)
	return gatewayState{spent: u, commits: c}, err
}

// perCommit is the events per commit between two readings (0: none).
func perCommit(before, after commits) float64 {
	if after.batches <= before.batches {
		return 0
	}
	return (after.events - before.events) / (after.batches - before.batches)
}
