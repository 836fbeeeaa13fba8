package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/daemon"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/localsock"
	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/peers"
	"github.com/urfave/cli/v2"
)

type serveOptions struct {
	listen      []string
	addrFile    string
	mdns        bool
	fns         map[string]string
	detach      bool
	concurrency int
	public      bool
	announce    []string
	relay       peers.RelayLimits
	policy      daemon.Policy
	quotas      daemon.Quotas
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the conductor: answer other agents, run handlers, serve local commands",
		Description: "Holds the home, listens for other agents (TCP and QUIC), joins the DHT and\n" +
			"publishes this agent's record, runs function handlers under capability checks,\n" +
			"and answers this home's other n2n commands on <home>/n2n.sock. Prints events\n" +
			"one per line: messages received or refused, claims, and calls, allowed or\n" +
			"refused, with their outcome and time taken (a message the receive function\n" +
			"answers shows as a call of receive). Refuses a --listen port that another\n" +
			"daemon holds. Stops on SIGINT, SIGTERM or 'n2n stop'.\n\n" +
			"Behind a NAT (it listens on private addresses only and a bootstrap node is\n" +
			"outside its networks) the daemon reserves a slot with a relay at once (its\n" +
			"bootstrap nodes first), publishes its circuit address, and when another agent\n" +
			"reaches it through the relay it punches a hole for a direct connection,\n" +
			"trying again for a minute; a request too large for the relay waits a few\n" +
			"seconds for that connection. Behind a NAT that gives each connection its own\n" +
			"port (symmetric), no hole can be punched and traffic stays relayed.\n\n" +
			"--public runs a public node (a small VPS anyone may run): it serves the DHT\n" +
			"and relays for agents behind NATs, at once, with limits suited to n2n:\n" +
			"--relay-data (64 MiB each way per relayed connection, so a 16 MiB call and its\n" +
			"reply fit with room to spare; libp2p's 128 KiB is meant for hole punching\n" +
			"only), --relay-duration (10 minutes, enough for large calls over slow links;\n" +
			"agents then dial again) and --relay-reservations (128 agents). It sees who\n" +
			"talks to whom and how much, never what: sessions stay end-to-end encrypted.\n" +
			"--announce gives the addresses others should dial (a VPS behind a 1:1 NAT, a\n" +
			"network of private addresses). It prints the --bootstrap flags to hand out.\n\n" +
			serveSections(),
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "listen", Usage: "listen on multiaddr `MA` (repeatable; default all interfaces, TCP and QUIC, any port)"},
			&cli.StringFlag{Name: "addr-file", Usage: "write the full multiaddrs (with /p2p/) to `FILE` once listening"},
			&cli.BoolFlag{Name: "mdns", Usage: "find peers on the local network without bootstrap"},
			&cli.StringSliceFlag{Name: "fn", Usage: "serve function `NAME=CMD`, a shell command (repeatable)"},
			&cli.BoolFlag{Name: "detach", Usage: "run in the background; return once ready"},
			&cli.IntFlag{Name: "concurrency", Value: daemon.DefaultConcurrency, Usage: "run at most `N` handlers at once (a call over it is answered busy)"},
			&cli.BoolFlag{Name: "public", Usage: "run a public node: serve the DHT and relay for agents behind NATs"},
			&cli.StringSliceFlag{Name: "announce", Usage: "tell others to dial multiaddr `MA` (no /p2p/; repeatable) instead of the listen addresses"},
			&cli.StringFlag{Name: "relay-data", Value: humanize.IBytes(uint64(peers.DefaultRelayLimits.Data)), Usage: "with --public: bytes relayed per connection in each direction (`SIZE`)"},
			&cli.DurationFlag{Name: "relay-duration", Value: peers.DefaultRelayLimits.Duration, Usage: "with --public: how long a relayed connection may last (`D`)"},
			&cli.IntFlag{Name: "relay-reservations", Value: peers.DefaultRelayLimits.Reservations, Usage: "with --public: how many agents may hold a relay reservation (`N`)"},
		}, policyFlags()...),
		Action: func(c *cli.Context) error {
			o := serveOptions{
				listen: c.StringSlice("listen"), addrFile: c.String("addr-file"), mdns: c.Bool("mdns"),
				detach: c.Bool("detach"), concurrency: c.Int("concurrency"), fns: map[string]string{},
			}
			var err error
			if o.policy, o.quotas, err = policyOptions(c); err != nil {
				return err
			}
			for _, f := range c.StringSlice("fn") {
				name, command, ok := strings.Cut(f, "=")
				if !ok || !daemon.ValidFunctionName(name) || command == "" {
					return usagef("--fn %q: want NAME=COMMAND with NAME like [a-z][a-z0-9_]*", f)
				}
				o.fns[name] = command
			}
			if o.concurrency < 1 {
				return usagef("--concurrency must be at least 1")
			}
			o.public, o.announce = c.Bool("public"), c.StringSlice("announce")
			data, err := humanize.ParseBytes(c.String("relay-data"))
			if err != nil || data < 1<<10 || data > 1<<40 {
				return usagef("--relay-data %q: want a size from 1KiB to 1TiB, like 64MiB", c.String("relay-data"))
			}
			o.relay = peers.RelayLimits{Data: int64(data), Duration: c.Duration("relay-duration"), Reservations: c.Int("relay-reservations")}
			if o.relay.Duration < time.Second || o.relay.Reservations < 1 {
				return usagef("--relay-duration must be at least 1s and --relay-reservations at least 1")
			}
			for _, f := range []string{"relay-data", "relay-duration", "relay-reservations"} {
				if c.IsSet(f) && !o.public {
					return usagef("--%s applies to a public node: add --public", f)
				}
			}
			return runServe(c.Context, envOf(c), o)
		},
	}
}

