// Command routefree is RouteFree's one binary: the gateway (serve) and the
// tools of operators, finance staff and auditors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // calendar rules are in Asia/Taipei whatever the host's zone
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var subcommands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	subcommands[name] = command{summary, run}
}

// errUsage makes the exit status 2 (bad invocation) instead of 1 (failure).
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: routefree <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, subcommands[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'routefree <command> -h' for its flags")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	name := args[0]
	rest := args[1:]
	// two-word commands: "events export", "credits topup", …
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		if _, ok := subcommands[name+" "+rest[0]]; ok {
			name, rest = name+" "+rest[0], rest[1:]
		}
	}
	cmd, ok := subcommands[name]
	if !ok {
		fmt.Fprintf(stderr, "routefree: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, rest, stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "routefree %s: %v\n", name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// newFlags returns a flag set with the shared settings bound.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *Config) {
	fs := flag.NewFlagSet("routefree "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &Config{}
	c.bind(fs)
	return fs, c
}

// parse parses flags and validates the config.
func parse(fs *flag.FlagSet, c *Config, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: invalid configuration:\n%v", errUsage, err)
	}
	return nil
}
