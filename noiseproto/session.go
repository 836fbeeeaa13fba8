package noiseproto

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"github.com/flynn/noise"

	"github.com/n2n-dev/n2n/keys"
)

// Session is an authenticated, encrypted session over the io.ReadWriter its
// handshake ran on. It carries application frames of up to MaxFrame bytes.
//
// One goroutine may call WriteFrame while another calls ReadFrame; each
// direction has its own cipher state and lock. After an error a direction is
// broken (its cipher state no longer matches the peer's): every later call
// in that direction returns the same error.
type Session struct {
	rw       io.ReadWriter
	remote   keys.PublicKey
	hash     []byte
	maxFrame int
	monitor  ReadMonitor // nil: reads are not watched

	wmu  sync.Mutex
	send *noise.CipherState // nil once closed
	wbuf []byte             // length ‖ ciphertext of the message being sent
	werr error

	rmu  sync.Mutex
	recv *noise.CipherState // nil once closed
	rbuf []byte             // ciphertext of the message being received
	rerr error
}

func newSession(rw io.ReadWriter, cfg Config, h *handshake) *Session {
	return &Session{
		rw:       rw,
		remote:   h.remote,
		hash:     h.hash,
		maxFrame: cfg.maxFrame(),
		monitor:  cfg.Monitor,
		send:     h.send,
		recv:     h.recv,
	}
}

// RemoteKey is the peer's agent key: the key dialled (initiator), or the key
// message 1 proved (responder).
func (s *Session) RemoteKey() keys.PublicKey { return s.remote }

// HandshakeHash is Noise's handshake hash h (32 bytes), equal on both sides
// and unique to the session: sign it to bind a message to this session.
func (s *Session) HandshakeHash() []byte { return append([]byte(nil), s.hash...) }

// WriteFrame sends p as one application frame (p may be empty). A frame over
// MaxFrame is refused with ErrFrameTooLarge and nothing is sent.
func (s *Session) WriteFrame(p []byte) error {
	if len(p) > s.maxFrame {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(p), s.maxFrame)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.send == nil {
		return ErrClosed
	}
	if s.werr != nil {
		return s.werr
	}
	if err := s.writeFrame(p); err != nil {
		s.werr = err
		return err
	}
	return nil
}

// writeFrame sends the frame header and as much of p as fits in the first
// message, then the rest in full messages and a last, shorter one.
func (s *Session) writeFrame(p []byte) error {
	n := min(len(p), firstChunkSize)
	s.growWriteBuffer(frameHeaderSize + n)
	first := s.wbuf[lengthSize : lengthSize+frameHeaderSize+n]
	binary.BigEndian.PutUint32(first, uint32(len(p)))
	copy(first[frameHeaderSize:], p[:n])
	if err := s.sendMessage(first); err != nil {
		return err
	}
	for p = p[n:]; len(p) > 0; p = p[n:] {
		n = min(len(p), maxChunkSize)
		s.growWriteBuffer(n)
		if err := s.sendMessage(p[:n]); err != nil {
			return err
		}
	}
	return nil
}

// growWriteBuffer makes wbuf hold a message of plaintext size n.
func (s *Session) growWriteBuffer(n int) {
	if need := lengthSize + n + tagSize; cap(s.wbuf) < need {
		size := min(max(need, 2*cap(s.wbuf), minBufferSize), lengthSize+maxMessageSize)
		s.wbuf = make([]byte, size)
	}
	s.wbuf = s.wbuf[:cap(s.wbuf)]
}

// sendMessage encrypts plaintext (which may be wbuf[lengthSize:] itself)
// into wbuf and writes it with its length.
func (s *Session) sendMessage(plaintext []byte) error {
	msg, err := s.send.Encrypt(s.wbuf[lengthSize:lengthSize], nil, plaintext)
	if err != nil {
		return fmt.Errorf("noiseproto: encrypt: %w", err)
	}
	binary.BigEndian.PutUint16(s.wbuf, uint16(len(msg)))
	if _, err := s.rw.Write(s.wbuf[:lengthSize+len(msg)]); err != nil {
		return fmt.Errorf("noiseproto: write frame: %w", err)
	}
	return nil
}

// ReadFrame receives the next application frame, in a new slice. It returns
// io.EOF when the stream ends between frames; ErrFrameTooLarge when the peer
// declares a frame over MaxFrame, before reading or allocating it; and an
// error wrapping ErrTransport for a message that does not authenticate or
// does not fit the framing. The frame's buffer grows with the bytes that
// arrive (doubling, up to the length declared), never to the declared
// length before they do: a peer that declares a large frame and stalls
// makes the reader hold at most about twice what it sent.
func (s *Session) ReadFrame() ([]byte, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.recv == nil {
		return nil, ErrClosed
	}
	if s.rerr != nil {
		return nil, s.rerr
	}
	p, err := s.readFrame()
	if err != nil {
		s.rerr = err
		return nil, err
	}
	return p, nil
}

