package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// value is one cell: a figure in its unit, or why there is none.
type value struct {
	v    float64
	unit string  // ms, µs, /s, MB/s, actions/s
	p90  float64 // same unit; 0: none
	na   string  // not measurable yet: why
	err  string  // measuring failed: how
}

func (v *value) ok() bool { return v != nil && v.na == "" && v.err == "" }

func naValue(why string) *value     { return &value{na: why} }
func errValue(err error) *value     { return &value{err: err.Error()} }
func msValue(s stats) *value        { return &value{v: ms(s.Median), p90: ms(s.P90), unit: "ms"} }
func ms(d time.Duration) float64    { return float64(d) / 1e6 }
func fmtDur(d time.Duration) string { return fmtNum(ms(d)) + " ms" }

// text is the cell's content.
func (v *value) text() string {
	switch {
	case v == nil:
		return "–"
	case v.na != "":
		return "n/a"
	case v.err != "":
		return "error"
	}
	s := fmtNum(v.v)
	if v.p90 > 0 {
		s += " (p90 " + fmtNum(v.p90) + ")"
	}
	if v.unit == "/s" {
		return s + " /s"
	}
	return s + " " + v.unit
}

// fmtNum prints about three significant digits, grouping thousands.
func fmtNum(x float64) string {
	switch a := math.Abs(x); {
	case a >= 10000:
		return group(int64(math.Round(x)))
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	default:
		return strconv.FormatFloat(x, 'f', 3, 64)
	}
}

func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// row is one metric of the table.
type row struct {
	id, metric, goal   string
	n2n, floor, anchor *value
	note               string
	// check judges the row; nil: informational.
	check func(*row) (bool, string)
}

func (h *harness) addRow(id, metric, goal string) *row {
	r := &row{id: id, metric: metric, goal: goal}
	h.rows = append(h.rows, r)
	return r
}

func skip(why string, rows ...*row) {
	for _, r := range rows {
		r.n2n = naValue("skipped: " + why)
	}
}

func fail(err error, rows ...*row) {
	for _, r := range rows {
		r.n2n = errValue(err)
	}
}

func ratio(a, b *value) (float64, bool) {
	if !a.ok() || !b.ok() || b.v == 0 {
		return 0, false
	}
	return a.v / b.v, true
}

