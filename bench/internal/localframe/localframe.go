// Package localframe speaks the local socket protocol of n2n's rpc package
// (rpc/local.go) with nothing but the standard library and CBOR, so that a
// client built on it starts as fast as a trivial static binary. Frames are
// type(1) ‖ length(4, big-endian) ‖ data; the first frame from the client
// is the CBOR LocalRequest.
package localframe

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/fxamacker/cbor/v2"
)

// Frame types, as in rpc/local.go.
const (
	Header    = 'H' // → LocalRequest (CBOR)
	Stdin     = 'I' // → stdin bytes
	StdinEOF  = 'E' // → end of stdin
	WantStdin = 'W' // ← the command reads stdin
	Stdout    = 'O' // ← stdout bytes
	Stderr    = 'R' // ← stderr bytes
	Exit      = 'X' // ← exit status (4 bytes); last frame

	maxFrame = 1<<20 + 64<<10
)

// Request is rpc.LocalRequest, field for field.
type Request struct {
	Args      []string          `cbor:"1,keyasint"`
	Cwd       string            `cbor:"2,keyasint"`
	Env       map[string]string `cbor:"3,keyasint"`
	StdoutTTY bool              `cbor:"4,keyasint"`
}

// Write sends one frame in one write.
func Write(w io.Writer, typ byte, data []byte) error {
	b := make([]byte, 5+len(data))
	b[0] = typ
	binary.BigEndian.PutUint32(b[1:], uint32(len(data)))
	copy(b[5:], data)
	_, err := w.Write(b)
	return err
}

// Read receives one frame.
func Read(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("localframe: frame of %d bytes", n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return hdr[0], b, err
}

// EncodeRequest is the header frame's data.
func EncodeRequest(r *Request) ([]byte, error) { return cbor.Marshal(r) }

// DecodeRequest parses the header frame's data.
func DecodeRequest(b []byte) (*Request, error) {
	var r Request
	if err := cbor.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ExitData is the data of an Exit frame.
func ExitData(code int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(int32(code))) }