func runServe(ctx context.Context, e *env, o serveOptions) error {
	if e.daemonAnswers() {
		return withHint(fmt.Errorf("a daemon is already serving %s", e.home), exitError, "'n2n status' describes it, 'n2n stop' stops it")
	}
	if err := e.homeWritable(); err != nil {
		return err
	}
	if o.detach {
		return e.detach(ctx, o.addrFile)
	}
	if err := peers.CheckPortsFree(o.listen); err != nil {
		return err
	}
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	if _, err := c.CheckHead(); err != nil {
		return withHint(err, 0, integrityHint)
	}
	node, err := peers.NewServer(ctx, peers.Options{
		Identity: c.Identity(), Listen: o.listen, Bootstrap: e.bootstrapOf(c), MDNS: o.mdns, DialTimeout: e.dialTimeout,
		Public: o.public, Announce: o.announce, Relay: o.relay,
	})
	if err != nil {
		return err
	}
	defer node.Close()

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	env := handlerEnv()
	d := daemon.New(c, node, daemon.NewFunctions(e.home, o.fns, o.concurrency, env))
	d.Policy, d.Quotas = o.policy, o.quotas
	if n, err := d.Functions.EndOrphans(); err != nil {
		e.io.Warn("handlers left by a previous daemon: %v", err)
	} else if n == 1 {
		e.io.Info("n2n: ended 1 process of handlers left running by a previous daemon")
	} else if n > 1 {
		e.io.Info("n2n: ended %d processes of handlers left running by a previous daemon", n)
	}
	d.Warn = func(err error) {
		if errors.As(err, new(*chain.IntegrityError)) {
			err = fmt.Errorf("%w; %s", err, integrityHint)
		}
		e.io.Warn("%s", summary(err))
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(d.Limits.MemoryLimit())
	}
	if e.debug {
		d.Debug = func(format string, args ...any) { e.io.Info("n2n: debug: "+format, args...) }
	}
	events, unsubscribe := d.Events.Subscribe()
	defer unsubscribe()
	d.Start(ctx)
	defer d.Wait()

	// We hold the home, so a socket file left here is stale.
	os.Remove(e.socket())
	ln, err := net.Listen("unix", e.socket())
	if err != nil {
		return fmt.Errorf("daemon socket: %w", err)
	}
	defer os.Remove(e.socket())
	os.Chmod(e.socket(), 0o600)
	localDone := make(chan error, 1)
	go func() { localDone <- localsock.Serve(ctx, ln, runForwarded(d, e.home, stop)) }()

	// The pid file lets tools (and test harnesses) find a daemon they must stop.
	pidFile := filepath.Join(e.home, "n2n.pid")
	writeFileAtomic(pidFile, []byte(fmt.Sprintf("%d\n", os.Getpid())))
	defer os.Remove(pidFile)
	if o.addrFile != "" {
		if err := writeFileAtomic(e.path(o.addrFile), []byte(strings.Join(node.Addrs(), "\n")+"\n")); err != nil {
			return fmt.Errorf("--addr-file: %w", err)
		}
	}
	e.io.Info("n2n: serving %s on %s", c.Identity().Public(), strings.Join(node.Addrs(), " "))
	if o.public {
		e.io.Info("n2n: public node; agents bootstrap from it with:%s", bootstrapFlags(node.Addrs()))
	}
	for {
		select {
		case <-ctx.Done():
			ln.Close()
			<-localDone
			return nil
		case err := <-localDone:
			return err
		case ev := <-events:
			e.printEvent(ev)
		}
	}
}

