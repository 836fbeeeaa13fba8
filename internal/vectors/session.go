package vectors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// The fixed inputs of every vector: the two agents and the ephemeral keys
// of noiseproto/testdata/vectors.txt, whose session the request and frame
// vectors continue.
var (
	initSeed      = run(0x00, 32)
	respSeed      = run(0x20, 32)
	initEphemeral = run(0x40, 32)
	respEphemeral = run(0x60, 32)
)

// run is n bytes start, start+1, ….
func run(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func identity(seed []byte) *keys.Identity {
	id, err := keys.FromSeed(seed)
	if err != nil {
		panic(err) // 32 bytes: cannot fail
	}
	return id
}

// recorder keeps what is written through it.
type recorder struct {
	io.ReadWriter
	mu    sync.Mutex
	wrote bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.wrote.Write(p)
	r.mu.Unlock()
	return r.ReadWriter.Write(p)
}

// take returns the Noise messages written since the last take, without
// their 2-byte lengths.
func (r *recorder) take() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := split(bytes.Clone(r.wrote.Bytes()))
	r.wrote.Reset()
	return msgs
}

// split cuts a stream of length-prefixed Noise messages into messages. The
// streams it is given were written by noiseproto, so they are whole.
func split(b []byte) [][]byte {
	var msgs [][]byte
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		msgs = append(msgs, b[2:2+n])
		b = b[2+n:]
	}
	return msgs
}

// wire joins Noise messages into the stream that carries them.
func wire(msgs ...[]byte) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(binary.BigEndian.AppendUint16(b, uint16(len(m))), m...)
	}
	return b
}

// conversation is the session of noiseproto's vector: the initiator (the
// caller) with seed initSeed, the responder (the callee) with respSeed,
// their ephemeral keys from initEphemeral and respEphemeral.
type conversation struct {
	init, resp         *noiseproto.Session
	initWire, respWire *recorder
	message1, message2 []byte
}

func newConversation() (*conversation, error) {
	a, b := net.Pipe()
	c := &conversation{initWire: &recorder{ReadWriter: a}, respWire: &recorder{ReadWriter: b}}
	respID := identity(respSeed)
	errs := make(chan error, 1)
	go func() {
		var err error
		c.resp, err = noiseproto.Accept(c.respWire, noiseproto.Config{Local: respID, Random: bytes.NewReader(respEphemeral)})
		errs <- err
	}()
	var err error
	c.init, err = noiseproto.Initiate(c.initWire, noiseproto.Config{Local: identity(initSeed), Random: bytes.NewReader(initEphemeral)}, respID.Public())
	if err := errors.Join(err, <-errs); err != nil {
		return nil, fmt.Errorf("vectors: handshake: %w", err)
	}
	m1, m2 := c.initWire.take(), c.respWire.take()
	c.message1, c.message2 = m1[0], m2[0]
	return c, nil
}

// send sends frame from one side to the other and returns the transport
// messages that carried it.
func (c *conversation) send(fromInit bool, frame []byte) ([][]byte, error) {
	w, r, rec := c.init, c.resp, c.initWire
	if !fromInit {
		w, r, rec = c.resp, c.init, c.respWire
	}
	errs := make(chan error, 1)
	go func() { errs <- w.WriteFrame(frame) }()
	got, err := r.ReadFrame()
	if err := errors.Join(err, <-errs); err != nil {
		return nil, fmt.Errorf("vectors: frame: %w", err)
	}
	if !bytes.Equal(got, frame) {
		return nil, errors.New("vectors: frame: received other bytes than sent")
	}
	return rec.take(), nil
}

// replay is a stream that gives recorded bytes and swallows what is written.
type replay struct{ io.Reader }

func (replay) Write(p []byte) (int, error) { return len(p), nil }

// responderOf is the responder's side of the conversation, made by reading
// message 1 and then the initiator's transport messages from a replay of
// them: each ReadFrame decrypts the next frame the initiator sent.
func responderOf(message1 []byte, transport ...[]byte) (*noiseproto.Session, error) {
	stream := replay{bytes.NewReader(wire(append([][]byte{message1}, transport...)...))}
	s, err := noiseproto.Accept(stream, noiseproto.Config{Local: identity(respSeed), Random: bytes.NewReader(respEphemeral)})
	if err != nil {
		return nil, fmt.Errorf("message1: %w", err)
	}
	return s, nil
}

// initiatorOf is the initiator's side of the conversation, made by reading
// message 2 and then the responder's transport messages from a replay.
func initiatorOf(message2 []byte, transport ...[]byte) (*noiseproto.Session, error) {
	stream := replay{bytes.NewReader(wire(append([][]byte{message2}, transport...)...))}
	s, err := noiseproto.Initiate(stream, noiseproto.Config{Local: identity(initSeed), Random: bytes.NewReader(initEphemeral)}, identity(respSeed).Public())
	if err != nil {
		return nil, fmt.Errorf("message2: %w", err)
	}
	return s, nil
}
