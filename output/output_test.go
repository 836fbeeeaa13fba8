package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func newTest(t *testing.T, json bool, color string) (*IO, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	o, err := New(strings.NewReader(""), &out, &errb, json, color)
	if err != nil {
		t.Fatal(err)
	}
	return o, &out, &errb
}

func TestModes(t *testing.T) {
	o, out, _ := newTest(t, false, "auto")
	if o.Mode != Plain || o.Color {
		t.Fatalf("a buffer is a pipe: mode %v color %v", o.Mode, o.Color)
	}
	o.Table([]string{"A", "B"}, [][]string{{"1", "x y"}, {"2", "z"}}, nil)
	if out.String() != "1\tx y\n2\tz\n" {
		t.Fatalf("plain table %q", out.String())
	}
	o, out, _ = newTest(t, true, "auto")
	o.Table(nil, nil, []any{map[string]int{"a": 1}, map[string]int{"a": 2}})
	if out.String() != "{\"a\":1}\n{\"a\":2}\n" {
		t.Fatalf("json table %q", out.String())
	}
	if _, err := New(nil, out, out, false, "sometimes"); err == nil {
		t.Fatal("bad --color accepted")
	}
}

func TestError(t *testing.T) {
	o, _, errb := newTest(t, false, "never")
	o.Error(4, "no identity", "run n2n init", "")
	if errb.String() != "n2n: error: no identity\nn2n: hint: run n2n init\n" {
		t.Fatalf("%q", errb.String())
	}
	o, _, errb = newTest(t, true, "never")
	o.Error(3, "bad", "", "")
	if errb.String() != `{"code":3,"message":"bad","type":"error"}`+"\n" {
		t.Fatalf("%q", errb.String())
	}
	// A message is one line; the detail (--debug) follows line by line.
	o, _, errb = newTest(t, false, "never")
	o.Error(5, "failed to dial:\n  * [/ip4/1.2.3.4] refused", "", "a: b\n  * c")
	if errb.String() != "n2n: error: failed to dial:; * [/ip4/1.2.3.4] refused\nn2n: debug: a: b\nn2n: debug:   * c\n" {
		t.Fatalf("%q", errb.String())
	}
	// Nothing in a diagnostic acts on the terminal; backslashes stay (text
	// another agent sent is escaped before it gets here).
	o, _, errb = newTest(t, false, "never")
	o.Error(9, `replied: \x1b[2J`, "h\x07", "handler failed: \x1b]0;pwned\x07\tx\rforged")
	if errb.String() != "n2n: error: replied: \\x1b[2J\nn2n: hint: h\\x07\nn2n: debug: handler failed: \\x1b]0;pwned\\x07\\tx\\rforged\n" {
		t.Fatalf("%q", errb.String())
	}
	o, _, errb = newTest(t, true, "never")
	o.Error(5, "x", "h", "a: x")
	if errb.String() != `{"code":5,"detail":"a: x","hint":"h","message":"x","type":"error"}`+"\n" {
		t.Fatalf("%q", errb.String())
	}
}

func TestColorAlwaysStyles(t *testing.T) {
	o, _, _ := newTest(t, false, "always")
	if !strings.Contains(o.Bold("x"), "\x1b[") {
		t.Fatal("--color=always did not style")
	}
	o, _, _ = newTest(t, false, "never")
	if o.Bold("x") != "x" {
		t.Fatal("--color=never styled")
	}
}

func TestBytesAndTime(t *testing.T) {
	if s, enc := Bytes([]byte("hé")); s != "hé" || enc != "" {
		t.Fatal(s, enc)
	}
	if s, enc := Bytes([]byte{0xff, 0}); s != "/wA=" || enc != "base64" {
		t.Fatal(s, enc)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if Relative(now.Add(-5*time.Minute), now) != "5 minutes ago" || Relative(now, now) != "just now" {
		t.Fatal("relative")
	}
	// One form in pipes and JSON: RFC 3339, UTC, microseconds always shown.
	o, _, _ := newTest(t, false, "never")
	if o.Time(now, now) != "2026-01-02T03:04:05.000000Z" {
		t.Fatal(o.Time(now, now))
	}
	paris := time.FixedZone("CET", 3600)
	if s := TimeText(time.Date(2026, 1, 2, 4, 4, 5, 123456789, paris)); s != "2026-01-02T03:04:05.123456Z" {
		t.Fatal(s)
	}
}

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text, spaces kept", "plain text, spaces kept"},
		{"héllo wörld ✓", "héllo wörld ✓"},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{`back\slash`, `back\\slash`},
		{"\x1b[2J\x1b]0;title\x07", `\x1b[2J\x1b]0;title\x07`},
		{"\x00\x7f", `\x00\x7f`},
		{"\u0085\u202e\u2028", `\u0085\u202e\u2028`}, // C1, a bidi override, a line separator
		{"bad \xff\xfe utf-8", `bad \xff\xfe utf-8`}, // bytes that are not UTF-8
		{"\U000e0001 tag", `\U000e0001 tag`},         // a language tag: not printable
		{"ok \ufffd kept", "ok \ufffd kept"},         // a real replacement character is text
		{"\\x1b is not ESC", `\\x1b is not ESC`},     // readable back exactly
		{"", ""},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestRenderersEscape: whatever a field holds, a tab-separated row is one
// line with one field per column, a terminal gets no control character
// other than the styling n2n adds itself, and JSON is exact.
func TestRenderersEscape(t *testing.T) {
	hostile := "ok\tuhCAkforged\tauthor\nnext row\x1b]0;pwned\x07\x1b[2J\r"
	o, out, _ := newTest(t, false, "never")
	o.Table([]string{"A", "B"}, [][]string{{"1", hostile}}, nil)
	o.Row("2", hostile)
	o.Record(nil, []string{"a", "b"}, []string{"3", hostile})
	for i, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if f := strings.Split(line, "\t"); len(f) != 2 || strings.ContainsAny(line, "\x1b\r\x07") {
			t.Errorf("plain line %d: %q", i, line)
		}
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Errorf("%d lines for three records:\n%s", n, out.String())
	}

	var tty bytes.Buffer
	h, err := NewTTY(strings.NewReader(""), &tty, &tty, Terminal{Stdout: true}, false, "never")
	if err != nil {
		t.Fatal(err)
	}
	h.Table([]string{"A", "B"}, [][]string{{"1", hostile}}, nil)
	h.Record(nil, []string{"a"}, []string{hostile})
	h.Row(hostile)
	h.Payload([]byte("line one\n\tindented \x1b[31mred\x1b[0m\rover\n"))
	if s := tty.String(); strings.ContainsAny(s, "\x1b\r\x07") {
		t.Errorf("a control character reached the terminal: %q", s)
	}
	if !strings.Contains(tty.String(), "line one\n\tindented \\x1b[31mred") {
		t.Errorf("a payload on a terminal keeps its lines and tabs: %q", tty.String())
	}

	j, jout, _ := newTest(t, true, "never")
	j.Table(nil, [][]string{{hostile}}, []any{map[string]string{"b": hostile}})
	var back map[string]string
	if err := json.Unmarshal(jout.Bytes(), &back); err != nil || back["b"] != hostile {
		t.Errorf("JSON is not exact: %q (%v)", jout.String(), err)
	}

	// In a pipe a payload is the bytes as sent.
	p, pout, _ := newTest(t, false, "never")
	p.Payload([]byte("\x1b[31mraw\x00"))
	if pout.String() != "\x1b[31mraw\x00" {
		t.Errorf("a payload in a pipe was changed: %q", pout.String())
	}
}
