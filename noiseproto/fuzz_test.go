package noiseproto

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"testing"

	"github.com/flynn/noise"

	"github.com/n2n-dev/n2n/keys"
)

// fuzzMaxFrame is small enough that fuzzed headers cross it and frames of
// several messages fit under it.
const fuzzMaxFrame = 3 * maxChunkSize

// FuzzReadFrame feeds arbitrary bytes to the reader of a completed session
// (the vector's initiator). The first byte picks how:
//
//	even: the rest is the raw stream, as an attacker without keys sends it;
//	odd:  the rest is records (2-byte length n, then up to n bytes, zero
//	      padded to n, n ≤ 65519), each sealed with the peer's key first: a
//	      peer that holds the keys but breaks the framing.
//
// ReadFrame must never panic, never return more than MaxFrame bytes, and
// never allocate much more than MaxFrame per call.
func FuzzReadFrame(f *testing.F) {
	v := readVectors(f)
	suite := noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2s)
	key := vectorRecvKey(f, v)

	reply := v["reply"]
	f.Add(append([]byte{0}, wire(v["transport2"])...))
	f.Add(append([]byte{1}, record(header(uint32(len(reply)), reply))...))
	f.Add(append([]byte{1}, record(header(0, nil))...))
	f.Add(append(append([]byte{1}, record(header(70000, nil), firstChunkSize+frameHeaderSize)...),
		record(nil, 70000-firstChunkSize)...))
	f.Add(append([]byte{1}, record(header(fuzzMaxFrame+1, nil))...))
	f.Add(append([]byte{1}, record(header(1<<32-1, nil))...))

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		stream := data[1:]
		if data[0]&1 == 1 {
			stream = sealRecords(t, noise.UnsafeNewCipherState(suite, key, 0), stream)
		}
		s := &Session{
			rw:       &rw{bytes.NewReader(stream), io.Discard},
			recv:     noise.UnsafeNewCipherState(suite, key, 0),
			maxFrame: fuzzMaxFrame,
		}
		for {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			p, err := s.ReadFrame()
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > fuzzMaxFrame+256<<10 {
				t.Fatalf("ReadFrame allocated %d bytes, limit %d", n, fuzzMaxFrame)
			}
			if err != nil {
				return
			}
			if len(p) > fuzzMaxFrame {
				t.Fatalf("ReadFrame returned %d bytes, limit %d", len(p), fuzzMaxFrame)
			}
		}
	})
}

// vectorRecvKey is the vector initiator's receiving key, from a replay of
// the vector handshake.
func vectorRecvKey(t testing.TB, v map[string][]byte) [32]byte {
	t.Helper()
	iniID, err := keys.FromSeed(v["init_seed"])
	if err != nil {
		t.Fatal(err)
	}
	var respKey keys.PublicKey
	copy(respKey[:], v["resp_agent_key"])
	s, err := Initiate(&rw{bytes.NewReader(wire(v["message2"])), io.Discard},
		Config{Local: iniID, Random: bytes.NewReader(v["init_ephemeral"])}, respKey)
	if err != nil {
		t.Fatal(err)
	}
	return s.recv.UnsafeKey()
}

// record is one odd-mode record of FuzzReadFrame: p declared as size bytes
// (default len(p)).
func record(p []byte, size ...int) []byte {
	n := len(p)
	if len(size) > 0 {
		n = size[0]
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(n)), p...)
}

func sealRecords(t *testing.T, cs *noise.CipherState, b []byte) []byte {
	var out []byte
	for len(b) >= 2 {
		n := min(int(binary.BigEndian.Uint16(b)), maxChunkSize)
		b = b[2:]
		p := make([]byte, n)
		b = b[copy(p, b):]
		m, err := cs.Encrypt(nil, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, wire(m)...)
	}
	return out
}

// FuzzAcceptMessage1 feeds arbitrary bytes to Accept (the vector's
// responder) as message 1, and as the raw stream. It must never panic, and
// it may only succeed for the vector's initiator.
func FuzzAcceptMessage1(f *testing.F) {
	v := readVectors(f)
	respID, err := keys.FromSeed(v["resp_seed"])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v["message1"])
	f.Add(wire(v["message1"]))
	f.Add(v["message1"][:message1Size-1])
	f.Add(append(wire(v["message1"]), v["transport1"]...))

	f.Fuzz(func(t *testing.T, data []byte) {
		streams := [][]byte{data}
		if len(data) <= maxMessageSize {
			streams = append(streams, wire(data))
		}
		for _, stream := range streams {
			s, err := Accept(&rw{bytes.NewReader(stream), io.Discard},
				Config{Local: respID, Random: bytes.NewReader(v["resp_ephemeral"])})
			if err != nil {
				continue
			}
			if k := s.RemoteKey(); !bytes.Equal(k[:], v["init_agent_key"]) {
				t.Fatalf("accepted a message 1 claiming another agent key")
			}
		}
	})
}
