package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/n2n-dev/n2n/daemon"
	"github.com/n2n-dev/n2n/output"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// Main runs the program with the process's arguments and streams and returns
// the exit status.
func Main() int {
	return runCommand(os.Args, os.Stdin, os.Stdout, os.Stderr, true)
}

// Run is Main with explicit arguments and streams, for a caller that goes
// on after it: everything the command opened is closed when it returns.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runCommand(args, stdin, stdout, stderr, false)
}

// runCommand runs one command line; exiting says the process exits when it
// returns (see env.exiting).
func runCommand(args []string, stdin io.Reader, stdout, stderr io.Writer, exiting bool) int {
	// Everything n2n creates in the home is private to its owner.
	unix.Umask(0o077)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, terminal: output.TerminalOf(stdout, stderr),
		stdinTTY: output.IsTerminal(stdin), exiting: exiting}
	e.cwd, _ = os.Getwd()
	return e.run(ctx, args)
}

// run runs one command line; in the daemon it runs forwarded commands.
func (e *env) run(ctx context.Context, args []string) int {
	app := newApp(e)
	e.args = hoistGlobals(args, app.Flags)
	err := app.RunContext(ctx, e.args)
	var fw *forwarded
	if errors.As(err, &fw) {
		return fw.code // the daemon ran it and printed everything
	}
	if err == nil || errors.Is(err, errAnswered) {
		return exitOK
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w: %v", context.Canceled, err)
	}
	code, hint := classify(err)
	if code == exitInterrupted {
		return code // the user knows: no message
	}
	if e.io == nil { // flags were never parsed: plain diagnostics
		e.io, _ = output.NewTTY(e.stdin, e.stdout, e.stderr, e.terminal, false, "never")
		e.debug = e.daemon == nil && debugFromEnv()
	}
	var detail string
	if e.debug {
		detail = err.Error()
	}
	e.io.Error(code, summary(err), hint, detail)
	return code
}

// errAnswered: the command line was answered before any command ran
// (--help, --version); the exit status is 0.
var errAnswered = errors.New("answered")

// env is what every command gets: the streams and the global flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// terminal describes stdout and stderr (and, for a forwarded command,
	// the environment the client sent): what output depends on.
	terminal output.Terminal
	stdinTTY bool
	io       *output.IO
	args     []string // the command line, global flags first
	cwd      string   // of the invoking shell

	// exiting: the process exits as soon as the command returns, so what
	// only reading opened (a read-only home, the one-shot client host) is
	// left for the exit to release instead of being closed first: closing
	// a read-only Badger unmaps and syncs every table, ~1 ms that the user
	// would wait for after the answer is printed. Nothing is written then.
	exiting bool
	// daemon is set when the command runs inside "n2n serve" (forwarded
	// over the local socket, or a handler's own n2n command).
	daemon *daemon.Daemon
	// stopDaemon ends the daemon ("n2n stop" inside the daemon).
	stopDaemon func()

	home        string
	timeout     time.Duration
	dialTimeout time.Duration
	bootstrap   []string
	noDaemon    bool
	directOnly  bool
	passFile    string
	debug       bool                     // --debug, N2N_DEBUG: errors with their whole chain
	homeChecked bool                     // warnOpenHome has looked at the home
	progress    atomic.Pointer[progress] // of the request under way (beginProgress)
}

func envOf(c *cli.Context) *env { return c.App.Metadata["env"].(*env) }

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "home", Usage: "agent home `DIR` (default $XDG_DATA_HOME/n2n)", EnvVars: []string{"N2N_HOME"}},
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object per line"},
		&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "wait `DURATION` for a reply once connected (and for a busy home)"},
		&cli.DurationFlag{Name: "dial-timeout", Value: 10 * time.Second, Usage: "wait `DURATION` for an address that does not answer"},
		&cli.StringSliceFlag{Name: "bootstrap", Usage: "DHT bootstrap peer `ADDR` (multiaddr with /p2p/; repeatable)", EnvVars: []string{"N2N_BOOTSTRAP"}},
		&cli.BoolFlag{Name: "no-daemon", Usage: "do not use a running 'n2n serve'; open the home directly"},
		&cli.BoolFlag{Name: "direct-only", Usage: "never send through a relay: fail (exit 5) while an agent is reachable only through one"},
		&cli.StringFlag{Name: "passphrase-file", Usage: "read the home's passphrase from `FILE` (N2N_PASSPHRASE holds the passphrase itself)"},
		&cli.StringFlag{Name: "color", Value: "auto", Usage: "colour `WHEN`: auto, always or never (NO_COLOR is honoured)"},
		&cli.BoolFlag{Name: "debug", Usage: "show errors with every detail below them (also N2N_DEBUG=1)"},
		&cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help (of the command it follows: n2n chain log --help)"},
		&cli.BoolFlag{Name: "version", Usage: "print the version of n2n"},
	}
}

