// Command run is n2n's benchmark suite: it builds the floor
// programs, starts a throwaway sshd (bench/ssh/anchor.sh), n2n agents and
// the floor's own servers on 127.0.0.1, times every metric of the issue
// with n2n, its floor (the same libraries without n2n's layers) and the ssh
// anchor side by side, runs the in-process Go benchmarks, and prints one
// table, which it also writes to bench/results.md with the machine
// described. Whole-process figures are the median (and p90) of -runs runs
// after -warmup untimed ones. Every process it starts is stopped by PID;
// every loop is bounded in count and time.
//
// From the bench directory:
//
//	go run ./run [-n2n ../bin/n2n] [-runs 30] [-warmup 3] [-out results.md]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type harness struct {
	ctx      context.Context
	deadline time.Time
	repo     string // the n2n repository
	bench    string // its bench directory
	out      string // bench/out: binaries and cached data (git-ignored)
	work     string // a temporary directory for this run's homes and logs
	n2n      string
	runs     int
	warmup   int
	chainN   int
	only     string // comma-separated metric IDs; empty: all
	procs    procs
	testBins map[string]error // n2n package → error compiling its test binary

	floorAddr, floorAgent string
	sockdSock             string
	p4Process             string // P4's whole-process figure (measureNetwork)
	sshDir                string
	calleeID              string

	rows    []*row
	details []string
	machine machineInfo
}

func main() {
	n2nBin := flag.String("n2n", "", "n2n binary to measure (default: build it from -repo)")
	repo := flag.String("repo", "..", "the n2n repository")
	out := flag.String("out", "results.md", "write the table and the machine here (relative to the bench directory)")
	runs := flag.Int("runs", 30, "timed runs of each whole-process metric (at least 20)")
	warmup := flag.Int("warmup", 3, "untimed runs first")
	budget := flag.Duration("budget", 16*time.Minute, "stop measuring (rows say skipped) after this long")
	chainN := flag.Int("chain", 1_000_000, "actions in P9's chain")
	commits := flag.Int("commits", 2000, "one-shot commits in P11")
	only := flag.String("only", "", "measure only these metrics, e.g. P1,P2 (the table is then not written unless -out is given)")
	flag.Parse()
	outSet := false
	flag.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })
	if *only != "" && !outSet {
		*out = ""
	}
	if *runs < 20 {
		fmt.Fprintln(os.Stderr, "run: -runs must be at least 20")
		os.Exit(3)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := &harness{ctx: ctx, deadline: time.Now().Add(*budget), runs: *runs, warmup: *warmup, chainN: *chainN, only: *only}
	code := h.main(*repo, *n2nBin, *out, *commits)
	stop()
	os.Exit(code)
}

func (h *harness) main(repo, n2nBin, out string, commits int) int {
	var err error
	if h.repo, err = filepath.Abs(repo); err != nil {
		return h.fatal(err)
	}
	h.bench = filepath.Join(h.repo, "bench")
	h.out = filepath.Join(h.bench, "out")
	if _, err := os.Stat(filepath.Join(h.bench, "run", "main.go")); err != nil {
		return h.fatal(fmt.Errorf("%s is not the n2n repository (no bench/run): use -repo", h.repo))
	}
	if h.work, err = os.MkdirTemp("", "n2n-bench-"); err != nil {
		return h.fatal(err)
	}
	defer os.RemoveAll(h.work)
	defer h.procs.stopAll()
	h.machine = describeMachine()
	started := time.Now()

	h.logf("building (CGO_ENABLED=0, static)")
	if err := h.build(n2nBin); err != nil {
		return h.fatal(err)
	}
	if h.want("P1", "P2") {
		h.measureNetwork()
	}
	if h.want("P10", "P11") {
		h.measureLocal(commits)
	}
	if h.want("P3", "P4", "P5", "P7", "P9") {
		h.measureInProcess()
	}
	if h.want("P6") {
		h.measureDHT()
	}
	if h.want("P8") {
		h.measureCaps()
	}
	if h.want("P12", "P13") {
		h.measureFailFast()
	}
	if h.want("P14") {
		h.measureIdle()
	}

	h.machine.loadEnd = loadAvg()
	h.machine.took = time.Since(started).Round(time.Second)
	table := h.render()
	fmt.Println(table)
	if out == "" {
		return 0
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(h.bench, out)
	}
	if err := os.WriteFile(out, []byte(h.markdown(table)), 0o644); err != nil {
		return h.fatal(err)
	}
	h.logf("wrote %s (%s)", out, h.machine.took)
	return 0
}

