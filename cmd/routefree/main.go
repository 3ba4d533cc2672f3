// Command routefree is RouteFree's one binary: the gateway (serve) and the
// tools of operators, finance staff and auditors.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"regexp"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // calendar rules are in Asia/Taipei whatever the host's zone

	"github.com/routefree/routefree/commands"
	"github.com/routefree/routefree/domain"
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
	listCommands(w, "")
	fmt.Fprintln(w, "\nrun 'routefree <command> -h' for its flags, 'routefree <group> -h' for a group's commands")
}

// listCommands lists the commands whose name starts with prefix.
func listCommands(w io.Writer, prefix string) {
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-20s %s\n", n, subcommands[n].summary)
	}
}

// isGroup reports whether name is the first word of two-word commands
// ("accounts" of "accounts open").
func isGroup(name string) bool {
	for n := range subcommands {
		if strings.HasPrefix(n, name+" ") {
			return true
		}
	}
	return false
}

func groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "usage: routefree %s <command> [flags]\n\ncommands:\n", group)
	listCommands(w, group+" ")
	fmt.Fprintf(w, "\nrun 'routefree %s <command> -h' for its flags\n", group)
}

func main() {
	// A hang-up (the terminal or SSH session closing) stops as SIGTERM does,
	// draining what is in flight, not at once as Go would by default.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
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
	if !ok && isGroup(name) {
		if len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help" || rest[0] == "help") {
			groupUsage(stdout, name)
			return 0
		}
		if len(rest) == 0 { // a group is not a command: say which it has
			fmt.Fprintf(stderr, "routefree: %s needs a command\n\n", name)
			groupUsage(stderr, name)
			return 2
		}
		fmt.Fprintf(stderr, "routefree: unknown command %q\n\n", name+" "+rest[0])
		groupUsage(stderr, name)
		return 2
	}
	if !ok {
		fmt.Fprintf(stderr, "routefree: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	if err := cmd.run(commands.WithActor(ctx, actorOf(name)), rest, stdout, stderr); err != nil {
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

// actorOf is who acts in the events a command records: serve's own work
// (first-run prices, the demo account, top-up invoices) is the system's;
// every other command is the operating-system user's who ran it. Run as
// root through sudo, that is the person who ran sudo ("alice (sudo)"), so
// that the audit trail names them rather than root. Only root's SUDO_USER
// is believed: another user could set it to pass for someone else.
func actorOf(name string) domain.Actor {
	if name == "serve" {
		return domain.Actor{Kind: domain.ActorSystem, ID: "serve"}
	}
	id := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		id = u.Username
	}
	if id == "" {
		id = fmt.Sprintf("uid:%d", os.Getuid())
	}
	if by := strings.TrimSpace(os.Getenv("SUDO_USER")); os.Geteuid() == 0 && by != "" && by != "root" {
		id = by + " (sudo)"
	}
	return domain.Actor{Kind: domain.ActorCLI, ID: id}
}

// newFlags returns a flag set with the shared settings the command takes
// bound: serve takes every one; the other commands the store's, and those
// they use besides (settingsOf).
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *Config) {
	fs := flag.NewFlagSet("routefree "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &Config{stderr: stderr}
	c.bind(fs, settingsOf(name))
	fs.Usage = func() { commandUsage(fs, c, name) }
	return fs, c
}

// commandUsage prints a command's own flags, then the shared settings it
// takes (the store's, for most).
func commandUsage(fs *flag.FlagSet, c *Config, name string) {
	w := fs.Output()
	if sub, ok := subcommands[name]; ok {
		fmt.Fprintf(w, "routefree %s: %s\n\n", name, sub.summary)
	}
	fmt.Fprintf(w, "usage: routefree %s [flags]\n", name)
	own, shared := subset(fs, w), subset(fs, w)
	fs.VisitAll(func(f *flag.Flag) {
		into := own
		if c.shared[f.Name] || f.Name == "config" {
			into = shared
		}
		into.Var(f.Value, f.Name, f.Usage)
		into.Lookup(f.Name).DefValue = f.DefValue
	})
	if hasFlags(own) {
		fmt.Fprintln(w, "\nflags:")
		own.PrintDefaults()
	}
	fmt.Fprintln(w, "\nsettings (each from, in increasing priority: its default, the --config FILE or")
	fmt.Fprintln(w, "ROUTEFREE_CONFIG file of KEY=value lines or JSON, ROUTEFREE_<NAME>, the flag):")
	shared.PrintDefaults()
}

func subset(fs *flag.FlagSet, w io.Writer) *flag.FlagSet {
	s := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	s.SetOutput(w)
	return s
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// storageSettings choose and reach the event store: every command takes them.
var storageSettings = []string{"data-dir", "store", "postgres-url", "kurrentdb-url"}

// commandSettings are the shared settings a command takes beyond the store's.
var commandSettings = map[string][]string{
	"prices publish": {"catalog"},
	"keys issue":     {"catalog", "max-keys-per-account"}, // --models are the catalog's
	"credits":        {"max-topup"},                       // topup and adjust
	"replay":         {"invoice-font", "invoice-aes-key"},
	"invoices":       {"invoice-font", "invoice-aes-key"}, // every invoices command
}

// settingsOf tells which shared settings a command takes (nil: every one).
func settingsOf(name string) func(string) bool {
	if name == "serve" {
		return nil
	}
	take := map[string]bool{}
	for _, n := range storageSettings {
		take[n] = true
	}
	group, _, _ := strings.Cut(name, " ")
	for _, n := range append(commandSettings[name], commandSettings[group]...) {
		take[n] = true
	}
	return func(setting string) bool { return take[setting] }
}

// badFlagValue is how the flag package reports a value that does not parse.
var badFlagValue = regexp.MustCompile(`^invalid (?:boolean )?value (".*") for (?:flag )?-(\S+): `)

// parseError is a usage error for a failed fs.Parse, saying the form a
// setting wants where the flag package says only "parse error".
func parseError(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if m := badFlagValue.FindStringSubmatch(err.Error()); m != nil {
		if f := fs.Lookup(m[2]); f != nil {
			return fmt.Errorf("%w: --%s %s: %v", errUsage, f.Name, m[1], valueError(f, err))
		}
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}

// parseArgs parses args into fs. A flag whose value does not parse (a
// duration given as "30", a count as "x") is one of the configuration's
// problems, which Validate reports with every other, so the parse goes on
// past it. A flag that does not exist ends the parse there, with the usage:
// whether the word after it is its value cannot be known. Words that are
// not flags go to positional, or end the parse when it is nil.
func parseArgs(fs *flag.FlagSet, c *Config, args []string, positional func(string)) error {
	out := fs.Output()
	defer fs.SetOutput(out)
	for {
		// The flag package prints its error and the usage at once; held
		// back until the error is known to end the parse.
		var said bytes.Buffer
		fs.SetOutput(&said)
		before := map[string]string{}
		fs.VisitAll(func(f *flag.Flag) {
			if _, ok := f.Value.(flag.Getter); ok {
				before[f.Name] = f.Value.String()
			}
		})
		err := fs.Parse(args)
		if err == nil {
			if fs.NArg() == 0 || positional == nil {
				return nil
			}
			positional(fs.Arg(0))
			args = fs.Args()[1:]
			continue
		}
		if m := badFlagValue.FindStringSubmatch(err.Error()); m != nil {
			if f := fs.Lookup(m[2]); f != nil {
				if v, ok := before[f.Name]; ok {
					_ = f.Value.Set(v) // flag's own Set zeroes a duration: reported once, for its form
				}
				c.problems = append(c.problems, fmt.Errorf("--%s %s: %v", f.Name, m[1], valueError(f, err)))
				args = fs.Args()
				continue
			}
		}
		_, _ = out.Write(said.Bytes())
		err = parseError(fs, err)
		if len(c.problems) > 0 && !errors.Is(err, flag.ErrHelp) {
			err = fmt.Errorf("%w\n%v", err, errors.Join(c.problems...))
		}
		return err
	}
}

// parse parses flags and checks them: check returns the problems of the
// command's own flags (nil errors are none), which are named with the
// configuration's in one refusal (checkFlags).
func parse(fs *flag.FlagSet, c *Config, args []string, check ...func() []error) error {
	if err := parseArgs(fs, c, args, nil); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	}
	return c.checkFlags(check...)
}

// checkFlags reports every problem of a command's flags at once: the
// configuration's (Validate's, the values that did not parse among them)
// and each of the command's own that its checks return.
func (c *Config) checkFlags(checks ...func() []error) error {
	errs := c.configProblems()
	for _, check := range checks {
		errs = append(errs, check()...)
	}
	return usageProblems(errs...)
}

// usageProblems is one usage error naming every problem, a line each; nil
// errors are no problem.
func usageProblems(errs ...error) error {
	var lines []string
	for _, err := range errs {
		if err != nil {
			lines = append(lines, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		}
	}
	switch len(lines) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%w: %s", errUsage, lines[0])
	}
	return fmt.Errorf("%w:\n%s", errUsage, strings.Join(lines, "\n"))
}
