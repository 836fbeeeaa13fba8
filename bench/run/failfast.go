package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// measureFailFast: P12 (an agent nobody knows, on a DHT of 50 daemons) and
// P13 (an agent whose daemon stopped: its TCP address refuses, its QUIC
// address cannot say so), each a whole one-shot `n2n send` that must exit 5.
func (h *harness) measureFailFast() {
	p12 := h.addRow("P12", "unknown agent on a 50-node DHT: one-shot `n2n send` exits 5", "< 3 s")
	p13 := h.addRow("P13", "agent whose every address refuses (stopped daemon, TCP and QUIC): exits 5", "< 1 s")
	p12.check = func(r *row) (bool, string) { return r.absAtMost(3000) }
	p13.check = func(r *row) (bool, string) { return r.absAtMost(1000) }
	if !h.enough(2 * time.Minute) {
		skip("time budget", p12, p13)
		return
	}
	defer h.procs.stopAll()
	h.logf("P12, P13: a DHT of 50 n2n servers, 10 of them stopped")
	netFile := filepath.Join(h.work, "dhtnet.out")
	dn, err := h.procs.start("dhtnet", h.work, []string{h.binPath("dhtnet"), "-nodes", "50", "-stop", "10", "-out", netFile}, nil)
	if err != nil {
		fail(err, p12, p13)
		return
	}
	b, err := waitFile(h.ctx, netFile, dn, h.within(5*time.Minute))
	if err != nil {
		fail(err, p12, p13)
		return
	}
	var boot, stopped string
	var addrs []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "bootstrap":
			boot = v
		case "stopped":
			stopped = v
		case "addr":
			addrs = append(addrs, v)
		}
	}
	home := filepath.Join(h.work, "failfast")
	out, err := h.must(h.initHome(home))
	if err == nil && (boot == "" || stopped == "" || len(addrs) == 0) {
		err = fmt.Errorf("dhtnet wrote %q", b)
	}
	for _, a := range addrs {
		if err == nil {
			_, err = h.must(invocation{argv: []string{h.n2n, "--home", home, "peers", "add", stopped, a}})
		}
	}
	if err != nil {
		fail(err, p12, p13)
		return
	}
	unknownHome := filepath.Join(h.work, "nobody")
	if out, err = h.must(h.initHome(unknownHome)); err != nil {
		fail(err, p12)
		return
	}
	unknown := strings.TrimSpace(string(out))
	h.timeAll(timed{"P12 n2n send to an unknown agent", h.n2nUnreachable(home, boot, unknown), &p12.n2n},
		timed{"P13 n2n send to a stopped agent", h.n2nUnreachable(home, boot, stopped), &p13.n2n})
	p12.note = "50 n2n DHT servers in one process (bench/fixture/dhtnet: peers.NewServer on 127.0.0.1, TCP and QUIC, each record published), 10 of them then stopped: still in the others' routing tables, their ports refusing. `n2n --bootstrap B send AGENT hi` for an agent ID no daemon serves; exit 5 required, default --dial-timeout (10 s)."
	p13.note = "The same network; the agent is one of the stopped servers: its record is in the DHT, and the caller's address book holds its TCP and QUIC addresses. Exit 5 required."
}

// idleWindow is how long P14 watches the idle daemon.
const idleWindow = 60 * time.Second

// measureIdle: P14, an idle `n2n serve` alone (no peers, no traffic): its
// CPU time and its threads' context switches (wake-ups) over idleWindow,
// from /proc.
func (h *harness) measureIdle() {
	p14 := h.addRow("P14", fmt.Sprintf("idle daemon alone, %s: share of one CPU", idleWindow), "< 0.2 %")
	p14.check = func(r *row) (bool, string) { return r.absAtMost(0.2) }
	if !h.enough(idleWindow + 30*time.Second) {
		skip("time budget", p14)
		return
	}
	home := filepath.Join(h.work, "idle")
	if _, err := h.must(h.initHome(home)); err != nil {
		fail(err, p14)
		return
	}
	addrFile := filepath.Join(h.work, "idle.addr")
	bp, err := h.procs.start("idle-serve", h.work, h.idleServe(home, addrFile), nil)
	if err == nil {
		_, err = waitFile(h.ctx, addrFile, bp, 30*time.Second)
	}
	if err != nil {
		fail(err, p14)
		return
	}
	defer bp.stop(10 * time.Second)
	h.logf("P14: an idle daemon for %s", idleWindow)
	pid := bp.cmd.Process.Pid
	select { // let start-up settle
	case <-h.ctx.Done():
	case <-time.After(5 * time.Second):
	}
	cpu0, sw0, err0 := procCounters(pid)
	start := time.Now()
	select {
	case <-h.ctx.Done():
	case <-time.After(idleWindow):
	}
	cpu1, sw1, err1 := procCounters(pid)
	window := time.Since(start)
	if err := firstErr(err0, err1, h.ctx.Err()); err != nil {
		fail(err, p14)
		return
	}
	share := 100 * float64(cpu1-cpu0) / clockTicks / window.Seconds()
	wakeups := float64(sw1-sw0) / window.Seconds()
	p14.n2n = &value{v: share, unit: "%"}
	h.logf("P14: %.3f %% of a CPU, %.1f wake-ups/s", share, wakeups)
	p14.note = fmt.Sprintf("`n2n serve` on 127.0.0.1 (TCP and QUIC), no bootstrap peers, nothing sent to it; %s from 5 s after its address file appeared. CPU: utime+stime from /proc/PID/stat. Wake-ups: voluntary+involuntary context switches of all its threads (/proc/PID/task/*/status): %.1f /s.", window.Round(time.Second), wakeups)
	h.details = append(h.details, fmt.Sprintf("P14 idle daemon: %d clock ticks of CPU and %d context switches in %s", cpu1-cpu0, sw1-sw0, window.Round(time.Millisecond)))
}

// clockTicks is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCounters reads a process's CPU time (utime+stime, in clock ticks)
// and the context switches of its threads.
func procCounters(pid int) (cpu, switches int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		cpu += n
	}
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/task: %v", pid, err)
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				if err != nil {
					return 0, 0, err
				}
				switches += n
			}
		}
	}
	return cpu, switches, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