func (h *harness) fatal(err error) int {
	fmt.Fprintln(os.Stderr, "run: error:", err)
	return 1
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: %s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// within bounds a phase's timeout by what is left of the budget.
func (h *harness) within(d time.Duration) time.Duration { return max(min(d, h.left()), time.Second) }

// want reports whether any of these metrics is to be measured.
func (h *harness) want(ids ...string) bool {
	if h.only == "" {
		return true
	}
	for _, o := range strings.Split(h.only, ",") {
		for _, id := range ids {
			if strings.EqualFold(strings.TrimSpace(o), id) {
				return true
			}
		}
	}
	return false
}

// left is the time remaining in the budget.
func (h *harness) left() time.Duration { return time.Until(h.deadline) }

// enough reports whether a phase expected to take about d fits the budget.
func (h *harness) enough(d time.Duration) bool { return h.left() > d && h.ctx.Err() == nil }

func (h *harness) binPath(name string) string { return filepath.Join(h.out, "bin", name) }

// build makes static binaries of the floor programs, the in-process
// benchmarks and (unless given) n2n.
func (h *harness) build(n2nBin string) error {
	goCmd := func(dir string, args ...string) error {
		ctx, cancel := context.WithTimeout(h.ctx, 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if dir == h.bench {
			// The bench module's go.sum follows the root's go.mod by itself;
			// the root module is built as it is.
			cmd.Env = append(cmd.Env, "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"))
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	for _, p := range []string{"ikserver", "ikclient", "sockd", "sockclient", "dhtlookup", "nop"} {
		if err := goCmd(h.bench, "build", "-trimpath", "-ldflags", "-s -w", "-o", h.binPath(p), "./floor/"+p); err != nil {
			return err
		}
	}
	if err := goCmd(h.bench, "build", "-trimpath", "-ldflags", "-s -w", "-o", h.binPath("dhtnet"), "./fixture/dhtnet"); err != nil {
		return err
	}
	if err := goCmd(h.bench, "test", "-c", "-o", h.binPath("inproc.test"), "./inproc"); err != nil {
		return err
	}
	// The n2n packages' own benchmarks (P6, P8), compiled now so that
	// measuring does not wait for the compiler. A package that does not
	// build yet only loses its row.
	h.testBins = map[string]error{}
	for _, pkg := range []string{"peers", "caps"} {
		h.testBins[pkg] = goCmd(h.repo, "test", "-c", "-o", h.binPath(pkg+".test"), "./"+pkg)
	}
	if n2nBin != "" {
		abs, err := filepath.Abs(n2nBin)
		if err != nil {
			return err
		}
		h.n2n = abs
		_, err = os.Stat(abs)
		return err
	}
	h.n2n = h.binPath("n2n")
	return goCmd(h.repo, "build", "-trimpath", "-ldflags", "-s -w", "-o", h.n2n, ".")
}

// must runs a setup command and fails with its stderr.
func (h *harness) must(c invocation) ([]byte, error) {
	_, out, err := runOnce(h.ctx, c)
	return out, err
}

// measureNetwork: P1 and P2, each with its floor and the ssh anchor.
func (h *harness) measureNetwork() {
	p1 := h.addRow("P1", "cold one-shot call, 100 B, callee's daemon up, address cached", "≤ 1.3× floor, ≤ 0.07× ssh cold")
	p2 := h.addRow("P2", "the same with the caller's daemon up", "≤ 2× thin-client floor, ≤ 0.03× ssh ControlMaster")
	p2b := h.addRow("P2′", "P2 through a thin static client to n2n's daemon (info)", "(info: a front binary)")
	p1.check = func(r *row) (bool, string) { return r.ratioAtMost(1.3, 0.07) }
	p2.check = func(r *row) (bool, string) { return r.ratioAtMost(2, 0.03) }
	if !h.enough(2 * time.Minute) {
		skip("time budget", p1, p2, p2b)
		return
	}

	// The anchor.
	h.sshDir = filepath.Join(h.work, "ssh")
	h.logf("ssh anchor: starting sshd on 127.0.0.1")
	anchorErr := h.sshStart()
	if anchorErr == nil {
		defer h.sshStop()
	} else {
		h.logf("ssh anchor unavailable: %v", anchorErr)
	}

	defer h.procs.stopAll() // before the later phases run, whatever happens here

	// The floor's servers.
	floorFile := filepath.Join(h.work, "ikserver.addr")
	iks, err := h.procs.start("ikserver", h.work, []string{h.binPath("ikserver"), "-addr-file", floorFile}, nil)
	if err == nil {
		err = h.readFloorAddr(floorFile, iks)
	}
	var floorErr error
	if err != nil {
		floorErr = fmt.Errorf("floor server: %w", err)
	} else {
		h.sockdSock = filepath.Join(h.work, "sockd.sock")
		sd, err := h.procs.start("sockd", h.work, []string{h.binPath("sockd"), "-sock", h.sockdSock, "-addr", h.floorAddr, "-agent", h.floorAgent}, nil)
		if err == nil {
			_, err = waitFile(h.ctx, h.sockdSock, sd, 20*time.Second)
		}
		if err != nil {
			floorErr = fmt.Errorf("floor daemon: %w", err)
		}
	}

	// n2n: the callee serves; the caller has its address cached.
	callee, caller := filepath.Join(h.work, "callee"), filepath.Join(h.work, "caller")
	callerAddr := filepath.Join(h.work, "caller.addr")
	if err := h.setupAgents(callee, caller); err != nil {
		fail(err, p1, p2, p2b)
		return
	}
	note := "n2n: `n2n call --to CALLEE echo PAYLOAD` (the callee serves `--fn echo=cat`, under an unrestricted grant)."
	p1.note = note + " Floor: bench/floor/ikclient → ikserver (fresh TCP-only libp2p host, dial, stream, Noise IK via noiseproto, 100 B echo; no handler process). Anchor: `ssh` to a forced `command=\"cat\"`, new connection each call."
	p2.note = "Same request through the caller's daemon. Floor: bench/floor/sockclient (small static binary, n2n's local frame protocol) → bench/floor/sockd (keeps one Noise IK session open on a warm libp2p connection, as n2n's daemon now does) → ikserver. Anchor: `ssh` through a ControlMaster started beforehand."
	p2b.note = "bench/floor/sockclient sending P2's command line to the caller's `n2n serve` socket instead of the n2n binary: what a small front binary (tailscale ↔ tailscaled) would give."

	h.logf("P1: cold one-shot (n2n, floor and ssh in turn)")
	var ping *value
	group := []timed{{"P1 n2n", h.n2nRequest(caller), &p1.n2n},
		{"P1 (info) n2n ping -c 1, one-shot: no handler", h.n2nPing(caller), &ping}}
	if floorErr == nil {
		group = append(group, timed{"P1 floor", h.floorOneShot(), &p1.floor})
	} else {
		p1.floor = naValue(floorErr.Error())
	}
	if anchorErr == nil {
		group = append(group, timed{"P1 ssh cold", h.sshCold(), &p1.anchor})
	} else {
		p1.anchor = naValue("ssh: " + anchorErr.Error())
	}
	h.timeAll(group...)
	p1.note += " A one-shot `n2n ping -c 1` (same path, no handler process): " + ping.text() + "."

	h.logf("P4 (info): `n2n send --lines` of %d messages, one-shot", p4Lines)
	if st, err := timeRuns(h.ctx, h.n2nLines(caller, p4Lines), 3, 1); err == nil {
		h.p4Process = fmt.Sprintf("%.0f /s (%d messages in %s, median of 3)", p4Lines/st.Median.Seconds(), p4Lines, fmtDur(st.Median))
	} else {
		h.p4Process = "failed: " + firstLine(err.Error())
	}

	h.logf("P2: through the caller's daemon (n2n, floor and ssh in turn)")
	cd, err := h.procs.start("caller-serve", h.work, h.callerServe(caller, callerAddr), nil)
	if err == nil {
		_, err = waitFile(h.ctx, callerAddr, cd, 30*time.Second)
	}
	if err == nil {
		_, err = waitFile(h.ctx, filepath.Join(caller, "n2n.sock"), cd, 10*time.Second)
	}
	group = nil
	if err != nil {
		fail(fmt.Errorf("caller's daemon: %w", err), p2, p2b)
	} else {
		group = append(group, timed{"P2 n2n", h.n2nRequest(caller), &p2.n2n},
			timed{"P2′ thin client → n2n daemon", h.thinToN2N(caller), &p2b.n2n})
	}
	if floorErr == nil {
		group = append(group, timed{"P2 floor", h.floorDaemon(), &p2.floor})
	} else {
		p2.floor = naValue(floorErr.Error())
	}
	if anchorErr == nil {
		group = append(group, timed{"P2 ssh ControlMaster", h.sshMaster(), &p2.anchor})
	} else {
		p2.anchor = naValue("ssh: " + anchorErr.Error())
	}
	h.timeAll(group...)
	p2b.floor, p2b.anchor = p2.floor, p2.anchor
	if cd != nil {
		cd.stop(10 * time.Second)
	}
}

// p4Lines is how many messages the whole-process P4 figure sends.
const p4Lines = 20000

func (h *harness) readFloorAddr(path string, bp *bgProc) error {
	b, err := waitFile(h.ctx, path, bp, 20*time.Second)
	if err != nil {
		return err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return fmt.Errorf("%s: want address and agent", path)
	}
	h.floorAddr, h.floorAgent = f[0], f[1]
	return nil
}

// setupAgents starts the callee's daemon and gives the caller its address;
// one request warms both up. If `n2n call` exists, it is set up and tried.
func (h *harness) setupAgents(callee, caller string) error {
	for _, home := range []string{callee, caller} {
		out, err := h.must(h.initHome(home))
		if err != nil {
			return err
		}
		if home == callee {
			h.calleeID = strings.TrimSpace(string(out))
		}
	}
	addrFile := filepath.Join(h.work, "callee.addr")
	bp, err := h.procs.start("callee-serve", h.work, h.calleeServe(callee, addrFile), nil)
	if err != nil {
		return err
	}
	b, err := waitFile(h.ctx, addrFile, bp, 30*time.Second)
	if err != nil {
		return fmt.Errorf("callee's daemon: %w", err)
	}
	if _, err := waitFile(h.ctx, filepath.Join(callee, "n2n.sock"), bp, 10*time.Second); err != nil {
		return fmt.Errorf("callee's daemon: %w", err)
	}
	addr := strings.Fields(string(b))[0]
	if !strings.HasPrefix(addr, "/ip4/127.") {
		return fmt.Errorf("callee listens on %s, not loopback", addr)
	}
	if _, err := h.must(h.peersAdd(caller, addr)); err != nil {
		return err
	}
	for _, argv := range h.callSetup(callee) {
		if _, err := h.must(invocation{argv: argv}); err != nil {
			return fmt.Errorf("grant: %w", err)
		}
	}
	if _, err := h.must(h.n2nRequest(caller)); err != nil {
		return fmt.Errorf("first call: %w", err)
	}
	return nil
}

func (h *harness) sshStart() error {
	ctx, cancel := context.WithTimeout(h.ctx, 8*time.Minute) // may install openssh-server
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(h.bench, "ssh", "anchor.sh"), "start", h.sshDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, lastLines(string(out), 3))
	}
	return nil
}

func (h *harness) sshStop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exec.CommandContext(ctx, "bash", filepath.Join(h.bench, "ssh", "anchor.sh"), "stop", h.sshDir).Run()
}

