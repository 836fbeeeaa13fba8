package rpc

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// edgeLengths cross every CBOR head size.
var edgeLengths = []int{0, 1, 23, 24, 255, 256, 65535, 65536, 70000}

// edgeInts cross every CBOR head size, both signs.
var edgeInts = []int64{0, 1, 23, 24, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
	-1, -24, -25, -256, -257, -65536, -65537, -math.MaxUint32 - 1, -math.MaxUint32 - 2, math.MinInt64}

func randomRequest(r *rand.Rand) Request {
	text := func() string {
		b := make([]byte, edgeLengths[r.IntN(len(edgeLengths)-2)])
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		return string(b)
	}
	bytesOf := func() []byte {
		if r.IntN(4) == 0 {
			return nil
		}
		b := make([]byte, edgeLengths[r.IntN(len(edgeLengths))])
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	req := Request{
		ID:       uint64(edgeInts[r.IntN(len(edgeInts))]),
		Kind:     []Kind{KindSend, KindCall, KindPing, "", Kind(text())}[r.IntN(5)],
		Function: []string{"", "f", text()}[r.IntN(3)],
		Payload:  bytesOf(),
		Secret:   bytesOf(),
		Deadline: edgeInts[r.IntN(len(edgeInts))],
	}
	if r.IntN(2) == 0 {
		req.ID = r.Uint64()
	}
	return req
}

// TestRequestEncodingByHand: appendRequest writes what detcbor.EncMode writes,
// isCanonicalRequest accepts exactly that, and sealRequest is the
// signedRequest detcbor.EncMode would write.
func TestRequestEncodingByHand(t *testing.T) {
	id, _ := keys.Generate()
	hash := bytes.Repeat([]byte{7}, 32)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		req := randomRequest(r)
		if i < len(edgeInts) {
			req.ID, req.Deadline = uint64(edgeInts[i]), edgeInts[i]
		}
		want := detcbor.Marshal(&req)
		got, at := appendRequest(nil, &req, true)
		if !bytes.Equal(got, want) {
			t.Fatalf("request %d: by hand %x…, detcbor.EncMode %x…", i, got[:min(len(got), 40)], want[:min(len(want), 40)])
		}
		if len(req.Payload) > 0 && !bytes.Equal(got[at:at+len(req.Payload)], req.Payload) {
			t.Fatalf("request %d: payload offset %d is wrong", i, at)
		}
		if !isCanonicalRequest(want, &req) {
			t.Fatalf("request %d: its own encoding is not canonical", i)
		}
		sealed := sealRequest(id, hash, &req)
		if w := detcbor.Marshal(&signedRequest{Request: want, Signature: id.Sign(signingInput(hash, want))}); !bytes.Equal(sealed, w) {
			t.Fatalf("request %d: sealed by hand differs from detcbor.EncMode's", i)
		}
		if i%100 == 0 && len(want) > 0 {
			// Any one byte changed, added or dropped is no longer r's encoding.
			for _, bad := range [][]byte{
				append(bytes.Clone(want), 0),
				want[:len(want)-1],
				flip(want, r.IntN(len(want))),
			} {
				if isCanonicalRequest(bad, &req) {
					t.Fatalf("request %d: altered encoding taken for canonical", i)
				}
			}
		}
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 1 << (i % 8)
	return b
}

// TestDecodeRequestRejectsNonCanonical: encodings that decode to a valid
// request but are not its canonical encoding are refused.
func TestDecodeRequestRejectsNonCanonical(t *testing.T) {
	good := detcbor.Marshal(&Request{ID: 1, Kind: KindSend, Payload: []byte("abc"), Deadline: 5})
	if _, err := DecodeRequest(good); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		// map{1: 1, 2: "send", 4: h'616263', 6: 5} with one thing changed
		"payload head not shortest":  {0xa4, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x58, 0x03, 'a', 'b', 'c', 0x06, 0x05},
		"ID head not shortest":       {0xa4, 0x01, 0x18, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x06, 0x05},
		"keys out of order":          {0xa4, 0x02, 0x64, 's', 'e', 'n', 'd', 0x01, 0x01, 0x04, 0x43, 'a', 'b', 'c', 0x06, 0x05},
		"empty payload present":      {0xa4, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x40, 0x06, 0x05},
		"empty function present":     {0xa5, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x03, 0x60, 0x04, 0x43, 'a', 'b', 'c', 0x06, 0x05},
		"map head not shortest":      {0xb8, 0x04, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x06, 0x05},
		"deadline head not shortest": {0xa4, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x06, 0x19, 0x00, 0x05},
	} {
		_, err := DecodeRequest(b)
		if !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// BenchmarkRequest is the caller's sealRequest and the callee's
// openRequest (decode, signature, canonical check) of one request.
func BenchmarkRequest(b *testing.B) {
	id, _ := keys.Generate()
	hash := make([]byte, 32)
	for _, size := range []struct {
		name string
		n    int
	}{{"100B", 100}, {"1MiB", 1 << 20}, {"16MiB", MaxPayload}} {
		req := &Request{ID: 1, Kind: KindCall, Function: "f", Payload: bytes.Repeat([]byte{'x'}, size.n), Deadline: 1}
		b.Run("seal/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				sealRequest(id, hash, req)
			}
		})
		sealed := sealRequest(id, hash, req)
		b.Run("open/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := openRequest(sealed, id.Public(), hash); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(detcbor.Marshal(&Request{ID: 1, Kind: KindCall, Function: "publish_post", Payload: []byte("x"), Secret: make([]byte, 64), Deadline: 1}))
	f.Add(detcbor.Marshal(&Request{ID: 2, Kind: KindPing}))
	f.Add(detcbor.Marshal(&signedRequest{Request: []byte{1}, Signature: []byte{2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err == nil && !bytes.Equal(detcbor.Marshal(&r), b) {
			t.Fatalf("decode→encode changed bytes")
		}
		DecodeResponse(b)
		var k keys.PublicKey
		openRequest(b, k, nil)
	})
}

// TestLargestMessagesFitAFrame: a request or response at the payload limit,
// with every other field at its largest, fits in the frame noiseproto
// accepts (noiseproto.DefaultMaxFrame, which both sides use).
func TestLargestMessagesFitAFrame(t *testing.T) {
	id, _ := keys.Generate()
	req := &Request{ID: math.MaxUint64, Kind: KindCall, Function: strings.Repeat("f", 64), Payload: make([]byte, MaxPayload),
		Secret: make([]byte, 64), Deadline: math.MinInt64}
	if n := len(sealRequest(id, make([]byte, 32), req)); n > noiseproto.DefaultMaxFrame {
		t.Errorf("sealed request of %d bytes, frame limit %d", n, noiseproto.DefaultMaxFrame)
	}
	resp := &Response{ID: math.MaxUint64, Status: StatusHandlerError, Payload: make([]byte, MaxPayload), Error: strings.Repeat("e", 4<<10)}
	if n := len(detcbor.Marshal(resp)); n > noiseproto.DefaultMaxFrame {
		t.Errorf("response of %d bytes, frame limit %d", n, noiseproto.DefaultMaxFrame)
	}
}
