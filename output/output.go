package output

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/muesli/termenv"
	"golang.org/x/term"
)

// Mode is how stdout is rendered.
type Mode int

// The three renderings of every command's output.
const (
	Human Mode = iota // a terminal: styled
	Plain             // a pipe: tab-separated, fixed column order, RFC 3339 times
	JSON              // --json: one object per line
)

// IO carries the standard streams and how to render on them.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	Mode     Mode
	// Color: stdout is styled. ErrTTY: stderr is a terminal, which gets
	// feedback meant for a person (Status, Confirm, Empty). Width: the
	// columns of the terminal that tables and the status line fit (0: not
	// known).
	Color  bool
	ErrTTY bool
	Width  int

	mu     sync.Mutex
	style  *lipgloss.Renderer
	status int // the width of the status line shown on Err, 0 for none
}

// Terminal says which of a command's streams are terminals, how wide
// stdout's is, and what the environment asks of them. A command forwarded to
// the daemon carries its client's.
type Terminal struct {
	Stdout, Stderr bool
	Width          int // of stdout's terminal, or else stderr's (0: none)
	// Getenv reads NO_COLOR and TERM (nil: the process's own environment).
	Getenv func(string) string
}

// TerminalOf describes the streams of this process.
func TerminalOf(stdout, stderr any) Terminal {
	t := Terminal{Stdout: IsTerminal(stdout), Stderr: IsTerminal(stderr)}
	for _, s := range []any{stdout, stderr} {
		if f, ok := s.(*os.File); ok && t.Width <= 0 && IsTerminal(f) {
			t.Width, _, _ = term.GetSize(int(f.Fd()))
		}
	}
	return t
}

// New decides the rendering from the streams, --json and --color
// (auto|always|never); NO_COLOR turns colour off unless --color=always.
func New(in io.Reader, out, errw io.Writer, jsonMode bool, color string) (*IO, error) {
	return NewTTY(in, out, errw, TerminalOf(out, errw), jsonMode, color)
}

// NewTTY is New for streams that stand for a terminal elsewhere (a command
// forwarded to the daemon): tty describes them.
func NewTTY(in io.Reader, out, errw io.Writer, tty Terminal, jsonMode bool, color string) (*IO, error) {
	o := &IO{In: in, Out: out, Err: errw, ErrTTY: tty.Stderr, Width: tty.Width}
	switch {
	case jsonMode:
		o.Mode = JSON
	case tty.Stdout:
		o.Mode = Human
	default:
		o.Mode = Plain
	}
	getenv := tty.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	switch color {
	case "", "auto":
		o.Color = tty.Stdout && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
	case "always":
		o.Color = true
	case "never":
		o.Color = false
	default:
		return nil, fmt.Errorf("--color must be auto, always or never, not %q", color)
	}
	o.style = lipgloss.NewRenderer(out)
	if o.Color {
		o.style.SetColorProfile(termenv.ANSI256)
	} else {
		o.style.SetColorProfile(termenv.Ascii)
	}
	return o, nil
}

// IsTerminal reports whether the stream s (a reader or writer) is a terminal.
func IsTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Println writes one line of data to stdout.
func (o *IO) Println(a ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearStatus()
	fmt.Fprintln(o.Out, a...)
}

// Row writes one line of fields separated by tabs, each escaped (Escape):
// a record of a stream (inbox, serve's events) in a pipe or on a terminal.
func (o *IO) Row(fields ...string) {
	line := strings.Join(EscapeFields(fields), "\t")
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintln(o.Out, line)
}

// Payload writes bytes another agent sent (a reply, an entry) to stdout:
// as they are in a pipe or a file, and on a terminal with the characters
// that could act on it escaped (lines, tabs and backslashes kept).
func (o *IO) Payload(p []byte) error {
	if o.Mode == Human {
		p = []byte(escape(string(p), keepLayout))
	}
	_, err := o.Write(p)
	return err
}

// Write writes raw bytes to stdout.
func (o *IO) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearStatus()
	return o.Out.Write(p)
}

// Buffer gathers what is written to Out from now on, so that a command
// printing many short lines makes one write per batch: flush writes out what
// is gathered, end flushes and stops gathering.
func (o *IO) Buffer() (flush, end func() error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.Out
	b := bufio.NewWriter(out)
	o.Out = b
	flush = func() error {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.clearStatus()
		return b.Flush()
	}
	end = func() error {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.clearStatus()
		o.Out = out
		return b.Flush()
	}
	return flush, end
}

// JSONLine writes v as one line of JSON to stdout.
func (o *IO) JSONLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearStatus()
	_, err = fmt.Fprintf(o.Out, "%s\n", b)
	return err
}