// timed is one command of a group and where its figure goes.
type timed struct {
	label string
	c     invocation
	into  **value
}

// timeAll times the commands of a group in turn (timeGroup) and stores
// each figure, or its error.
func (h *harness) timeAll(group ...timed) {
	cs := make([]invocation, len(group))
	for i, t := range group {
		cs[i] = t.c
	}
	ss, errs := timeGroup(h.ctx, cs, h.runs, h.warmup)
	for i, t := range group {
		h.record(t.into, t.label, t.c, ss[i], errs[i])
	}
}

// timeInto times c alone and stores the result (or the error) in *v.
func (h *harness) timeInto(v **value, label string, c invocation) {
	s, err := timeRuns(h.ctx, c, h.runs, h.warmup)
	h.record(v, label, c, s, err)
}

func (h *harness) record(v **value, label string, c invocation, s stats, err error) {
	if err != nil {
		*v = errValue(err)
		h.details = append(h.details, fmt.Sprintf("%s: `%s`: error: %v", label, shortCmd(c.argv), err))
		return
	}
	*v = msValue(s)
	h.details = append(h.details, fmt.Sprintf("%s: `%s`: median %s, p90 %s, min %s, max %s, %d runs after %d warm-up",
		label, shortCmd(c.argv), fmtDur(s.Median), fmtDur(s.P90), fmtDur(s.Min), fmtDur(s.Max), s.Runs, h.warmup))
}

