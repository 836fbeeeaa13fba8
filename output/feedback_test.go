package output

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// terminal makes an IO whose stdout and stderr stand for terminals of the
// given width, writing to one buffer as a terminal shows both.
func terminal(t *testing.T, width int, env map[string]string) (*IO, *bytes.Buffer) {
	t.Helper()
	var screen bytes.Buffer
	o, err := NewTTY(strings.NewReader(""), &screen, &screen,
		Terminal{Stdout: true, Stderr: true, Width: width, Getenv: func(k string) string { return env[k] }}, false, "auto")
	if err != nil {
		t.Fatal(err)
	}
	return o, &screen
}

func TestRelative(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"},
		{-20 * time.Second, "just now"},
		{-40 * time.Second, "1 minute ago"},
		{-59*time.Minute - 50*time.Second, "1 hour ago"},
		{-5 * time.Minute, "5 minutes ago"},
		{-time.Hour, "1 hour ago"},
		{-3 * 24 * time.Hour, "3 days ago"},
		{30*24*time.Hour - time.Second, "in 30 days"},
		{2 * time.Hour, "in 2 hours"},
		{80 * time.Second, "in 1 minute"},
		{-100 * 24 * time.Hour, "2025-09-24"},
		{100 * 24 * time.Hour, "2026-04-12"},
	} {
		if got := Relative(now.Add(c.d), now); got != c.want {
			t.Errorf("Relative(now%+v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// TestTableFitsTheTerminal: a table wider than the terminal has its widest
// columns cut with "…", narrow ones whole; one that fits is left alone; in
// a pipe nothing is cut.
func TestTableFitsTheTerminal(t *testing.T) {
	id := "uhCAk" + strings.Repeat("x", 48)
	addrs := strings.Repeat("/ip4/127.0.0.1/tcp/4001,", 4)
	rows := [][]string{{id, addrs, "just now", "in 30 days"}}
	header := []string{"AGENT", "ADDRESSES", "LAST OK", "EXPIRES"}
	for _, width := range []int{60, 80, 120} {
		o, screen := terminal(t, width, map[string]string{"NO_COLOR": "1"})
		o.Table(header, rows, nil)
		for _, line := range strings.Split(strings.TrimSuffix(screen.String(), "\n"), "\n") {
			if w := len([]rune(line)); w > width {
				t.Errorf("width %d: a line of %d: %q", width, w, line)
			}
		}
		if !strings.Contains(screen.String(), "in 30 days") || !strings.Contains(screen.String(), "just now") {
			t.Errorf("width %d: a narrow column was cut:\n%s", width, screen)
		}
		if !strings.Contains(screen.String(), "uhCAkxxxxxxxx") || !strings.Contains(screen.String(), "…") {
			t.Errorf("width %d: the wide columns are not cut to a prefix:\n%s", width, screen)
		}
	}
	o, screen := terminal(t, 300, map[string]string{"NO_COLOR": "1"})
	o.Table(header, rows, nil)
	if !strings.Contains(screen.String(), id) || strings.Contains(screen.String(), "…") {
		t.Errorf("a table that fits was cut:\n%s", screen)
	}
	p, out, _ := newTest(t, false, "never")
	p.Width = 40
	p.Table(header, rows, nil)
	if !strings.Contains(out.String(), id+"\t"+addrs) {
		t.Errorf("a pipe got a cut row: %q", out.String())
	}
}

// TestStatusLine: the status line is drawn with carriage returns and
// spaces, replaced in place, taken away before any other output and at
// Status(""); nothing of it reaches a pipe.
func TestStatusLine(t *testing.T) {
	o, screen := terminal(t, 80, map[string]string{"TERM": "dumb"})
	o.Status("n2n: dialling uhCAkabc… (1s)")
	o.Status("n2n: waiting (2s)")
	o.Info("n2n: a diagnostic")
	o.Status("n2n: again (3s)")
	o.Status("")
	want := "\rn2n: dialling uhCAkabc… (1s)" +
		"\rn2n: waiting (2s)" + strings.Repeat(" ", 11) + "\rn2n: waiting (2s)" +
		"\r" + strings.Repeat(" ", 17) + "\r" + "n2n: a diagnostic\n" +
		"\rn2n: again (3s)" + "\r" + strings.Repeat(" ", 15) + "\r"
	if screen.String() != want {
		t.Errorf("status line:\n got %q\nwant %q", screen.String(), want)
	}
	if strings.Contains(screen.String(), "\x1b") {
		t.Error("an escape sequence on a dumb terminal")
	}

	narrow, screen := terminal(t, 20, nil)
	narrow.Status(strings.Repeat("y", 50))
	if n := len([]rune(strings.TrimPrefix(screen.String(), "\r"))); n >= 20 {
		t.Errorf("a status line of %d on a terminal of 20: it would wrap", n)
	}

	p, out, errb := newTest(t, false, "never")
	p.Status("n2n: waiting")
	p.Confirm("revoked grant x")
	p.Empty("no claims")
	p.Status("")
	if out.Len()+errb.Len() != 0 {
		t.Errorf("a pipe got %q %q", out.String(), errb.String())
	}
}

// TestConfirmAndEmpty: a confirmation and the words for an empty list go to
// a terminal's stderr; with --json, and in a pipe, nothing is said.
func TestConfirmAndEmpty(t *testing.T) {
	o, screen := terminal(t, 80, nil)
	o.Confirm("revoked grant %s", "uhCkkabc")
	o.Empty("no claims")
	if screen.String() != "n2n: revoked grant uhCkkabc\nno claims\n" {
		t.Errorf("terminal: %q", screen.String())
	}
	var out, errb bytes.Buffer
	j, err := NewTTY(nil, &out, &errb, Terminal{Stdout: true, Stderr: true}, true, "auto")
	if err != nil {
		t.Fatal(err)
	}
	j.Confirm("revoked")
	j.Empty("no claims")
	if out.Len()+errb.Len() != 0 {
		t.Errorf("--json got %q %q", out.String(), errb.String())
	}
}

// TestColorFollowsTheGivenEnvironment: NO_COLOR and TERM=dumb are read from
// the environment the Terminal gives (a forwarded command's client's), not
// the process's.
func TestColorFollowsTheGivenEnvironment(t *testing.T) {
	for env, want := range map[string]bool{"": true, "NO_COLOR": false, "TERM": false} {
		vars := map[string]string{"TERM": "xterm"}
		switch env {
		case "NO_COLOR":
			vars["NO_COLOR"] = "1"
		case "TERM":
			vars["TERM"] = "dumb"
		}
		o, _ := terminal(t, 80, vars)
		if o.Color != want {
			t.Errorf("%s set: colour %v, want %v", env, o.Color, want)
		}
	}
}
