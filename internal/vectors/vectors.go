package vectors

import (
	"fmt"
)

// File is one vector file: its name in testdata/ and its content.
type File struct {
	Name    string
	Content []byte
}

type vector struct {
	name  string
	build func() (*file, error)
	check func(*fields)
}

func noErr(build func() *file) func() (*file, error) {
	return func() (*file, error) { return build(), nil }
}

// vectorList is every vector, in the order PROTOCOL.md lists them.
var vectorList = []vector{
	{"ids.txt", noErr(buildIDs), checkIDs},
	{"frame.txt", buildFrame, checkFrame},
	{"session.txt", buildSession, checkSession},
	{"messages.txt", noErr(buildMessages), checkMessages},
	{"ticket.txt", noErr(buildTicket), checkTicket},
	{"record.txt", buildRecord, checkRecord},
}

// Build makes every vector file from its fixed inputs with the
// implementation's encoders.
func Build() ([]File, error) {
	var out []File
	for _, v := range vectorList {
		f, err := v.build()
		if err != nil {
			return nil, fmt.Errorf("vectors: %s: %w", v.name, err)
		}
		if f.name != v.name {
			panic("vectors: " + v.name + " builds " + f.name)
		}
		out = append(out, File{Name: v.name, Content: f.b.Bytes()})
	}
	return out, nil
}

// Check reads a vector file and checks it with the implementation, in both
// directions: every output it lists decodes to its inputs, and its inputs
// encode to every output it lists. Every field must be checked.
func Check(name string, content []byte) error {
	for _, v := range vectorList {
		if v.name != name {
			continue
		}
		p, err := parse(name, content)
		if err != nil {
			return err
		}
		v.check(p)
		return p.done()
	}
	return fmt.Errorf("vectors: no vector %s", name)
}