// Record prints one item: its JSON object in JSON mode, else its fields
// tab-separated (Plain) or as "label  value" lines (Human), each value
// escaped (Escape).
func (o *IO) Record(obj any, labels []string, values []string) error {
	if o.Mode != JSON {
		values = EscapeFields(values)
	}
	switch o.Mode {
	case JSON:
		return o.JSONLine(obj)
	case Plain:
		o.Println(strings.Join(values, "\t"))
	default:
		key := o.style.NewStyle().Bold(true)
		var b strings.Builder
		w := 0
		for _, l := range labels {
			w = max(w, len(l))
		}
		for i, l := range labels {
			fmt.Fprintf(&b, "%s  %s\n", key.Render(fmt.Sprintf("%-*s", w, l)), values[i])
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		o.clearStatus()
		io.WriteString(o.Out, b.String())
	}
	return nil
}

// Table prints a list: a styled table on a terminal, tab-separated rows in a
// pipe (no header), one JSON object per row with --json. Cells are escaped
// (Escape), so that a row is always one line and nothing in a cell acts on
// the terminal.
func (o *IO) Table(header []string, rows [][]string, objs []any) error {
	if o.Mode != JSON {
		escaped := make([][]string, len(rows))
		for i, r := range rows {
			escaped[i] = EscapeFields(r)
		}
		rows = escaped
	}
	switch o.Mode {
	case JSON:
		for _, v := range objs {
			if err := o.JSONLine(v); err != nil {
				return err
			}
		}
	case Plain:
		o.mu.Lock()
		defer o.mu.Unlock()
		o.clearStatus()
		for _, r := range rows {
			fmt.Fprintln(o.Out, strings.Join(r, "\t"))
		}
	default:
		if len(rows) == 0 {
			return nil
		}
		header, rows = fit(header, rows, o.Width, cellPadding)
		head := o.style.NewStyle().Bold(true).Foreground(lipgloss.Color("6"))
		cell := o.style.NewStyle().PaddingRight(cellPadding)
		t := table.New().Headers(header...).Rows(rows...).
			Border(lipgloss.HiddenBorder()).BorderTop(false).BorderBottom(false).
			BorderLeft(false).BorderRight(false).BorderColumn(false).BorderHeader(false).
			StyleFunc(func(row, col int) lipgloss.Style {
				if row == table.HeaderRow {
					return head.PaddingRight(cellPadding)
				}
				return cell
			})
		o.mu.Lock()
		defer o.mu.Unlock()
		o.clearStatus()
		fmt.Fprintln(o.Out, t.Render())
	}
	return nil
}

// cellPadding is the space after each column of a terminal table.
const cellPadding = 2

// TimeFormat is the one form of times in JSON and tab-separated output:
// RFC 3339 in UTC with microseconds (2026-12-02T06:41:07.123456Z), the
// precision of the times n2n records. It sorts as text.
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// TimeText is t in TimeFormat.
func TimeText(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Time renders a time for the current mode: relative on a terminal,
// TimeFormat otherwise.
func (o *IO) Time(t time.Time, now time.Time) string {
	if o.Mode != Human {
		return TimeText(t)
	}
	return Relative(t, now)
}

// Relative is how far t is from now in words, to the nearest unit: "just
// now", "5 minutes ago", "3 days ago", "in 30 days"; a date beyond 60 days
// either way.
func Relative(t, now time.Time) string {
	d, suffix, prefix := now.Sub(t), " ago", ""
	if d < 0 {
		d, suffix, prefix = -d, "", "in "
	}
	if d < 30*time.Second {
		return "just now"
	}
	for _, u := range []struct {
		size  time.Duration
		name  string
		below int
	}{{time.Minute, "minute", 60}, {time.Hour, "hour", 24}, {24 * time.Hour, "day", 60}} {
		if n := int((d + u.size/2) / u.size); n < u.below {
			return prefix + plural(n, u.name) + suffix
		}
	}
	return t.Format("2006-01-02")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Bytes is how JSON carries a payload: text when it is valid UTF-8, else
// base64 with an "encoding" field next to it.
func Bytes(b []byte) (text string, encoding string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

// Error prints a diagnostic: "n2n: error: …" and an optional hint, or with
// --json one {"type":"error","code":N,"message":"…"} object. msg is kept to
// one line. A non-empty detail (the whole error, for --debug) follows as
// "n2n: debug: …" lines, or as the object's "detail". Outside JSON, control
// characters in them are escaped as Escape does (backslashes are kept:
// text another agent sent is escaped already), so that nothing in an error
// acts on the terminal.
func (o *IO) Error(code int, msg, hint, detail string) {
	msg = oneLineText(msg)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearStatus()
	if o.Mode == JSON {
		v := map[string]any{"type": "error", "code": code, "message": msg}
		if hint != "" {
			v["hint"] = hint
		}
		if detail != "" {
			v["detail"] = detail
		}
		b, _ := json.Marshal(v)
		fmt.Fprintf(o.Err, "%s\n", b)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "n2n: error: %s\n", escape(msg, keepBackslash))
	if hint != "" {
		fmt.Fprintf(&b, "n2n: hint: %s\n", escape(hint, keepBackslash))
	}
	if detail != "" {
		for _, line := range strings.Split(strings.TrimRight(detail, "\n"), "\n") {
			fmt.Fprintf(&b, "n2n: debug: %s\n", escape(line, keepBackslash))
		}
	}
	io.WriteString(o.Err, b.String())
}

// oneLineText joins the lines of s with "; ".
func oneLineText(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	var parts []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// Warn prints "n2n: warning: …" on stderr.
func (o *IO) Warn(format string, a ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearStatus()
	fmt.Fprintf(o.Err, "n2n: warning: "+format+"\n", a...)
}

// Info prints a progress or status line on stderr.
func (o *IO) Info(format string, a ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clearStatus()
	fmt.Fprintf(o.Err, format+"\n", a...)
}

// Bold styles s for a terminal (and leaves it as is elsewhere).
func (o *IO) Bold(s string) string { return o.style.NewStyle().Bold(true).Render(s) }

// Faint styles s dimly for a terminal.
func (o *IO) Faint(s string) string { return o.style.NewStyle().Faint(true).Render(s) }
