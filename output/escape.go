package output

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Escape is how text that another agent controls (messages, tags, function
// names, handler error text, memos, petnames) is shown on a terminal and in
// a tab-separated row: nothing in it can act on the terminal (an escape
// sequence, a carriage return that overwrites the line, a bidi override),
// and a field stays one field of one line. Printable text, spaces included,
// is kept as is; a backslash becomes \\, a tab \t, a newline \n, a carriage
// return \r, any other character that is not printable \xNN (ASCII and
// bytes that are not UTF-8) or \uNNNN, as in a Go string literal, so the
// text can be read back exactly. JSON output carries the text unescaped.
func Escape(s string) string { return escape(s, "") }

// What escape keeps as it is, besides printable text.
const (
	keepLayout    = "\n\t\\" // a payload on a terminal keeps its lines and columns
	keepBackslash = "\\"     // a diagnostic line: its remote parts are escaped already
)

// escape is Escape, except that the characters in keep are kept as they are.
func escape(s string, keep string) string {
	if plainText(s, keep) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < utf8.RuneSelf && strings.IndexByte(keep, byte(r)) >= 0:
			b.WriteByte(byte(r))
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case strconv.IsPrint(r):
			b.WriteString(s[i : i+n])
		case r < utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += n
	}
	return b.String()
}

// plainText reports whether s is printable ASCII that escape keeps as is:
// the common case, checked without building a copy.
func plainText(s string, keep string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f && c != '\\':
		case strings.IndexByte(keep, c) >= 0:
		default:
			return false
		}
	}
	return true
}

// EscapeFields is Escape of each of fields, in a new slice.
func EscapeFields(fields []string) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = Escape(f)
	}
	return out
}
