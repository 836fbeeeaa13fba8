package noiseproto

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/flynn/noise"

	"github.com/n2n-dev/n2n/keys"
)

var (
	// ErrHandshake means the handshake did not authenticate: a malformed
	// message, one made for another key, a static key that is not the
	// claimed agent key, or a responder that hung up on message 1 (what a
	// responder does when it does not hold the key dialled). Callers map it
	// to "authentication failed". Plain I/O failures do not wrap it.
	ErrHandshake = errors.New("noiseproto: handshake failed")

	// ErrFrameTooLarge means a frame is over the limit: WriteFrame sent
	// nothing, or ReadFrame refused the length the peer declared.
	ErrFrameTooLarge = errors.New("noiseproto: frame too large")

	// ErrTransport means a transport message was rejected: it did not
	// authenticate (tampered, replayed, from another session) or did not
	// have the length the framing requires.
	ErrTransport = errors.New("noiseproto: bad transport message")

	// ErrClosed is returned by a Session after Close.
	ErrClosed = errors.New("noiseproto: session closed")
)

// Config is what one side of a handshake needs. A Config can be reused.
type Config struct {
	// Local is this agent's identity. Its X25519 form is the Noise static
	// key; its agent key is sent, encrypted, in message 1. It may be nil
	// when Static is set.
	Local *keys.Identity

	// Static is Local's static key pair, made once by NewStatic, for
	// agents that run many handshakes (a daemon). nil, or zeroed while
	// Local is set: each handshake derives the pair from Local. When both
	// are set they must be the same agent's.
	Static *Static

	// Random is the source of the ephemeral key; nil means crypto/rand.
	// Only tests set it, to reproduce vectors.
	Random io.Reader

	// MaxFrame is the largest application frame the Session writes or
	// accepts, in bytes; 0 means DefaultMaxFrame. At most 2³²-1.
	MaxFrame int

	// Monitor, if set, watches the Session's reading of frames: a reader
	// that bounds the time and memory a peer can make it spend (a daemon)
	// sets it.
	Monitor ReadMonitor
}

// ReadMonitor watches a Session's reading of frames (Config.Monitor). Its
// methods are called from ReadFrame, one call at a time.
type ReadMonitor interface {
	// Await is called before each read from the stream: with midFrame
	// false before the first byte of a frame (the peer owes nothing yet),
	// true once the peer has begun a frame and owes the rest of it.
	Await(midFrame bool)
	// Grow is called before the buffer of the frame being read is made or
	// grows, with the bytes it gains; an error ends the read and is
	// returned, wrapped. A frame that ReadFrame returns was granted
	// exactly its capacity; a frame it did not return was granted what
	// Grow allowed since the last frame returned.
	Grow(n int) error
}

func (c Config) check() error {
	switch {
	case c.Local == nil && c.Static == nil:
		return errors.New("noiseproto: Config.Local and Config.Static are nil")
	case c.Local != nil && c.Static != nil && c.Local.Public() != c.Static.Agent():
		return errors.New("noiseproto: Config.Static is not Config.Local's")
	}
	if c.MaxFrame < 0 || uint64(c.MaxFrame) > maxFrameLimit {
		return fmt.Errorf("noiseproto: Config.MaxFrame %d out of range [0, %d]", c.MaxFrame, uint64(maxFrameLimit))
	}
	return nil
}

// agent is the local agent key.
func (c Config) agent() keys.PublicKey {
	if c.Static != nil {
		return c.Static.Agent()
	}
	return c.Local.Public()
}

func (c Config) maxFrame() int {
	if c.MaxFrame == 0 {
		return DefaultMaxFrame
	}
	return c.MaxFrame
}

// handshake is one side's state between Initiate/Accept and the Session.
type handshake struct {
	state  *noise.HandshakeState
	dh     dhFunc
	static noise.DHKey    // our X25519 static key pair; Private (the handshake's own) zeroed by zero
	local  keys.PublicKey // our agent key: message 1's payload
	remote keys.PublicKey // the peer's agent key: dialled, or authenticated by message 1

	// Set when the handshake completes.
	hash       []byte
	send, recv *noise.CipherState
}

func newHandshake(cfg Config, dh dhFunc, initiator bool, peerStatic []byte) (*handshake, error) {
	var static noise.DHKey
	var err error
	if cfg.Static != nil {
		static, err = dh.static(cfg.Static)
		if err != nil && (cfg.Local == nil || !errors.Is(err, errStaticZeroed)) {
			return nil, err
		}
	}
	if static.Private == nil { // no Static, or a zeroed one and Local to derive from
		x := cfg.Local.X25519()
		priv := make([]byte, dhLen)
		copy(priv, x[:])
		clear(x[:])
		if static, err = dh.keypair(priv); err != nil {
			clear(priv)
			return nil, fmt.Errorf("noiseproto: static key: %w", err)
		}
	}
	h := &handshake{dh: dh, static: static, local: cfg.agent()}
	h.state, err = noise.NewHandshakeState(noise.Config{
		CipherSuite:   noise.NewCipherSuite(dh, noise.CipherChaChaPoly, noise.HashBLAKE2s),
		Random:        cfg.Random,
		Pattern:       noise.HandshakeIK,
		Initiator:     initiator,
		Prologue:      []byte(prologue),
		StaticKeypair: static,
		PeerStatic:    peerStatic,
	})
	if err != nil {
		h.zero()
		return nil, fmt.Errorf("noiseproto: %w", err)
	}
	return h, nil
}