// commands is the command list, in help order.
func commands() []*cli.Command {
	return []*cli.Command{
		initCommand(),
		idCommand(),
		commitCommand(),
		chainCommand(),
		serveCommand(),
		stopCommand(),
		statusCommand(),
		sendCommand(),
		inboxCommand(),
		resolveCommand(),
		pingCommand(),
		peersCommand(),
		contactsCommand(),
		grantCommand(),
		grantsCommand(),
		revokeCommand(),
		claimCommand(),
		claimsCommand(),
		callCommand(),
		auditCommand(),
		versionCommand(),
		completionCommand(),
		helpCommand(),
	}
}

func newApp(e *env) *cli.App {
	app := &cli.App{
		Name:      "n2n",
		Usage:     "end-to-end encrypted messages and capability-secured calls between agents",
		UsageText: "n2n [global options] command [command options] [arguments...]",
		Description: "n2n sends direct, end-to-end encrypted messages and makes capability-secured\n" +
			"calls between agents identified by public keys (agent IDs, uhCAk…). Each agent\n" +
			"keeps a signed, append-only source chain in its home; grants and claims are\n" +
			"recorded there. Global options may also follow the command name.",
		Version:              version(),
		HideVersion:          true,
		HideHelp:             true,
		Flags:                globalFlags(),
		Commands:             commands(),
		Reader:               e.stdin,
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		Metadata:             map[string]any{"env": e},
		EnableBashCompletion: false,
		ExitErrHandler:       func(*cli.Context, error) {}, // Run maps errors to statuses
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return withHint(flagError(err), exitUsage, "see 'n2n help'")
		},
		CommandNotFound: func(c *cli.Context, name string) {
			// Reported by Action below (CommandNotFound cannot return an error).
		},
		Before: func(c *cli.Context) error { return e.setup(c) },
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return withHint(fmt.Errorf("unknown command %q", c.Args().First()), exitUsage, "see 'n2n help'")
			}
			return showHelp(c.App, c.App.Writer, nil)
		},
	}
	app.Setup()
	prepare(app.Name, app.Commands)
	return app
}

func (e *env) setup(c *cli.Context) error {
	var err error
	// A forwarded command has --debug in its arguments when the client's
	// environment asked for it (maybeForward); the daemon's own does not count.
	e.debug = c.Bool("debug") || e.daemon == nil && debugFromEnv()
	if e.io, err = output.NewTTY(e.stdin, e.stdout, e.stderr, e.terminal, c.Bool("json"), c.String("color")); err != nil {
		return usagef("%v", err)
	}
	switch {
	case c.Bool("help"): // "n2n chain log --help", hoisted: help for chain log
		if err := showHelp(c.App, c.App.Writer, c.Args().Slice()); err != nil {
			return err
		}
		return errAnswered
	case c.Bool("version"):
		if err := runVersion(e); err != nil {
			return err
		}
		return errAnswered
	}
	if e.daemon == nil {
		e.home = c.String("home")
		if e.home == "" {
			e.home = defaultHome()
		}
		if e.home, err = filepath.Abs(e.home); err != nil {
			return err
		}
	}
	e.timeout = c.Duration("timeout")
	e.dialTimeout = c.Duration("dial-timeout")
	e.bootstrap = c.StringSlice("bootstrap")
	e.noDaemon = c.Bool("no-daemon")
	e.directOnly = c.Bool("direct-only")
	e.passFile = c.String("passphrase-file")
	if e.timeout <= 0 || e.dialTimeout <= 0 {
		return usagef("--timeout and --dial-timeout must be positive")
	}
	return e.maybeForward(c)
}

// hoistGlobals moves global flags given after the command name to the front,
// so that "n2n id --json" means what it says. Arguments after "--" are left
// alone (a payload may look like a flag).
func hoistGlobals(args []string, flags []cli.Flag) []string {
	if len(args) < 2 {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	front := []string{args[0]}
	var rest []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		tv, global := takesValue[name]
		if !strings.HasPrefix(a, "-") || !global {
			rest = append(rest, a)
			continue
		}
		front = append(front, a)
		if tv && !hasValue && i+1 < len(args) {
			i++
			front = append(front, args[i])
		}
	}
	return append(front, rest...)
}

// debugFromEnv reports whether N2N_DEBUG asks for --debug: set, and not
// 0 or false.
func debugFromEnv() bool {
	v := os.Getenv("N2N_DEBUG")
	on, err := strconv.ParseBool(v)
	return v != "" && (err != nil || on)
}

func defaultHome() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "n2n")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "n2n")
	}
	return ".n2n"
}

// DocApp is the command tree for generating the man page and completions.
func DocApp() *cli.App {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	return newApp(e)
}

// ExitCodes is the exit-status table, for the man page.
func ExitCodes() [][2]string {
	var out [][2]string
	for _, x := range exitCodeTable {
		out = append(out, [2]string{fmt.Sprint(x.code), x.meaning})
	}
	return out
}
