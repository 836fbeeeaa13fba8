package cmd

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/daemon"
	"github.com/n2n-dev/n2n/localsock"
	"github.com/n2n-dev/n2n/output"
	"github.com/urfave/cli/v2"
)

// socketName is the daemon's local socket in the home.
const socketName = "n2n.sock"

func (e *env) socket() string { return filepath.Join(e.home, socketName) }

// local commands never go to the daemon: they do not touch the home, or
// they are the daemon's own.
var local = map[string]bool{
	"": true, "serve": true, "init": true, "version": true, "completion": true, "help": true, "h": true,
}

// forwardedEnv are the variables of the client's environment that a
// forwarded command reads in its place (output.Terminal.Getenv).
var forwardedEnv = []string{"NO_COLOR", "TERM"}

// forwarded carries the exit status of a command that another n2n process
// ran and reported itself (the daemon, or the child of serve --detach).
type forwarded struct{ code int }

func (f *forwarded) Error() string { return "forwarded" }

// maybeForward runs the command in the home's daemon when one is up
// (see the README): same stdout, same exit status, no lock error.
func (e *env) maybeForward(c *cli.Context) error {
	name := c.Args().First()
	if e.daemon != nil || e.noDaemon || local[name] {
		return nil
	}
	if _, err := os.Stat(e.socket()); err != nil {
		return nil
	}
	args := e.args
	if e.debug && !c.Bool("debug") { // N2N_DEBUG: the daemon does not see this environment
		args = append([]string{args[0], "--debug"}, args[1:]...)
	}
	t := e.terminal
	req := &localsock.Request{Args: localsock.Bytes(args), Cwd: []byte(e.cwd), Env: map[string][]byte{},
		StdoutTTY: t.Stdout, StderrTTY: t.Stderr, StdinTTY: e.stdinTTY, Width: t.Width}
	for _, k := range forwardedEnv {
		if v, ok := os.LookupEnv(k); ok {
			req.Env[k] = []byte(v)
		}
	}
	code, err := localsock.Forward(c.Context, e.socket(), req, e.stdin, e.stdout, e.stderr)
	if errors.Is(err, localsock.ErrNoDaemon) {
		return nil // a stale socket: the one-shot path
	}
	if (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && c.Context.Err() == nil {
		return withHint(err, exitError, "if the daemon runs another version of n2n, restart it: 'n2n stop', then 'n2n serve --detach'")
	}
	if err != nil {
		return err
	}
	if name == "stop" && code == exitOK {
		// The daemon has begun to stop: return once it has let go of the home.
		if err := chain.WaitFree(c.Context, e.home, e.timeout); err != nil {
			return err
		}
	}
	return &forwarded{code: code}
}

// runForwarded is the daemon's side: run a forwarded command line against
// the daemon's home and node.
func runForwarded(d *daemon.Daemon, home string, stop func()) localsock.Runner {
	return func(ctx context.Context, req *localsock.Request, stdin io.Reader, stdout, stderr io.Writer) int {
		getenv := func(k string) string { return string(req.Env[k]) }
		e := &env{stdin: stdin, stdout: stdout, stderr: stderr, stdinTTY: req.StdinTTY,
			terminal: output.Terminal{Stdout: req.StdoutTTY, Stderr: req.StderrTTY, Width: req.Width, Getenv: getenv},
			cwd:      string(req.Cwd), daemon: d, home: home, stopDaemon: stop}
		return e.run(ctx, localsock.Strings(req.Args))
	}
}
