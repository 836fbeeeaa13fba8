package noiseproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/flynn/noise"
)

// frameSizes straddle every boundary of the framing: the first message
// holds 65515 frame bytes, a full message 65519.
var frameSizes = []int{0, 1, firstChunkSize, firstChunkSize + 1, 65519, 65520,
	firstChunkSize + maxChunkSize, firstChunkSize + maxChunkSize + 1, 200_000, 8 << 20}

func TestRoundTrip(t *testing.T) {
	for _, dh := range []struct {
		name     string
		ini, res func() dhFunc
	}{
		{"own-own", newOwnDH, newOwnDH},
		{"own-stock", newOwnDH, newStockDH},
		{"stock-own", newStockDH, newOwnDH},
	} {
		t.Run(dh.name, func(t *testing.T) {
			ini, res, _, _ := sessionPair(t, dh.ini(), dh.res(), 0)
			if ini.RemoteKey() != identity(t, 2).Public() || res.RemoteKey() != identity(t, 1).Public() {
				t.Fatal("RemoteKey is not the peer's agent key")
			}
			if h := ini.HandshakeHash(); len(h) != 32 || !bytes.Equal(h, res.HandshakeHash()) {
				t.Fatalf("handshake hashes differ or are not 32 bytes: %d", len(h))
			}
			exchange(t, ini, res)
		})
	}
}