// measureLocal: P10 (cold local commands) and P11 (one-shot commits).
func (h *harness) measureLocal(commits int) {
	p10 := h.addRow("P10", "cold local command: `n2n id`", "≤ 10 ms")
	p10g := h.addRow("P10", "cold local command: `n2n grants`", "≤ 10 ms")
	p11 := h.addRow("P11", fmt.Sprintf("%d one-shot `n2n commit` in a row: last vs first", commits), "all succeed; last ≤ 1.5× first")
	p10.check = func(r *row) (bool, string) { return r.absAtMost(10) }
	p10g.check = p10.check
	p11.check = func(r *row) (bool, string) {
		if r.n2n == nil || r.n2n.err != "" {
			return false, "did not complete"
		}
		return r.ratioAtMost(1.5, 0)
	}
	if !h.enough(90 * time.Second) {
		skip("time budget", p10, p10g, p11)
		return
	}
	home := filepath.Join(h.work, "local")
	if _, err := h.must(h.initHome(home)); err != nil {
		fail(err, p10, p10g, p11)
		return
	}
	h.logf("P10: cold local commands (in turn)")
	var version *value
	group := []timed{{"P10 n2n id", h.coldLocal(home, "id"), &p10.n2n},
		{"P10 floor (trivial static binary)", h.nop(), &p10.floor},
		{"P10 (info) n2n version: no home opened", h.coldLocal(home, "version"), &version}}
	if _, err := h.must(invocation{argv: []string{h.n2n, "grants", "--help"}}); err != nil {
		p10g.n2n = naValue("`n2n grants` does not exist in this build")
	} else {
		group = append(group, timed{"P10 n2n grants", h.coldLocal(home, "grants"), &p10g.n2n})
	}
	h.timeAll(group...)
	p10g.floor = p10.floor
	p10.note = "Home without passphrase, no daemon. Floor: bench/floor/nop, a static Go binary that only starts and exits. `n2n version`, which opens no home: " + version.text() + "."

	h.logf("P11: %d one-shot commits", commits)
	h.commits(home, commits, p11)
}