// handlerEnv is the daemon's environment for function handlers, with the
// directory of this n2n first on PATH so that a handler's own n2n commands
// run this same program (and so reach this daemon).
func handlerEnv() []string {
	env := os.Environ()
	exe, err := os.Executable()
	if err != nil {
		return env
	}
	dir := filepath.Dir(exe)
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			env[i] = "PATH=" + dir + string(os.PathListSeparator) + v
			return env
		}
	}
	return append(env, "PATH="+dir)
}

// printEvent prints one event line, its fields escaped (output.Row).
func (e *env) printEvent(ev daemon.Event) {
	switch {
	case ev.Kind == "message" && ev.Message != nil:
		if e.io.Mode == output.JSON {
			text, enc := output.Bytes(ev.Message.Body)
			v := map[string]any{"type": "message", "time": output.TimeText(ev.Time), "from": ev.From.String(), "message": text}
			if enc != "" {
				v["encoding"] = enc
			}
			e.io.JSONLine(v)
			return
		}
		e.io.Row("message", output.TimeText(ev.Time), ev.From.String(), string(ev.Message.Body))
	case ev.Kind == "call" && ev.Call != nil:
		e.printCall(ev)
	default:
		if e.io.Mode == output.JSON {
			e.io.JSONLine(map[string]any{"type": ev.Kind, "time": output.TimeText(ev.Time), "from": ev.From.String(), "text": strings.Join(ev.Fields, "\t")})
			return
		}
		e.io.Row(append([]string{ev.Kind, output.TimeText(ev.Time), ev.From.String()}, ev.Fields...)...)
	}
}

// printCall prints a call event: who called which function, the outcome,
// how long it took and, when it did not work, the last line of the words
// the caller got (fields escaped, output.Row: a caller chooses the name).
func (e *env) printCall(ev daemon.Event) {
	r := ev.Call
	ms := float64(r.Duration) / 1000
	grant := ""
	if len(r.GrantID) == 32 {
		grant = keys.Hash(r.GrantID).ActionString()
	}
	said := strings.Join(ev.Fields, "\n") // whole in JSON, its last line in a row
	fn := r.Function
	if r.InvalidFunction {
		fn = fmt.Sprintf("(invalid name of %d bytes)", r.FunctionLen)
	}
	if e.io.Mode == output.JSON {
		v := map[string]any{"type": "call", "time": output.TimeText(ev.Time), "from": ev.From.String(),
			"function": r.Function, "access": r.Access, "grant_id": grant, "outcome": string(r.Outcome), "duration_ms": ms, "error": said}
		if r.InvalidFunction {
			v["invalid_function_bytes"] = r.FunctionLen
		}
		e.io.JSONLine(v)
		return
	}
	fields := []string{"call", output.TimeText(ev.Time), ev.From.String(), fn, string(r.Outcome), strconv.FormatFloat(ms, 'f', 3, 64)}
	if said != "" {
		fields = append(fields, lastLine(said))
	}
	e.io.Row(fields...)
}

