package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// benchEnv is what the in-process benchmarks need to find the repository
// and the cache.
func (h *harness) benchEnv() []string {
	return []string{"N2N_REPO=" + h.repo, "N2N_BENCH_OUT=" + h.out, "N2N_BENCH_CHAIN=" + strconv.Itoa(h.chainN)}
}

// inproc runs bench/inproc's benchmarks matching pattern.
func (h *harness) inproc(pattern, benchtime string, count int, timeout time.Duration) (map[string]benchResult, error) {
	timeout = h.within(timeout)
	res, out, err := goBench(h.ctx, h.work, h.benchEnv(), timeout, h.binPath("inproc.test"),
		"-test.run", "^$", "-test.bench", pattern, "-test.benchtime", benchtime, "-test.count", strconv.Itoa(count), "-test.timeout", timeout.String())
	h.keepBenchLines(out)
	return res, err
}

func (h *harness) keepBenchLines(out string) {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "inproc:") {
			h.details = append(h.details, "`"+strings.Join(strings.Fields(l), " ")+"`")
		}
	}
}

// get returns a benchmark's value in unit, or nil with the reason.
func get(res map[string]benchResult, err error, name, unit string) (float64, bool) {
	r, ok := res[name]
	if !ok {
		return 0, false
	}
	v, ok := r.Values[unit]
	return v, ok
}

func missing(err error, name string) *value {
	if err != nil {
		return errValue(err)
	}
	return errValue(fmt.Errorf("%s: no result", name))
}

