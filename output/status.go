package output

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Status shows text as the last line of stderr when stderr is a terminal,
// in place of the text Status showed before; Status("") takes it away.
// Anything else written to stdout or stderr takes it away first, so the
// line never mixes with output. The line is drawn with carriage returns and
// spaces only (no escape sequences: a dumb terminal shows it right), and
// cut to the terminal's width so that it never wraps.
func (o *IO) Status(text string) {
	if !o.ErrTTY {
		return
	}
	width := o.Width
	if width <= 0 {
		width = 80
	}
	text = ansi.Truncate(text, width-1, "…")
	o.mu.Lock()
	defer o.mu.Unlock()
	if text == "" {
		o.clearStatus()
		return
	}
	w := ansi.StringWidth(text)
	fmt.Fprintf(o.Err, "\r%s%s", text, strings.Repeat(" ", max(o.status-w, 0)))
	if o.status > w {
		fmt.Fprintf(o.Err, "\r%s", text)
	}
	o.status = w
}

// clearStatus takes the status line away, if one is shown. The caller holds
// o.mu.
func (o *IO) clearStatus() {
	if o.status == 0 {
		return
	}
	fmt.Fprintf(o.Err, "\r%s\r", strings.Repeat(" ", o.status))
	o.status = 0
}

// Confirm says on a terminal's stderr that a change was made ("n2n:
// revoked grant …"); in a pipe and with --json it says nothing, as a
// change that succeeded needs no words there.
func (o *IO) Confirm(format string, a ...any) {
	if !o.ErrTTY || o.Mode == JSON {
		return
	}
	o.Info("n2n: "+format, a...)
}

// Empty says on stderr that a list printed nothing ("no claims"), when the
// list was for a terminal; in a pipe stdout stays empty and nothing is said.
func (o *IO) Empty(text string) {
	if o.Mode != Human {
		return
	}
	o.Info("%s", text)
}
