package main

import (
	"flag"
	"io"
	"syscall"
	"testing"
	"time"
)

// A ROUTEFREE_* variable set to nothing (VAR= in a compose or env file) is
// not set: every setting keeps its default, or the config file's value,
// rather than being refused as an empty duration, number or choice.
func TestEmptyVariablesReadAsUnset(t *testing.T) {
	cleanEnv(t)
	all, _ := newFlags("serve", io.Discard)
	all.VisitAll(func(f *flag.Flag) { t.Setenv(envName(f.Name), "") })
	t.Setenv("ROUTEFREE_CONFIG", "")
	fs, c := newFlags("serve", io.Discard)
	if err := parse(fs, c, []string{"--data-dir", t.TempDir()}); err != nil {
		t.Fatalf("every ROUTEFREE_<NAME> set to nothing: %v", err)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "data-dir" && f.Name != "config" && f.Value.String() != f.DefValue {
			t.Errorf("%s= gives --%s %q, want its default %q", envName(f.Name), f.Name, f.Value.String(), f.DefValue)
		}
	})

	// Beneath an empty variable, the config file's value holds, for a
	// setting with a flag and for one without.
	file := writeFile(t, "routefree.env", "SHUTDOWN_GRACE=45s\nLOG_LEVEL=debug\nROUTEFREE_SELLER_NAME=範例股份有限公司\nKEEPALIVE=\n")
	t.Setenv("ROUTEFREE_SELLER_NAME", "")
	c, err := parseServe(t, "--config", file)
	if err != nil {
		t.Fatal(err)
	}
	if c.ShutdownGrace != 45*time.Second || c.LogLevel != "debug" || c.Getenv("ROUTEFREE_SELLER_NAME") != "範例股份有限公司" {
		t.Fatalf("beneath empty variables: grace %s, log level %s, seller %q; want the file's", c.ShutdownGrace, c.LogLevel, c.Getenv("ROUTEFREE_SELLER_NAME"))
	}
	// KEEPALIVE= in the file is not set either.
	if c.KeepAlive != 2*time.Second {
		t.Fatalf("KEEPALIVE= in the config file gives %s, want the default", c.KeepAlive)
	}
	// An empty Redis prefix, which means keys without one, is the command
	// line's to give.
	if c, err = parseServe(t, "--redis-prefix", ""); err != nil || c.RedisPrefix != "" {
		t.Fatalf("--redis-prefix '': %v, prefix %q", err, c.RedisPrefix)
	}
	// An empty ROUTEFREE_CONFIG names no file.
	t.Setenv("ROUTEFREE_CONFIG", "")
	if c, err = parseServe(t); err != nil || c.ConfigFile != "" {
		t.Fatalf("ROUTEFREE_CONFIG=: %v, config file %q", err, c.ConfigFile)
	}
}

// serve itself starts and stops with its settings' variables empty, as a
// compose file listing them leaves them.
func TestServeStartsWithEmptyVariables(t *testing.T) {
	env := append(baseEnv("http://127.0.0.1:1/v1"), "ROUTEFREE_DATA_DIR="+t.TempDir(),
		"ROUTEFREE_SHUTDOWN_GRACE=", "ROUTEFREE_STORE=", "ROUTEFREE_REDIS_URL=", "ROUTEFREE_LOG_LEVEL=",
		"ROUTEFREE_MAX_BODY_BYTES=", "ROUTEFREE_BOOTSTRAP_DEMO=", "ROUTEFREE_CONFIG=", "ROUTEFREE_ADMIN_TOKEN=")
	p := startServe(t, env)
	if code := p.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exit status %d\n%s", code, p.logs.String())
	}
}