// commits runs n one-shot commits on home, bounded by count and by time,
// every one required to succeed; it compares the median of the first 20
// with the median of the last 20.
func (h *harness) commits(home string, n int, r *row) {
	limit := min(5*time.Minute, h.left()-3*time.Minute)
	start := time.Now()
	var ts []time.Duration
	for i := range n {
		if time.Since(start) > limit {
			r.n2n = errValue(fmt.Errorf("stopped after %d of %d commits: time limit %s", i, n, limit.Round(time.Second)))
			break
		}
		d, out, err := runOnce(h.ctx, h.commit(home, i))
		if err == nil && len(out) == 0 {
			err = errors.New("no output")
		}
		if err != nil {
			r.n2n = errValue(fmt.Errorf("commit %d of %d failed: %w", i+1, n, err))
			break
		}
		ts = append(ts, d)
	}
	const k = 20
	if len(ts) < 2*k {
		if r.n2n == nil {
			r.n2n = errValue(errors.New("too few commits"))
		}
		return
	}
	first, last := summarise(ts[:k]), summarise(ts[len(ts)-k:])
	all := summarise(ts)
	if r.n2n == nil {
		r.n2n = msValue(last)
	}
	r.floor = msValue(first)
	r.note = fmt.Sprintf("n2n column: median of the last %d commits; floor column: of the first %d (each a whole process: open read-write, append, sync, close). %d of %d succeeded in %s.",
		k, k, len(ts), n, time.Since(start).Round(time.Second))
	h.details = append(h.details, fmt.Sprintf("P11 commits: all %d: median %s, p90 %s, max %s; first %d: median %s; last %d: median %s",
		len(ts), fmtDur(all.Median), fmtDur(all.P90), fmtDur(all.Max), k, fmtDur(first.Median), k, fmtDur(last.Median)))
}