func fmtRatio(x float64) string {
	if x < 0.1 {
		return strconv.FormatFloat(x, 'g', 2, 64) + "×"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "×"
}

// errMissing marks a goal that could not be judged for lack of a figure.
const errMissing = "n/a"

// ratioAtMost: n2n ≤ maxFloor × floor and (if maxAnchor > 0) ≤ maxAnchor × anchor.
func (r *row) ratioAtMost(maxFloor, maxAnchor float64) (bool, string) {
	var parts []string
	ok, missing := true, false
	judge := func(of *value, limit float64, name string) {
		x, have := ratio(r.n2n, of)
		if !have {
			missing = true
			parts = append(parts, "no "+name+" figure")
			return
		}
		if x > limit {
			ok = false
			parts = append(parts, fmt.Sprintf("%s %s > %s", fmtRatio(x), name, fmtRatio(limit)))
		}
	}
	judge(r.floor, maxFloor, "floor")
	if maxAnchor > 0 {
		judge(r.anchor, maxAnchor, "ssh")
	}
	if ok && missing {
		return false, errMissing + ": " + strings.Join(parts, "; ")
	}
	return ok, strings.Join(parts, "; ")
}

func (r *row) ratioAtLeast(minFloor float64) (bool, string) {
	x, have := ratio(r.n2n, r.floor)
	if !have {
		return false, errMissing + ": no floor figure"
	}
	if x < minFloor {
		return false, fmt.Sprintf("%s floor < %s", fmtRatio(x), fmtRatio(minFloor))
	}
	return true, ""
}

func (r *row) absAtMost(limit float64) (bool, string) {
	if r.n2n.v > limit {
		return false, fmt.Sprintf("%s %s > %s, %s over", fmtNum(r.n2n.v), r.n2n.unit, fmtNum(limit), fmtRatio(r.n2n.v/limit))
	}
	return true, ""
}

func (r *row) absAtLeast(limit float64) (bool, string) {
	if r.n2n.v < limit {
		return false, fmt.Sprintf("%s < %s, %s of the goal", fmtNum(r.n2n.v), fmtNum(limit), fmtRatio(r.n2n.v/limit))
	}
	return true, ""
}

// verdict is the row's result cell.
func (r *row) verdict() (status, why string) {
	switch {
	case r.check == nil:
		return "info", ""
	case r.n2n == nil:
		return "n/a", "not measured"
	case r.n2n.na != "":
		return "n/a", r.n2n.na
	case r.n2n.err != "":
		return "fail", "error: " + r.n2n.err
	}
	ok, why := r.check(r)
	switch {
	case ok:
		return "pass", why
	case strings.HasPrefix(why, errMissing):
		return "n/a", strings.TrimPrefix(strings.TrimPrefix(why, errMissing), ": ")
	}
	return "fail", why
}

func (h *harness) render() string {
	var b strings.Builder
	b.WriteString("| id | metric | n2n | floor | ratio | anchor (ssh) | ratio | goal | result |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range h.rows {
		rf, ra := "", ""
		if x, ok := ratio(r.n2n, r.floor); ok {
			rf = fmtRatio(x)
		}
		if x, ok := ratio(r.n2n, r.anchor); ok {
			ra = fmtRatio(x)
		}
		status, why := r.verdict()
		res := status
		switch {
		case status == "fail":
			res = "**fail**: " + why
		case why != "":
			res += ": " + why
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.id, r.metric, r.n2n.text(), r.floor.text(), rf, r.anchor.text(), ra, r.goal, res)
	}
	return b.String()
}

func (h *harness) markdown(table string) string {
	m := h.machine
	var b strings.Builder
	b.WriteString("# n2n benchmark results\n\n")
	b.WriteString("Written by `make bench` (bench/run); the closing note is bench/closing-note.md. n2n, its floor (the same libraries without n2n's layers, bench/floor) and the ssh anchor (bench/ssh/anchor.sh) are measured side by side in the same run.\n\n")
	b.WriteString("## Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d cores; memory %s\n", m.cpu, m.cores, m.mem)
	fmt.Fprintf(&b, "- %s; %s; static binaries (CGO_ENABLED=0, -trimpath, -s -w)\n", m.kernel, m.goVersion)
	fmt.Fprintf(&b, "- %s; the run took %s\n", m.date, m.took)
	fmt.Fprintf(&b, "- load average at start %s, at end %s (the machine may be shared: other work running at the same time slows every column alike, but not always evenly)\n", m.loadStart, m.loadEnd)
	fmt.Fprintf(&b, "- whole-process figures: median (p90) of %d runs after %d warm-up runs, wall time from fork to exit; in-process figures: Go benchmarks (bench/inproc, peers, caps), the median of 3 runs (P3, P4, P5, P7) or 5 (P8)\n\n", h.runs, h.warmup)
	b.WriteString("## Results\n\n")
	b.WriteString(table)
	b.WriteString("\n## Notes\n\n")
	for _, r := range h.rows {
		var extra []string
		for _, v := range []struct {
			name string
			v    *value
		}{{"n2n", r.n2n}, {"floor", r.floor}, {"anchor", r.anchor}} {
			if v.v != nil && v.v.na != "" && !strings.HasPrefix(v.v.na, "skipped") {
				extra = append(extra, v.name+" n/a: "+v.v.na)
			}
			if v.v != nil && v.v.err != "" {
				extra = append(extra, v.name+" error: "+v.v.err)
			}
		}
		text := strings.TrimSpace(strings.Join(append([]string{r.note}, extra...), " "))
		if text != "" {
			fmt.Fprintf(&b, "- **%s** %s: %s\n", r.id, r.metric, text)
		}
	}
	b.WriteString("\n## Shortfalls\n\n")
	n := 0
	for _, r := range h.rows {
		if status, why := r.verdict(); status == "fail" {
			fmt.Fprintf(&b, "- **%s** %s: %s (goal %s)\n", r.id, r.metric, why, r.goal)
			n++
		}
	}
	if n == 0 {
		b.WriteString("None.\n")
	}
	if note, err := os.ReadFile(filepath.Join(h.bench, "closing-note.md")); err == nil {
		b.WriteString("\n## Closing note\n\n")
		b.Write(note)
	}
	b.WriteString("\n## Raw figures\n\n")
	for _, d := range h.details {
		fmt.Fprintf(&b, "- %s\n", d)
	}
	// Paths in the figures are the repository's, not this machine's.
	return strings.ReplaceAll(b.String(), h.bench+"/", "bench/")
}

type machineInfo struct {
	cpu, mem, kernel, goVersion, date string
	cores                             int
	loadStart, loadEnd                string
	took                              time.Duration
}

func describeMachine() machineInfo {
	m := machineInfo{cpu: "unknown", mem: "unknown", cores: runtime.NumCPU(), date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), loadStart: loadAvg()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
					m.mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		m.goVersion = strings.TrimSpace(string(out))
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