// exchange sends every frame size both ways at once and checks what arrives.
func exchange(t *testing.T, a, b *Session) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for dir, pair := range [][2]*Session{{a, b}, {b, a}} {
		w, r := pair[0], pair[1]
		seed := byte(dir * 0x55)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i, n := range frameSizes {
				if err := w.WriteFrame(pattern(n, seed+byte(i))); err != nil {
					errs <- fmt.Errorf("direction %d: write %d bytes: %w", dir, n, err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i, n := range frameSizes {
				p, err := r.ReadFrame()
				if err != nil {
					errs <- fmt.Errorf("direction %d: read %d bytes: %w", dir, n, err)
					return
				}
				if !bytes.Equal(p, pattern(n, seed+byte(i))) {
					errs <- fmt.Errorf("direction %d: frame of %d bytes arrived as %d different bytes", dir, n, len(p))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestWireFraming checks the framing byte for byte: the messages a frame
// becomes, their lengths, and their plaintexts.
func TestWireFraming(t *testing.T) {
	for _, n := range frameSizes {
		ini, res, a, _ := sessionPair(t, newOwnDH(), newOwnDH(), 0)
		var out bytes.Buffer
		a.Writer = &out
		frame := pattern(n, 9)
		if err := ini.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
		msgs := splitWire(t, out.Bytes())
		want := []int{frameHeaderSize + min(n, firstChunkSize)}
		for rest := n - min(n, firstChunkSize); rest > 0; rest -= min(rest, maxChunkSize) {
			want = append(want, min(rest, maxChunkSize))
		}
		if len(msgs) != len(want) {
			t.Fatalf("%d-byte frame: %d messages, want %d", n, len(msgs), len(want))
		}
		var got []byte
		for i, m := range msgs {
			if len(m) != want[i]+tagSize || len(m) > 65535 {
				t.Fatalf("%d-byte frame: message %d is %d bytes, want %d", n, i, len(m), want[i]+tagSize)
			}
			p, err := res.recv.Decrypt(nil, nil, m)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p...)
		}
		if binary.BigEndian.Uint32(got) != uint32(n) || !bytes.Equal(got[4:], frame) {
			t.Fatalf("%d-byte frame: plaintext is not length ‖ frame", n)
		}
	}
}

// seal encrypts plaintexts with s's sending key, as a peer that ignores
// the framing rules would, and returns them as sent on the wire.
func seal(t testing.TB, s *Session, plaintexts ...[]byte) []byte {
	t.Helper()
	var msgs [][]byte
	for _, p := range plaintexts {
		m, err := s.send.Encrypt(nil, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	return wire(msgs...)
}

func header(n uint32, body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, n), body...)
}

func TestReadFrameRejects(t *testing.T) {
	tail := bytes.Repeat([]byte{0xee}, 1000) // must stay unread
	for _, tc := range []struct {
		name     string
		maxFrame int
		stream   func(peer *Session) []byte
		want     error
	}{
		{"no header", 0, func(p *Session) []byte { return seal(t, p, []byte{0, 0, 1}) }, ErrTransport},
		{"short first message", 0, func(p *Session) []byte { return seal(t, p, header(100, make([]byte, 50))) }, ErrTransport},
		{"long first message", 0, func(p *Session) []byte { return seal(t, p, header(10, make([]byte, 11))) }, ErrTransport},
		{"first message not full", 0, func(p *Session) []byte {
			return seal(t, p, header(70000, make([]byte, 100)), make([]byte, 70000-100))
		}, ErrTransport},
		{"short continuation", 0, func(p *Session) []byte {
			return seal(t, p, header(70000, make([]byte, firstChunkSize)), make([]byte, 70000-firstChunkSize-1))
		}, ErrTransport},
		{"long continuation", 0, func(p *Session) []byte {
			return seal(t, p, header(70000, make([]byte, firstChunkSize)), make([]byte, 70000-firstChunkSize+1))
		}, ErrTransport},
		{"over limit", 1000, func(p *Session) []byte { return seal(t, p, header(1001, make([]byte, 1001))) }, ErrFrameTooLarge},
		{"header 2^32-1", 0, func(p *Session) []byte { return seal(t, p, header(1<<32-1, nil)) }, ErrFrameTooLarge},
		{"tampered", 0, func(p *Session) []byte {
			b := seal(t, p, header(3, []byte("abc")))
			b[5] ^= 1
			return b
		}, ErrTransport},
		{"message too short for a tag", 0, func(p *Session) []byte { return wire(make([]byte, 10)) }, ErrTransport},
		{"truncated", 0, func(p *Session) []byte { return seal(t, p, header(3, []byte("abc")))[:10] }, io.ErrUnexpectedEOF},
		{"truncated after first message", 0, func(p *Session) []byte {
			return seal(t, p, header(70000, make([]byte, firstChunkSize)))
		}, io.ErrUnexpectedEOF},
		{"empty stream", 0, func(p *Session) []byte { return nil }, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ini, res, _, b := sessionPair(t, newOwnDH(), newOwnDH(), tc.maxFrame)
			stream := tc.stream(ini)
			r := bytes.NewReader(append(stream, tail...))
			if tc.want == io.ErrUnexpectedEOF || tc.want == io.EOF {
				r = bytes.NewReader(stream)
			}
			b.Reader = r
			_, err := res.ReadFrame()
			if !errors.Is(err, tc.want) {
				t.Fatalf("ReadFrame: %v, want %v", err, tc.want)
			}
			if tc.want != io.ErrUnexpectedEOF && tc.want != io.EOF && r.Len() < len(tail) {
				t.Fatalf("read %d bytes past the rejected message", len(tail)-r.Len())
			}
			if _, again := res.ReadFrame(); again != err {
				t.Fatalf("second ReadFrame: %v, want the same error again", again)
			}
		})
	}
}

// TestReadFrameWellFormed is the control for TestReadFrameRejects: the
// same hand-made messages, with the right lengths, are read.
func TestReadFrameWellFormed(t *testing.T) {
	ini, res, _, b := sessionPair(t, newOwnDH(), newOwnDH(), 0)
	frame := pattern(70000, 3)
	b.Reader = bytes.NewReader(seal(t, ini, header(70000, frame[:firstChunkSize]), frame[firstChunkSize:], header(0, nil)))
	if p, err := res.ReadFrame(); err != nil || !bytes.Equal(p, frame) {
		t.Fatalf("70000-byte frame: %v", err)
	}
	if p, err := res.ReadFrame(); err != nil || p == nil || len(p) != 0 {
		t.Fatalf("empty frame: %v %v", p, err)
	}
	if _, err := res.ReadFrame(); err != io.EOF {
		t.Fatalf("end of stream: %v, want io.EOF", err)
	}
}

// TestDeclaredLengthNotAllocated: a peer declaring 4 GiB makes the reader
// neither read past the declaring message nor allocate.
func TestDeclaredLengthNotAllocated(t *testing.T) {
	ini, res, _, b := sessionPair(t, newOwnDH(), newOwnDH(), 0)
	body := bytes.Repeat([]byte{1}, 1<<20) // what an honest sender would follow with
	r := bytes.NewReader(append(seal(t, ini, header(1<<32-1, body[:firstChunkSize])), body...))
	b.Reader = r
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := res.ReadFrame()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("ReadFrame: %v, want ErrFrameTooLarge", err)
	}
	if r.Len() != len(body) {
		t.Fatalf("read %d bytes of the refused frame's body", len(body)-r.Len())
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 256<<10 {
		t.Fatalf("allocated %d bytes refusing a frame", n)
	}
}

func TestWriteFrameLimit(t *testing.T) {
	ini, res, a, b := sessionPair(t, newOwnDH(), newOwnDH(), 1000)
	var out bytes.Buffer
	a.Writer = &out
	if err := ini.WriteFrame(make([]byte, 1001)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("WriteFrame(1001): %v, want ErrFrameTooLarge", err)
	}
	if out.Len() != 0 {
		t.Fatalf("refused frame wrote %d bytes", out.Len())
	}
	if err := ini.WriteFrame(pattern(1000, 1)); err != nil {
		t.Fatalf("WriteFrame(1000) after a refusal: %v", err)
	}
	b.Reader = &out
	if p, err := res.ReadFrame(); err != nil || !bytes.Equal(p, pattern(1000, 1)) {
		t.Fatalf("ReadFrame: %v", err)
	}
}

func TestWriteErrorSticks(t *testing.T) {
	ini, _, a, _ := sessionPair(t, newOwnDH(), newOwnDH(), 0)
	a.Writer = failWriter{}
	err := ini.WriteFrame([]byte("x"))
	if err == nil || !errors.Is(err, errBroken) {
		t.Fatalf("WriteFrame on a broken stream: %v", err)
	}
	a.Writer = io.Discard
	if again := ini.WriteFrame([]byte("x")); again != err {
		t.Fatalf("WriteFrame after an error: %v, want the same error", again)
	}
}

var errBroken = errors.New("broken stream")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errBroken }

func TestClose(t *testing.T) {
	ini, res, _, _ := sessionPair(t, newOwnDH(), newOwnDH(), 0)
	send, recv := ini.send, ini.recv
	if send.UnsafeKey() == [32]byte{} || recv.UnsafeKey() == [32]byte{} {
		t.Fatal("cipher keys are zero before Close")
	}
	if err := ini.Close(); err != nil {
		t.Fatal(err)
	}
	if send.UnsafeKey() != [32]byte{} || recv.UnsafeKey() != [32]byte{} {
		t.Fatal("Close left the cipher keys in place")
	}
	if err := ini.WriteFrame(nil); err != ErrClosed {
		t.Fatalf("WriteFrame after Close: %v", err)
	}
	if _, err := ini.ReadFrame(); err != ErrClosed {
		t.Fatalf("ReadFrame after Close: %v", err)
	}
	if err := ini.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	res.Close()
}

// TestHandshakeZeroes: the handshake leaves no private key in the slices it
// handed to flynn/noise.
func TestHandshakeZeroes(t *testing.T) {
	id := identity(t, 1)
	h, err := newHandshake(Config{Local: id}, newDH25519(), true, mustX25519(t, identity(t, 2).Public()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.createMessage1(); err != nil {
		t.Fatal(err)
	}
	static, eph := h.static.Private, h.state.LocalEphemeral().Private
	if isZero(static) || isZero(eph) || len(eph) != 32 {
		t.Fatal("keys zero before zero()")
	}
	h.zero()
	if !isZero(static) || !isZero(eph) || h.state != nil {
		t.Fatal("zero() left private keys")
	}
}

// TestSuiteName pins the protocol name flynn/noise hashes in.
func TestSuiteName(t *testing.T) {
	if protocolName != "Noise_IK_25519_ChaChaPoly_BLAKE2s" || prologue != "n2n/1" {
		t.Fatal("protocol constants changed")
	}
	for _, dh := range []noise.DHFunc{newDH25519(), noise.DH25519} {
		suite := noise.NewCipherSuite(dh, noise.CipherChaChaPoly, noise.HashBLAKE2s)
		if got := "Noise_" + noise.HandshakeIK.Name + "_" + string(suite.Name()); got != protocolName {
			t.Fatalf("protocol name %q", got)
		}
	}
}