// measureInProcess: P3, P4, P5, P7 and P9 from bench/inproc.
func (h *harness) measureInProcess() {
	p3 := h.addRow("P3", "warm round trip, 100 B, in-process over loopback", "≤ 1.5× raw libp2p stream")
	p4 := h.addRow("P4", "100 B messages, each acknowledged", "≥ 100 000 /s")
	p5 := h.addRow("P5", "1 MiB payload throughput", "≥ 0.7× raw libp2p stream")
	p7 := h.addRow("P7", "Noise IK handshake CPU, both sides", "≤ 0.4 ms")
	p9o := h.addRow("P9", "open a home: 1 000 000 actions vs genesis only (read-write)", "≤ 1.2×")
	p9v := h.addRow("P9", "`chain verify` rate, 1 000 000 actions", "≥ 40 000 actions/s")
	if h.chainN != 1_000_000 {
		p9o.metric = fmt.Sprintf("open a home: %d actions vs genesis only (read-write)", h.chainN)
		p9v.metric = fmt.Sprintf("`chain verify` rate, %d actions", h.chainN)
	}
	p3.check = func(r *row) (bool, string) { return r.ratioAtMost(1.5, 0) }
	p4.check = func(r *row) (bool, string) { return r.absAtLeast(100_000) }
	p5.check = func(r *row) (bool, string) { return r.ratioAtLeast(0.7) }
	p7.check = func(r *row) (bool, string) { return r.absAtMost(0.4) }
	p9o.check = func(r *row) (bool, string) { return r.ratioAtMost(1.2, 0) }
	p9v.check = func(r *row) (bool, string) { return r.absAtLeast(40_000) }

	if h.enough(time.Minute) {
		h.logf("P3, P4, P5: in-process round trips and throughput")
		res, err := h.inproc("^Benchmark(P3|P4|P5)", "1s", 3, 4*time.Minute)
		set := func(v **value, name, unit string, scale float64, u string) {
			if x, ok := get(res, err, name, unit); ok {
				*v = &value{v: x * scale, unit: u}
			} else {
				*v = missing(err, name)
			}
		}
		set(&p3.n2n, "BenchmarkP3RoundTrip/n2n", "ns/op", 1e-3, "µs")
		set(&p3.floor, "BenchmarkP3RoundTrip/raw", "ns/op", 1e-3, "µs")
		set(&p4.n2n, "BenchmarkP4Messages/n2n", "msgs/s", 1, "/s")
		set(&p4.floor, "BenchmarkP4Messages/raw", "msgs/s", 1, "/s")
		set(&p5.n2n, "BenchmarkP5Throughput/n2n", "MB/s", 1, "MB/s")
		set(&p5.floor, "BenchmarkP5Throughput/raw", "MB/s", 1, "MB/s")
		cat := "n/a"
		if x, ok := get(res, err, "BenchmarkP3RoundTrip/n2n-send-cat", "ns/op"); ok {
			cat = fmtDur(time.Duration(x))
		}
		ping := "n/a"
		if x, ok := get(res, err, "BenchmarkP4Messages/n2n-ping", "msgs/s"); ok {
			ping = fmt.Sprintf("%.0f /s", x)
		}
		p3.note = "Go benchmark, bench/inproc: n2n is rpc.Client.Do of a ping carrying 100 B to a daemon.Daemon on the session the client keeps with it (per request: a plain CBOR request in one Noise transport message, answered by the callee's session; no handler process); the same as a `send` to `receive=cat`: " + cat + ". Raw: a 100 B echo on one open go-libp2p stream (TCP, Noise, yamux)."
		p4.note = "What `send --lines` does, in process: rpc.Client.Go of a `send` carrying 100 B, one after the other on one session, up to 256 awaiting their receipt; the callee stores each in its inbox (messages arriving together share one synced Badger write) before the receipt. Pings instead of sends (nothing stored): " + ping + ". Whole process, one-shot `n2n send --lines CALLEE` (no daemon on the caller's side): " + h.p4Process + ". Raw: 100 B messages written back to back on one libp2p stream, each acknowledged by one byte."
		p5.note = "n2n: a ping carrying 1 MiB on the session the client keeps (empty answer); `call` with 1 MiB adds the handler. Raw: 1 MiB written on an open libp2p stream, acknowledged by one byte."
	} else {
		skip("time budget", p3, p4, p5)
	}

	if h.enough(30 * time.Second) {
		h.logf("P7: IK handshake CPU")
		res, err := h.inproc("^BenchmarkP7", "1s", 3, 2*time.Minute)
		for _, x := range []struct {
			v    **value
			name string
		}{{&p7.n2n, "BenchmarkP7Handshake/n2n"}, {&p7.floor, "BenchmarkP7Handshake/floor"}} {
			if ns, ok := get(res, err, x.name, "cpu-ns/op"); ok {
				*x.v = &value{v: ns / 1e6, unit: "ms"}
			} else {
				*x.v = missing(err, x.name)
			}
		}
		stock := "n/a"
		if ns, ok := get(res, err, "BenchmarkP7Handshake/stock", "cpu-ns/op"); ok {
			stock = fmt.Sprintf("%.3f ms", ns/1e6)
		}
		p7.note = "CPU time (user + system, all threads) per handshake. n2n: noiseproto.Initiate + Accept over net.Pipe with static keys made once (noiseproto.NewStatic), as the daemon does; X25519 by crypto/ecdh, each private key parsed once. Floor: flynn/noise's HandshakeState in memory with a crypto/ecdh DH, static keys parsed once; with flynn/noise's stock DH25519: " + stock + "."
	} else {
		skip("time budget", p7)
	}

	if h.enough(3 * time.Minute) {
		h.logf("P9: a chain of %d actions (built once, then cached in bench/out)", h.chainN)
		res, err := h.inproc("^BenchmarkP9Open$", "20x", 1, 10*time.Minute)
		med := func(name string) *value {
			if x, ok := get(res, err, name, "median-ns"); ok {
				return &value{v: x / 1e6, unit: "ms"}
			}
			return missing(err, name)
		}
		p9o.n2n, p9o.floor = med("BenchmarkP9Open/big/rw"), med("BenchmarkP9Open/empty/rw")
		ro := fmt.Sprintf("read-only: %s vs %s", med("BenchmarkP9Open/big/ro").text(), med("BenchmarkP9Open/empty/ro").text())
		p9o.note = "chain.Open, median of 20 (Close not timed). n2n column: the long chain; floor column: a home with genesis only. " + ro + ". The long chain is written with Badger batch writes in the chain's key layout and with the chain's own store options (chain.Append syncs each action: ~5 min for a million), compacted into one level as chain.Close does once level 0 fills, closed through chain.Close, and cached under bench/out; chain.Open and Verify accept it. Its Badger MANIFEST is small: open also replays that log, which grows by ~25 bytes per writing run until Badger rewrites it (after 10 000 deleted tables)."
		if h.enough(2 * time.Minute) {
			res, err := h.inproc("^BenchmarkP9Verify$", "1x", 1, 8*time.Minute)
			if x, ok := get(res, err, "BenchmarkP9Verify", "actions/s"); ok {
				p9v.n2n = &value{v: x, unit: "actions/s"}
			} else {
				p9v.n2n = missing(err, "BenchmarkP9Verify")
			}
			p9v.note = "chain.Verify in-process (hashes, links, indexes, entries, every signature on all cores), one run."
		} else {
			skip("time budget", p9v)
		}
		if big := filepath.Join(h.out, fmt.Sprintf("chain-%d", h.chainN)); exists(big) {
			var v *value
			h.timeInto(&v, "P9 (info) `n2n id` on the long chain", h.coldLocal(big, "id"))
			p9o.note += " Whole process, `n2n id` on the long chain: " + v.text() + "."
		}
	} else {
		skip("time budget", p9o, p9v)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// pkgBench runs benchmarks of an n2n package's test binary, in the
// package's directory.
func (h *harness) pkgBench(pkg, pattern, benchtime string, count int, timeout time.Duration) (map[string]benchResult, string, error) {
	if err := h.testBins[pkg]; err != nil {
		return nil, "", fmt.Errorf("%s tests do not build: %s", pkg, firstLine(err.Error()))
	}
	timeout = h.within(timeout)
	return goBench(h.ctx, filepath.Join(h.repo, pkg), nil, timeout, h.binPath(pkg+".test"),
		"-test.run", "^$", "-test.bench", pattern, "-test.benchtime", benchtime, "-test.count", strconv.Itoa(count), "-test.timeout", timeout.String())
}

// measureDHT: P6, n2n's peers.BenchmarkResolve50 against the floor's raw
// kad-dht lookup in the same shape of network.
func (h *harness) measureDHT() {
	p6 := h.addRow("P6", "cold resolve across 50 local DHT nodes", "≤ 2× raw kad-dht lookup")
	p6.check = func(r *row) (bool, string) { return r.ratioAtMost(2, 0) }
	if !h.enough(90 * time.Second) {
		skip("time budget", p6)
		return
	}
	h.logf("P6: cold resolve across 50 DHT nodes")
	const n = 20
	res, out, err := h.pkgBench("peers", "^BenchmarkResolve50$", fmt.Sprintf("%dx", n), 1, 5*time.Minute)
	h.keepBenchLines(out)
	if x, ok := get(res, err, "BenchmarkResolve50", "ns/op"); ok {
		p6.n2n = &value{v: x / 1e6, unit: "ms"}
	} else {
		p6.n2n = missing(err, "BenchmarkResolve50")
	}
	s, err := runFloorDHT(h, n)
	if err != nil {
		p6.floor = errValue(err)
	} else {
		p6.floor = &value{v: float64(s.MeanNs) / 1e6, unit: "ms"}
		h.details = append(h.details, fmt.Sprintf("P6 floor dhtlookup: mean %s, median %s, p90 %s over %d lookups",
			fmtDur(time.Duration(s.MeanNs)), fmtDur(time.Duration(s.MedianNs)), fmtDur(time.Duration(s.P90Ns)), s.Runs))
	}
	p6.note = fmt.Sprintf("Mean of %d, in-process, 50 DHT servers in one process on 127.0.0.1. n2n: peers.BenchmarkResolve50 (fresh client host, bootstrap, agent record and FindPeer, connect, close). Floor: bench/floor/dhtlookup (fresh plain libp2p host, client-mode kad-dht, bootstrap, FindPeer, connect, close).", n)
}

// dhtSummary is what bench/floor/dhtlookup prints.
type dhtSummary struct {
	Runs     int   `json:"runs"`
	MeanNs   int64 `json:"mean_ns"`
	MedianNs int64 `json:"median_ns"`
	P90Ns    int64 `json:"p90_ns"`
}

func runFloorDHT(h *harness, runs int) (dhtSummary, error) {
	var s dhtSummary
	ctx, cancel := context.WithTimeout(h.ctx, h.within(5*time.Minute))
	defer cancel()
	cmd := exec.CommandContext(ctx, h.binPath("dhtlookup"), "-nodes", "50", "-runs", strconv.Itoa(runs), "-warmup", "2")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return s, fmt.Errorf("dhtlookup: %v: %s", err, lastLines(stderr.String(), 2))
	}
	if err := json.Unmarshal(out, &s); err != nil {
		return s, fmt.Errorf("dhtlookup: %w", err)
	}
	return s, nil
}

// measureCaps: P8, the caps package's BenchmarkCheck once it exists.
func (h *harness) measureCaps() {
	p8 := h.addRow("P8", "capability check: 100 000 grants vs 1", "≤ 1.2×")
	p8.check = func(r *row) (bool, string) { return r.ratioAtMost(1.2, 0) }
	files, _ := filepath.Glob(filepath.Join(h.repo, "caps", "*_test.go"))
	found := false
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "func BenchmarkCheck") {
			found = true
		}
	}
	if !found {
		p8.n2n = naValue("caps has no BenchmarkCheck")
		return
	}
	if !h.enough(time.Minute) {
		skip("time budget", p8)
		return
	}
	h.logf("P8: capability check")
	res, out, err := h.pkgBench("caps", "^BenchmarkCheck", "1s", 5, 3*time.Minute)
	h.keepBenchLines(out)
	if err != nil {
		p8.n2n = errValue(err)
		return
	}
	// The sub-benchmark with the most grants against the one with the
	// fewest, by the largest number in each name.
	type sized struct {
		size int
		ns   float64
		name string
	}
	var all []sized
	num := regexp.MustCompile(`\d+`)
	for name, r := range res {
		size := -1
		for _, m := range num.FindAllString(strings.TrimPrefix(name, "BenchmarkCheck"), -1) {
			if n, err := strconv.Atoi(m); err == nil && n > size {
				size = n
			}
		}
		if size >= 0 {
			all = append(all, sized{size, r.Values["ns/op"], name})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].size < all[j].size })
	if len(all) < 2 {
		p8.n2n = naValue("BenchmarkCheck has no sub-benchmarks sized by grant count")
		return
	}
	lo, hi := all[0], all[len(all)-1]
	p8.n2n = &value{v: hi.ns / 1e3, unit: "µs"}
	p8.floor = &value{v: lo.ns / 1e3, unit: "µs"}
	p8.note = fmt.Sprintf("caps.BenchmarkCheck, median of 5 runs of 1 s: n2n column %s, floor column %s.", hi.name, lo.name)
}