func (s *Session) readFrame() ([]byte, error) {
	first, err := s.receiveFirst()
	if err != nil {
		return nil, err
	}
	total := int(binary.BigEndian.Uint32(first))
	if uint64(total) > uint64(s.maxFrame) {
		return nil, fmt.Errorf("%w: peer declared %d bytes, limit %d", ErrFrameTooLarge, total, s.maxFrame)
	}
	n := min(total, firstChunkSize)
	if len(first) != frameHeaderSize+n {
		return nil, fmt.Errorf("%w: first message of a %d-byte frame holds %d bytes, want %d", ErrTransport, total, len(first), frameHeaderSize+n)
	}
	frame, err := s.growFrame(nil, n, total)
	if err != nil {
		return nil, err
	}
	copy(frame, first[frameHeaderSize:])
	for off := n; off < total; off += n {
		n = min(total-off, maxChunkSize)
		msg, err := s.receiveMessage(true, n+tagSize, n+tagSize)
		if err != nil {
			return nil, noEOF(err)
		}
		if frame, err = s.growFrame(frame, off+n, total); err != nil {
			return nil, err
		}
		if _, err := s.recv.Decrypt(frame[off:off], nil, msg); err != nil {
			return nil, fmt.Errorf("%w: does not authenticate", ErrTransport)
		}
	}
	return frame, nil
}

// growFrame returns frame (nil: none yet) extended to length n, in a new
// buffer if it has no room: twice the capacity, or n if more, and never
// over the frame's total. The monitor is asked first.
func (s *Session) growFrame(frame []byte, n, total int) ([]byte, error) {
	if frame != nil && n <= cap(frame) {
		return frame[:n], nil
	}
	size := min(max(2*cap(frame), n), total)
	if s.monitor != nil {
		if err := s.monitor.Grow(size - cap(frame)); err != nil {
			return nil, fmt.Errorf("noiseproto: read frame: %w", err)
		}
	}
	grown := make([]byte, n, size)
	copy(grown, frame)
	return grown, nil
}

// receiveFirst reads the first message of a frame and returns its plaintext,
// decrypted in place in rbuf; it holds at least the frame header.
func (s *Session) receiveFirst() ([]byte, error) {
	msg, err := s.receiveMessage(false, frameHeaderSize+tagSize, maxMessageSize)
	if err != nil {
		return nil, err
	}
	plaintext, err := s.recv.Decrypt(msg[:0], nil, msg)
	if err != nil {
		return nil, fmt.Errorf("%w: does not authenticate", ErrTransport)
	}
	return plaintext, nil
}

// receiveMessage reads one transport message, which must be minSize to
// maxSize bytes: another length is refused before the message is read. It
// returns io.EOF, unwrapped, when the stream ends before the message begins.
// midFrame says that a frame is in progress: the message continues it.
func (s *Session) receiveMessage(midFrame bool, minSize, maxSize int) ([]byte, error) {
	var n [lengthSize]byte
	s.await(midFrame)
	if _, err := io.ReadFull(s.rw, n[:]); err == io.EOF {
		return nil, io.EOF
	} else if err != nil {
		return nil, fmt.Errorf("noiseproto: read frame: %w", err)
	}
	size := int(binary.BigEndian.Uint16(n[:]))
	if size < minSize || size > maxSize {
		if minSize == maxSize {
			return nil, fmt.Errorf("%w: message is %d bytes, want %d", ErrTransport, size, minSize)
		}
		return nil, fmt.Errorf("%w: message is %d bytes, want %d to %d", ErrTransport, size, minSize, maxSize)
	}
	if cap(s.rbuf) < size {
		s.rbuf = make([]byte, min(max(size, 2*cap(s.rbuf), minBufferSize), maxMessageSize))
	}
	msg := s.rbuf[:size]
	s.await(true)
	if _, err := io.ReadFull(s.rw, msg); err != nil {
		return nil, fmt.Errorf("noiseproto: read frame: %w", noEOF(err))
	}
	return msg, nil
}

func (s *Session) await(midFrame bool) {
	if s.monitor != nil {
		s.monitor.Await(midFrame)
	}
}

// Close zeroes the session's cipher keys and buffers; later calls return
// ErrClosed. It waits for a ReadFrame or WriteFrame in progress, so close or
// set a deadline on the underlying stream first to unblock them. Close does
// not close the underlying stream. The copy of each key inside the AEAD of
// golang.org/x/crypto is out of reach and left to the garbage collector.
func (s *Session) Close() error {
	s.wmu.Lock()
	if s.send != nil {
		*s.send = noise.CipherState{}
		s.send = nil
	}
	clear(s.wbuf)
	s.wbuf = nil
	s.wmu.Unlock()

	s.rmu.Lock()
	if s.recv != nil {
		*s.recv = noise.CipherState{}
		s.recv = nil
	}
	clear(s.rbuf)
	s.rbuf = nil
	s.rmu.Unlock()
	return nil
}