// daemonAnswers reports whether a daemon answers on the home's socket.
func (e *env) daemonAnswers() bool {
	conn, err := net.DialTimeout("unix", e.socket(), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// detach starts "n2n serve" (these flags, without --detach) in the
// background, with its output in <home>/serve.log, and returns once its
// socket answers and its --addr-file (if any) is written — or with its
// log's last lines if it exits first.
func (e *env) detach(ctx context.Context, addrFile string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var args []string
	for _, a := range e.args[1:] {
		if a != "--detach" && a != "-detach" {
			args = append(args, a)
		}
	}
	if e.home != "" {
		args = append([]string{"--home", e.home}, args...)
	}
	if err := os.MkdirAll(e.home, 0o700); err != nil {
		return err
	}
	logPath := filepath.Join(e.home, "serve.log")
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	child := exec.Command(exe, args...)
	child.Dir = e.cwd
	child.Stdout, child.Stderr = logf, logf
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if e.passFile == "" && os.Getenv("N2N_PASSPHRASE") == "" && e.storeEncrypted() {
		// Ask here, where there is a terminal; the child gets it in its
		// environment (never argv).
		pass, err := e.passphrase(ctx, false)
		if err != nil {
			return err
		}
		child.Env = append(os.Environ(), "N2N_PASSPHRASE="+string(pass))
		clear(pass)
	}
	if addrFile != "" {
		addrFile = e.path(addrFile)
		os.Remove(addrFile) // an old one must not pass for the new daemon's
	}
	logStart, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	deadline := time.Now().Add(e.timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return e.childExited(err, child.ProcessState.ExitCode(), logPath, logStart)
		case <-ctx.Done():
			child.Process.Signal(syscall.SIGTERM)
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if e.daemonAnswers() && (addrFile == "" || exists(addrFile)) {
			e.io.Info("n2n: daemon started (pid %d, log %s)", child.Process.Pid, logPath)
			child.Process.Release()
			return nil
		}
	}
	child.Process.Signal(syscall.SIGTERM)
	return errors.New("the daemon did not become ready before --timeout")
}

// childExited reports a detached daemon that exited before it was ready:
// what it wrote (its diagnostics, as it would have printed them in the
// foreground) and its exit status, as if it had run here.
func (e *env) childExited(err error, code int, logPath string, logStart int64) error {
	var said []byte
	if f, ferr := os.Open(logPath); ferr == nil {
		said, _ = io.ReadAll(io.NewSectionReader(f, logStart, maxChildDiagnostics))
		f.Close()
	}
	if code <= 0 || len(said) == 0 { // a signal, or nothing said
		return fmt.Errorf("the daemon exited before it was ready (%v); see %s", err, logPath)
	}
	e.io.Info("%s", strings.TrimRight(string(said), "\n"))
	return &forwarded{code: code}
}

// maxChildDiagnostics bounds what childExited relays of a detached daemon's
// log.
const maxChildDiagnostics = 64 << 10

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (e *env) storeEncrypted() bool {
	_, err := os.Stat(filepath.Join(e.home, kdfFile))
	return err == nil
}

// writeFileAtomic writes data to path through a temporary file and a rename,
// so a reader never sees half of it.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// bootstrapFlags are --bootstrap flags for a public node's addresses, but
// loopback ones (unless there is nothing else).
func bootstrapFlags(addrs []string) string {
	var b strings.Builder
	for _, a := range addrs {
		if !strings.HasPrefix(a, "/ip4/127.") && !strings.HasPrefix(a, "/ip6/::1/") {
			b.WriteString(" --bootstrap " + a)
		}
	}
	if b.Len() == 0 && len(addrs) > 0 {
		b.WriteString(" --bootstrap " + addrs[0])
	}
	return b.String()
}