// createMessage1 is the initiator's first message:
//
//	-> e, es, s, ss   payload: the initiator's agent key
func (h *handshake) createMessage1() ([]byte, error) {
	msg, _, _, err := h.state.WriteMessage(make([]byte, 0, message1Size), h.local[:])
	if err != nil {
		return nil, fmt.Errorf("noiseproto: create message 1: %w", err)
	}
	if len(msg) != message1Size {
		return nil, fmt.Errorf("noiseproto: create message 1: %d bytes, want %d", len(msg), message1Size)
	}
	return msg, nil
}

// consumeMessage1 reads message 1 and authenticates the initiator's claim:
// the static key Noise decrypted must be the X25519 form of the agent key in
// the payload. The claim holds only for whoever holds that static key's
// private key, which the es and ss DHs tie to message 1; message 1 itself can
// be replayed, which the transport messages after message 2 detect.
func (h *handshake) consumeMessage1(msg []byte) error {
	if len(msg) != message1Size {
		return fmt.Errorf("%w: message 1 is %d bytes, want %d", ErrHandshake, len(msg), message1Size)
	}
	payload, _, _, err := h.state.ReadMessage(make([]byte, 0, agentKeySize), msg)
	if err != nil {
		return fmt.Errorf("%w: message 1 does not authenticate (made for another agent key?)", ErrHandshake)
	}
	if len(payload) != agentKeySize {
		return fmt.Errorf("%w: message 1 payload is %d bytes, want %d", ErrHandshake, len(payload), agentKeySize)
	}
	claimed := keys.PublicKey(payload)
	// Not through agentX25519's cache: how long a refusal took would tell
	// anyone who claims an agent key whether this agent met it lately.
	want, err := claimed.X25519()
	if err != nil || subtle.ConstantTimeCompare(h.state.PeerStatic(), want[:]) != 1 {
		return fmt.Errorf("%w: message 1: the static key is not the claimed agent key", ErrHandshake)
	}
	h.remote = claimed
	return nil
}

// createMessage2 is the responder's answer, which completes the handshake:
//
//	<- e, ee, se      payload: empty
func (h *handshake) createMessage2() ([]byte, error) {
	msg, cs1, cs2, err := h.state.WriteMessage(make([]byte, 0, message2Size), nil)
	if err != nil {
		return nil, fmt.Errorf("noiseproto: create message 2: %w", err)
	}
	if len(msg) != message2Size || cs1 == nil || cs2 == nil {
		return nil, fmt.Errorf("noiseproto: create message 2: %d bytes, want %d", len(msg), message2Size)
	}
	h.recv, h.send = cs1, cs2 // cs1 carries initiator → responder
	h.hash = append([]byte(nil), h.state.ChannelBinding()...)
	return msg, nil
}

// consumeMessage2 reads message 2, which authenticates the responder (ee and
// se need the ephemeral and static private keys message 1 was made for).
func (h *handshake) consumeMessage2(msg []byte) error {
	if len(msg) != message2Size {
		return fmt.Errorf("%w: message 2 is %d bytes, want %d", ErrHandshake, len(msg), message2Size)
	}
	payload, cs1, cs2, err := h.state.ReadMessage(nil, msg)
	if err != nil {
		return fmt.Errorf("%w: message 2 does not authenticate", ErrHandshake)
	}
	if len(payload) != 0 || cs1 == nil || cs2 == nil {
		return fmt.Errorf("%w: message 2 payload is %d bytes, want 0", ErrHandshake, len(payload))
	}
	h.send, h.recv = cs1, cs2
	h.hash = append([]byte(nil), h.state.ChannelBinding()...)
	return nil
}

// zero overwrites the private keys of the handshake and the DH outputs, and
// drops its state. The chaining key inside flynn/noise is out of reach; it
// is left to the garbage collector.
func (h *handshake) zero() {
	h.dh.zero()
	clear(h.static.Private)
	if h.state != nil {
		clear(h.state.LocalEphemeral().Private)
		*h.state = noise.HandshakeState{}
		h.state = nil
	}
}

// writeMessage sends one Noise message with its length, in one Write.
func writeMessage(w io.Writer, msg []byte) error {
	buf := make([]byte, lengthSize+len(msg))
	binary.BigEndian.PutUint16(buf, uint16(len(msg)))
	copy(buf[lengthSize:], msg)
	_, err := w.Write(buf)
	return err
}

// readHandshakeMessage reads handshake message num, which must be size
// bytes: another length is refused without reading the message. The error
// wraps io.EOF only when the stream ended before the message began.
func readHandshakeMessage(r io.Reader, num, size int) ([]byte, error) {
	var n [lengthSize]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, fmt.Errorf("noiseproto: receive message %d: %w", num, err)
	}
	if got := int(binary.BigEndian.Uint16(n[:])); got != size {
		return nil, fmt.Errorf("%w: message %d is %d bytes, want %d", ErrHandshake, num, got, size)
	}
	msg := make([]byte, size)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, fmt.Errorf("noiseproto: receive message %d: %w", num, noEOF(err))
	}
	return msg, nil
}

// noEOF turns an end of stream inside a message into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
