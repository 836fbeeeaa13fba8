package vectors

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// A vector file is lines of text:
//
//	# a comment
//	name: 0a1b2c          bytes, in lower-case hex (nothing after the colon: no bytes)
//	name: "text"          a JSON string: UTF-8 text, or an integer in decimal
//
// Names are unique in a file. Blank lines separate groups of fields.

// file is a vector file being written.
type file struct {
	name string
	b    bytes.Buffer
}

func (f *file) comment(lines ...string) {
	for _, l := range lines {
		f.b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
}

func (f *file) blank() { f.b.WriteString("\n") }

func (f *file) hex(name string, b []byte) { fmt.Fprintf(&f.b, "%s: %x\n", name, b) }

func (f *file) text(name, s string) {
	var q bytes.Buffer
	enc := json.NewEncoder(&q)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string: cannot fail
	fmt.Fprintf(&f.b, "%s: %s\n", name, bytes.TrimSuffix(q.Bytes(), []byte("\n")))
}

func (f *file) uint(name string, n uint64) { f.text(name, strconv.FormatUint(n, 10)) }

// fields is a vector file being read. Every getter records the field as
// read; done reports the fields nobody read, so that a field added to a
// file without being checked is an error.
type fields struct {
	file  string
	value map[string]string // name → the text after ": "
	order []string
	read  map[string]bool
	err   error // the first error
}

func parse(name string, content []byte) (*fields, error) {
	p := &fields{file: name, value: map[string]string{}, read: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			k, ok = strings.CutSuffix(line, ":")
		}
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s:%d: not a field", name, n)
		}
		if _, dup := p.value[k]; dup {
			return nil, fmt.Errorf("%s:%d: field %s given twice", name, n, k)
		}
		p.value[k] = v
		p.order = append(p.order, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !bytes.HasSuffix(content, []byte("\n")) {
		return nil, fmt.Errorf("%s: no newline at the end", name)
	}
	return p, nil
}

func (p *fields) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: %s", p.file, fmt.Sprintf(format, args...))
	}
}

func (p *fields) raw(name string) (string, bool) {
	v, ok := p.value[name]
	if !ok {
		p.fail("no field %s", name)
		return "", false
	}
	p.read[name] = true
	return v, true
}

// hex is a bytes field.
func (p *fields) hex(name string) []byte {
	v, ok := p.raw(name)
	if !ok {
		return nil
	}
	b, err := hex.DecodeString(v)
	if err != nil || hex.EncodeToString(b) != v {
		p.fail("%s: not lower-case hex", name)
		return nil
	}
	return b
}

// text is a text field.
func (p *fields) text(name string) string {
	v, ok := p.raw(name)
	if !ok {
		return ""
	}
	var s string
	if !strings.HasPrefix(v, `"`) || json.Unmarshal([]byte(v), &s) != nil {
		p.fail("%s: not a JSON string", name)
	}
	return s
}

// uint is a text field holding an unsigned integer in decimal.
func (p *fields) uint(name string) uint64 {
	s := p.text(name)
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != s {
		p.fail("%s: not an unsigned integer", name)
	}
	return n
}

// equal checks that the bytes field name holds want.
func (p *fields) equal(name string, want []byte) {
	if got := p.hex(name); p.err == nil && !bytes.Equal(got, want) {
		p.fail("%s: the implementation gives %x", name, want)
	}
}

// equalText checks that the text field name holds want.
func (p *fields) equalText(name, want string) {
	if got := p.text(name); p.err == nil && got != want {
		p.fail("%s: the implementation gives %q", name, want)
	}
}

// check records err, if any, as the check of field name failing.
func (p *fields) check(name string, err error) {
	if err != nil {
		p.fail("%s: %v", name, err)
	}
}

// done is the first error, or the fields nobody read.
func (p *fields) done() error {
	if p.err != nil {
		return p.err
	}
	var unread []string
	for _, k := range p.order {
		if !p.read[k] {
			unread = append(unread, k)
		}
	}
	if len(unread) > 0 {
		return fmt.Errorf("%s: fields not checked: %s", p.file, strings.Join(unread, ", "))
	}
	return nil
}
