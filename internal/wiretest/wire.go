package wiretest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/flynn/noise"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// The wire protocol's constants, as its documents give them.
const (
	Prologue       = "n2n/1"
	MaxMessage     = 65535                  // a Noise message, tag included
	TagSize        = 16                     // ChaCha20-Poly1305
	MaxChunk       = MaxMessage - TagSize   // plaintext of a full transport message: 65519
	FrameHeader    = 4                      // big-endian frame length, first in a frame's first message
	FirstChunk     = MaxChunk - FrameHeader // frame bytes in a frame's first message: 65515
	signContext    = "n2n request v1"
	message2Length = 48
)

// Request is a request as the protocol encodes it: a CBOR map with integer
// keys, in core deterministic encoding.
type Request struct {
	ID       uint64 `cbor:"1,keyasint"`
	Kind     string `cbor:"2,keyasint"`
	Function string `cbor:"3,keyasint,omitempty"`
	Payload  []byte `cbor:"4,keyasint,omitempty"`
	Secret   []byte `cbor:"5,keyasint,omitempty"`
	Timeout  uint64 `cbor:"7,keyasint"` // µs the caller allows, counted by the callee from arrival
}

// Response is a response as the protocol encodes it.
type Response struct {
	ID      uint64 `cbor:"1,keyasint"`
	Status  string `cbor:"2,keyasint"`
	Payload []byte `cbor:"3,keyasint,omitempty"`
	Error   string `cbor:"4,keyasint,omitempty"`
}

type signedRequest struct {
	Request   []byte `cbor:"1,keyasint"`
	Signature []byte `cbor:"2,keyasint"`
}

var suite = noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2s)

// session is the Noise state of one session on rw.
type session struct {
	rw         io.ReadWriter
	id         *keys.Identity
	send, recv *noise.CipherState
	hash       []byte
	requests   int // requests written: the first is signed
}

// handshake runs the initiator's side of Noise IK with the holder of `to`:
// message 1 carries id's agent key.
func (s *session) handshake(to keys.PublicKey) error {
	rs, err := to.X25519()
	if err != nil {
		return err
	}
	x := s.id.X25519()
	pub, err := s.id.Public().X25519()
	if err != nil {
		return err
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   suite,
		Pattern:       noise.HandshakeIK,
		Initiator:     true,
		Prologue:      []byte(Prologue),
		StaticKeypair: noise.DHKey{Private: x[:], Public: pub[:]},
		PeerStatic:    rs[:],
	})
	if err != nil {
		return err
	}
	agent := s.id.Public()
	msg1, _, _, err := hs.WriteMessage(nil, agent[:])
	if err != nil {
		return err
	}
	if err := s.writeRaw(msg1); err != nil {
		return err
	}
	msg2, err := s.readRaw()
	if err != nil {
		return fmt.Errorf("wiretest: message 2: %w", err)
	}
	if len(msg2) != message2Length {
		return fmt.Errorf("wiretest: message 2 is %d bytes", len(msg2))
	}
	if _, s.send, s.recv, err = hs.ReadMessage(nil, msg2); err != nil {
		return fmt.Errorf("wiretest: message 2: %w", err)
	}
	s.hash = hs.ChannelBinding()
	return nil
}

// writeRaw writes one Noise message with its 2-byte length.
func (s *session) writeRaw(msg []byte) error {
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(msg)), uint16(len(msg)))
	_, err := s.rw.Write(append(b, msg...))
	return err
}

func (s *session) readRaw() ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(s.rw, n[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(s.rw, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

// writeMessage seals plaintext (at most MaxChunk bytes) as one transport
// message.
func (s *session) writeMessage(plaintext []byte) error {
	if s.send == nil {
		return errors.New("wiretest: no handshake yet")
	}
	if len(plaintext) > MaxChunk {
		return fmt.Errorf("wiretest: %d bytes do not fit one message", len(plaintext))
	}
	msg, err := s.send.Encrypt(nil, nil, plaintext)
	if err != nil {
		return err
	}
	return s.writeRaw(msg)
}

// beginFrame sends the first message of a frame that declares `declared`
// bytes and carries p (at most FirstChunk bytes) of them.
func (s *session) beginFrame(declared uint32, p []byte) error {
	if len(p) > FirstChunk {
		return fmt.Errorf("wiretest: %d bytes do not fit a frame's first message", len(p))
	}
	first := binary.BigEndian.AppendUint32(make([]byte, 0, FrameHeader+len(p)), declared)
	return s.writeMessage(append(first, p...))
}

// writeFrame sends p as one whole frame.
func (s *session) writeFrame(p []byte) error {
	n := min(len(p), FirstChunk)
	if err := s.beginFrame(uint32(len(p)), p[:n]); err != nil {
		return err
	}
	for p = p[n:]; len(p) > 0; p = p[n:] {
		n = min(len(p), MaxChunk)
		if err := s.writeMessage(p[:n]); err != nil {
			return err
		}
	}
	return nil
}

// readFrame reads one whole frame (no limit: the daemon is trusted here).
func (s *session) readFrame() ([]byte, error) {
	msg, err := s.readRaw()
	if err != nil {
		return nil, err
	}
	first, err := s.recv.Decrypt(nil, nil, msg)
	if err != nil {
		return nil, err
	}
	if len(first) < FrameHeader {
		return nil, errors.New("wiretest: short first message")
	}
	total := int(binary.BigEndian.Uint32(first))
	frame := append(make([]byte, 0, min(total, 1<<20)), first[FrameHeader:]...)
	for len(frame) < total {
		if msg, err = s.readRaw(); err != nil {
			return nil, err
		}
		if frame, err = s.recv.Decrypt(frame, nil, msg); err != nil {
			return nil, err
		}
	}
	if len(frame) != total {
		return nil, fmt.Errorf("wiretest: frame of %d bytes declared %d", len(frame), total)
	}
	return frame, nil
}

// encode is req's encoding as the session's next request: the first one
// wrapped with the caller's signature over the handshake hash and the
// request's digest, the others plain.
func (s *session) encode(req *Request) []byte {
	b := detcbor.Marshal(req)
	s.requests++
	if s.requests > 1 {
		return b
	}
	d := keys.Sum256(b)
	input := append(append([]byte(signContext), s.hash...), d[:]...)
	return detcbor.Marshal(&signedRequest{Request: b, Signature: s.id.Sign(input)})
}
