package testenv

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// RedisServer is a redis-server of the test's own on a free loopback port,
// writing every change to its append-only file before it answers, so that
// a restart (Stop, then Start) loses nothing unless conf says otherwise:
// for tests of what the gateway does while Redis restarts.
type RedisServer struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
	conf []string
}

// StartRedisServer starts one, with conf added to its command line; it is
// killed when the test ends. Like RedisURL, it skips (or fails, when the
// services are required) where Redis is not there to run.
func StartRedisServer(t testing.TB, conf ...string) *RedisServer {
	t.Helper()
	RedisURL(t) // Redis is one of the services the test environment asks for
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &RedisServer{t: t, port: ln.Addr().(*net.TCPAddr).Port, dir: t.TempDir(), conf: conf}
	ln.Close()
	r.Start()
	t.Cleanup(func() { r.Stop(syscall.SIGKILL) })
	return r
}

// Start starts the server again on its port and directory, and waits until
// it listens. conf, if given, replaces the configuration it was started
// with (a restart that loads its data otherwise).
func (r *RedisServer) Start(conf ...string) {
	if conf != nil {
		r.conf = conf
	}
	r.t.Helper()
	r.cmd = exec.Command("redis-server", append([]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always"}, r.conf...)...)
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("redis-server: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server does not listen: %v", err)
		}
	}
}

// Stop sends the server sig and waits for it to end (SIGTERM: a clean
// shutdown; SIGKILL: a crash).
func (r *RedisServer) Stop(sig syscall.Signal) {
	if r.cmd != nil {
		_ = r.cmd.Process.Signal(sig)
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// Addr is its host:port.
func (r *RedisServer) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }
