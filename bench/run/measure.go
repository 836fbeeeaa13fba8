package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// invocation is one whole-process command to time.
type invocation struct {
	argv     []string
	stdin    []byte
	env      []string
	want     []byte // expected stdout; nil: any
	wantExit int    // expected exit status (a failure the metric times); 0: success
}

func (c invocation) String() string { return strings.Join(c.argv, " ") }

// runTimeout bounds one timed process.
const runTimeout = 30 * time.Second

// runOnce runs the command and returns its wall time, from before fork to
// after exit, and its stdout. A non-zero exit or an unexpected stdout is an
// error.
func runOnce(ctx context.Context, c invocation) (time.Duration, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if c.stdin != nil {
		cmd.Stdin = bytes.NewReader(c.stdin)
	}
	if c.env != nil {
		cmd.Env = append(os.Environ(), c.env...)
	}
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var exit *exec.ExitError
	switch {
	case c.wantExit != 0 && err == nil:
		return d, out.Bytes(), fmt.Errorf("%s: succeeded, want exit status %d", shortCmd(c.argv), c.wantExit)
	case c.wantExit != 0 && errors.As(err, &exit) && exit.ExitCode() == c.wantExit:
		err = nil
	}
	if err != nil {
		return d, out.Bytes(), fmt.Errorf("%s: %v: %s", shortCmd(c.argv), err, firstLine(errb.String()))
	}
	if c.want != nil && !bytes.Equal(out.Bytes(), c.want) {
		return d, out.Bytes(), fmt.Errorf("%s: stdout %q, want %q", shortCmd(c.argv), clip(out.String()), clip(string(c.want)))
	}
	return d, out.Bytes(), nil
}

func shortCmd(argv []string) string {
	s := strings.Join(argv, " ")
	if i := strings.LastIndex(argv[0], "/"); i >= 0 {
		s = strings.Join(append([]string{argv[0][i+1:]}, argv[1:]...), " ")
	}
	return clip(s)
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return clip(s)
}

// stats are the timings of repeated runs.
type stats struct {
	Runs        int
	Median, P90 time.Duration
	Min, Max    time.Duration
}

func summarise(ts []time.Duration) stats {
	if len(ts) == 0 {
		return stats{}
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	rank := (9*n + 9) / 10 // nearest rank, ceil(0.9 n)
	return stats{Runs: n, Median: med, P90: s[min(n, max(rank, 1))-1], Min: s[0], Max: s[n-1]}
}

// timeRuns runs c warmup times untimed, then runs times timed. Every run
// must succeed.
func timeRuns(ctx context.Context, c invocation, runs, warmup int) (stats, error) {
	var ts []time.Duration
	for i := range warmup + runs {
		if err := ctx.Err(); err != nil {
			return stats{}, err
		}
		d, _, err := runOnce(ctx, c)
		if err != nil {
			return stats{}, fmt.Errorf("run %d: %w", i+1, err)
		}
		if i >= warmup {
			ts = append(ts, d)
		}
	}
	return summarise(ts), nil
}

// timeGroup times several commands side by side: warmup untimed rounds,
// then runs rounds, each round running every command once in turn, so that
// a change of load on the machine falls on all of them alike. Every run
// must succeed; the error of a command leaves the others measured.
func timeGroup(ctx context.Context, cs []invocation, runs, warmup int) ([]stats, []error) {
	ts := make([][]time.Duration, len(cs))
	errs := make([]error, len(cs))
	for i := range warmup + runs {
		for j, c := range cs {
			if errs[j] != nil {
				continue
			}
			if err := ctx.Err(); err != nil {
				errs[j] = err
				continue
			}
			d, _, err := runOnce(ctx, c)
			if err != nil {
				errs[j] = fmt.Errorf("run %d: %w", i+1, err)
				continue
			}
			if i >= warmup {
				ts[j] = append(ts[j], d)
			}
		}
	}
	out := make([]stats, len(cs))
	for j := range cs {
		out[j] = summarise(ts[j])
	}
	return out, errs
}

// benchResult is one line of `go test -bench` output: iterations and the
// value of each unit (ns/op, MB/s, custom metrics).
type benchResult struct {
	Name   string
	N      int
	Values map[string]float64
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$`)

func parseBench(out string) map[string]benchResult {
	runs := map[string][]benchResult{}
	var order []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		r := benchResult{Name: m[1], N: n, Values: map[string]float64{}}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				r.Values[f[i+1]] = v
			}
		}
		if _, ok := runs[r.Name]; !ok {
			order = append(order, r.Name)
		}
		runs[r.Name] = append(runs[r.Name], r)
	}
	res := map[string]benchResult{}
	for _, name := range order {
		res[name] = medianRun(runs[name])
	}
	return res
}

// medianRun folds the runs of one benchmark (-test.count) into one: the
// median of each metric, so one run slowed by the machine does not decide.
func medianRun(rs []benchResult) benchResult {
	out := benchResult{Name: rs[0].Name, N: rs[0].N, Values: map[string]float64{}}
	for unit := range rs[0].Values {
		var vs []float64
		for _, r := range rs {
			if v, ok := r.Values[unit]; ok {
				vs = append(vs, v)
			}
		}
		sort.Float64s(vs)
		out.Values[unit] = vs[len(vs)/2]
	}
	return out
}

// goBench runs a benchmark binary or `go test` and parses its output.
func goBench(ctx context.Context, dir string, env []string, timeout time.Duration, argv ...string) (map[string]benchResult, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	res := parseBench(string(out))
	if err != nil {
		msg := lastLines(string(out), 4)
		if ctx.Err() != nil {
			msg = "timed out after " + timeout.String() + ": " + msg
		}
		return res, string(out), fmt.Errorf("%s: %v: %s", shortCmd(argv), err, msg)
	}
	if len(res) == 0 {
		return res, string(out), errors.New(shortCmd(argv) + ": no benchmark results")
	}
	return res, string(out), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return clip(strings.Join(lines, " / "))
}
