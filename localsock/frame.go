package localsock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/n2n-dev/n2n/internal/detcbor"
)

// Frame types: → from the command, ← from the daemon.
const (
	frameHeader    = 'H' // → Request (CBOR)
	frameStdin     = 'I' // → stdin bytes
	frameStdinEOF  = 'E' // → end of stdin
	frameWantStdin = 'W' // ← the command reads stdin: start sending it
	frameStdout    = 'O' // ← stdout bytes
	frameStderr    = 'R' // ← stderr bytes
	frameExit      = 'X' // ← exit status (4 bytes); last frame
)

// Implementation limits.
const (
	// maxChunk: stdin and output are sent in frames of at most this.
	maxChunk = 1 << 20
	// maxFrame is the largest frame read: a chunk, or a header of up to
	// this size.
	maxFrame = maxChunk + 64<<10
	// maxWidth bounds the terminal width a header may give.
	maxWidth = 1 << 16
)

// Request is one command forwarded to the daemon, with what the command's
// output depends on in the client's process: its directory, environment
// and terminals. The command line, directory and environment values are
// byte strings: an argument or a path need not be UTF-8 (CBOR text must).
type Request struct {
	Args      [][]byte          `cbor:"1,keyasint"`
	Cwd       []byte            `cbor:"2,keyasint"`
	Env       map[string][]byte `cbor:"3,keyasint"` // the variables the command reads (NO_COLOR, TERM)
	StdoutTTY bool              `cbor:"4,keyasint"`
	StdinTTY  bool              `cbor:"5,keyasint"`
	StderrTTY bool              `cbor:"6,keyasint"`
	Width     int               `cbor:"7,keyasint"` // columns of stdout's terminal, or else stderr's (0: none)
}

// Bytes is a command line as Request.Args carries it.
func Bytes(args []string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// Strings is Request.Args as a command line (a Go string holds any bytes).
func Strings(args [][]byte) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

// ErrBadFrame is wrapped by every failure to read what the other end sent.
var ErrBadFrame = errors.New("bad frame")

// decMode reads the header frame: a command line and its environment may
// hold many strings.
var decMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4})

func writeFrame(w io.Writer, typ byte, data []byte) error {
	hdr := [5]byte{typ}
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(data)))
	_, err := w.Write(append(hdr[:], data...))
	return err
}

func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("%w: frame of %d bytes", ErrBadFrame, n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return hdr[0], b, err
}

// decodeHeader parses a header frame's data: a Request with a command.
func decodeHeader(b []byte) (*Request, error) {
	var req Request
	if err := decMode().Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrBadFrame, err)
	}
	if len(req.Args) == 0 {
		return nil, fmt.Errorf("%w: header without a command", ErrBadFrame)
	}
	if req.Width < 0 || req.Width > maxWidth {
		return nil, fmt.Errorf("%w: terminal width %d", ErrBadFrame, req.Width)
	}
	return &req, nil
}
