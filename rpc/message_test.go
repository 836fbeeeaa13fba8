package rpc

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// edgeLengths cross every CBOR head size.
var edgeLengths = []int{0, 1, 23, 24, 255, 256, 65535, 65536, 70000}

// edgeInts cross every CBOR head size.
var edgeInts = []uint64{0, 1, 23, 24, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxUint64}

type random struct{ *rand.Rand }

func (r random) text() string {
	b := make([]byte, edgeLengths[r.IntN(len(edgeLengths)-2)])
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

func (r random) bytes() []byte {
	if r.IntN(4) == 0 {
		return nil
	}
	b := make([]byte, edgeLengths[r.IntN(len(edgeLengths))])
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func (r random) uint() uint64 {
	if r.IntN(2) == 0 {
		return r.Uint64()
	}
	return edgeInts[r.IntN(len(edgeInts))]
}

// extensions are up to three extension fields with canonical values.
func (r random) extensions() []Extension {
	var ext []Extension
	key := uint64(23)
	for range r.IntN(4) {
		key += 1 + uint64(r.IntN(300))
		v := []any{r.uint(), r.text(), []any{r.uint(), "x"}, map[string]any{"a": r.uint()}, true, nil}[r.IntN(6)]
		if s, ok := v.(string); ok && len(s) > 1000 {
			v = s[:1000]
		}
		ext = append(ext, Extension{Key: key, Value: detcbor.Marshal(v)})
	}
	return ext
}

func randomRequest(r random) Request {
	return Request{
		ID:         r.uint(),
		Kind:       []Kind{KindSend, KindCall, KindPing, "", Kind(r.text())}[r.IntN(5)],
		Function:   []string{"", "f", r.text()}[r.IntN(3)],
		Payload:    r.bytes(),
		Secret:     r.bytes(),
		Timeout:    r.uint(),
		Extensions: r.extensions(),
	}
}

func randomResponse(r random) Response {
	return Response{
		ID:         r.uint(),
		Status:     []Status{StatusOK, StatusTimeout, "", Status(r.text())}[r.IntN(4)],
		Payload:    r.bytes(),
		Error:      []string{"", "e", r.text()}[r.IntN(3)],
		Extensions: r.extensions(),
	}
}

// TestEncodingByHand: the hand encoders write what detcbor.EncMode writes
// (extension fields after the core ones), the canonical checks accept
// exactly that, the decoders give back what was encoded, and SealRequest is
// the signed request detcbor.EncMode would write.
func TestEncodingByHand(t *testing.T) {
	id, _ := keys.Generate()
	hash := bytes.Repeat([]byte{7}, 32)
	r := random{rand.New(rand.NewPCG(1, 2))}
	for i := range 3000 {
		req := randomRequest(r)
		if i < len(edgeInts) {
			req.ID, req.Timeout = edgeInts[i], edgeInts[i]
		}
		want := detcbor.AppendExtensions(detcbor.Marshal(&req), req.Extensions)
		got, at := appendRequest(nil, &req, true)
		if !bytes.Equal(got, want) || !bytes.Equal(EncodeRequest(&req), want) {
			t.Fatalf("request %d: by hand %x…, detcbor.EncMode %x…", i, got[:min(len(got), 40)], want[:min(len(want), 40)])
		}
		if len(req.Payload) > 0 && !bytes.Equal(got[at:at+len(req.Payload)], req.Payload) {
			t.Fatalf("request %d: payload offset %d is wrong", i, at)
		}
		if !isCanonicalRequest(want, &req) {
			t.Fatalf("request %d: its own encoding is not canonical", i)
		}
		if dec, err := DecodeRequest(want); req.ID != 0 && (err != nil || !bytes.Equal(EncodeRequest(&dec), want)) {
			t.Fatalf("request %d: does not decode to itself: %v", i, err)
		}
		sealed := SealRequest(id, hash, &req)
		if w := detcbor.Marshal(&signedRequest{Request: want, Signature: id.Sign(SigningInput(hash, want))}); !bytes.Equal(sealed, w) {
			t.Fatalf("request %d: sealed by hand differs from detcbor.EncMode's", i)
		}
		resp := randomResponse(r)
		wantResp := detcbor.AppendExtensions(detcbor.Marshal(&resp), resp.Extensions)
		if got := EncodeResponse(&resp); !bytes.Equal(got, wantResp) {
			t.Fatalf("response %d: by hand %x…, detcbor.EncMode %x…", i, got[:min(len(got), 40)], wantResp[:min(len(wantResp), 40)])
		}
		if dec, err := DecodeResponse(wantResp); err != nil || !bytes.Equal(EncodeResponse(&dec), wantResp) {
			t.Fatalf("response %d: does not decode to itself: %v", i, err)
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

// TestDecodeRequestRefuses: encodings that are not a v1 request's
// canonical encoding are refused as malformed.
func TestDecodeRequestRefuses(t *testing.T) {
	// {1: 1, 2: "send", 4: h'616263', 7: 5}
	good := []byte{0xa4, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05}
	if r, err := DecodeRequest(good); err != nil || r.ID != 1 || r.Kind != KindSend || string(r.Payload) != "abc" || r.Timeout != 5 {
		t.Fatalf("%+v %v", r, err)
	}
	for name, b := range map[string][]byte{
		"payload head not shortest": {0xa4, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x58, 0x03, 'a', 'b', 'c', 0x07, 0x05},
		"ID head not shortest":      {0xa4, 0x01, 0x18, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05},
		"keys out of order":         {0xa4, 0x02, 0x64, 's', 'e', 'n', 'd', 0x01, 0x01, 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05},
		"empty payload present":     {0xa4, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x40, 0x07, 0x05},
		"empty function present":    {0xa5, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x03, 0x60, 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05},
		"map head not shortest":     {0xb8, 0x04, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05},
		"timeout head not shortest": {0xa4, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x19, 0x00, 0x05},
		"timeout a float":           {0xa4, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0xf9, 0x45, 0x00},
		"no timeout":                {0xa3, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c'},
		"ID 0":                      {0xa4, 0x01, 0x00, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05},
		"key 6, the old deadline":   {0xa5, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x06, 0x05, 0x07, 0x05},
		"unknown core key 8":        {0xa5, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05, 0x08, 0x01},
		"unknown core key 23":       {0xa5, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05, 0x17, 0x01},
		"extension not canonical":   {0xa5, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05, 0x18, 0x18, 0x18, 0x01},
		"extension before core key": {0xa5, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x18, 0x18, 0x01, 0x07, 0x05},
		"kind not text":             {0xa4, 0x01, 0x01, 0x02, 0x44, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05},
	} {
		if _, err := DecodeRequest(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDecodeKeepsExtensions: a request or response with fields under
// extension keys decodes to its core fields and keeps the extension fields
// as they came, so that it encodes to the same bytes; a request of an
// unknown kind and a response of an unknown status decode too (the session
// answers the one, the caller reports the other).
func TestDecodeKeepsExtensions(t *testing.T) {
	// {1: 1, 2: "send", 4: h'616263', 7: 5, 24: "hi", 300: [1, true]}
	req := []byte{0xa6, 0x01, 0x01, 0x02, 0x64, 's', 'e', 'n', 'd', 0x04, 0x43, 'a', 'b', 'c', 0x07, 0x05,
		0x18, 0x18, 0x62, 'h', 'i', 0x19, 0x01, 0x2c, 0x82, 0x01, 0xf5}
	r, err := DecodeRequest(req)
	if err != nil || r.ID != 1 || r.Kind != KindSend || string(r.Payload) != "abc" || r.Timeout != 5 || len(r.Extensions) != 2 ||
		r.Extensions[0].Key != 24 || string(r.Extensions[0].Value) != "\x62hi" || r.Extensions[1].Key != 300 {
		t.Fatalf("%+v %v", r, err)
	}
	if !bytes.Equal(EncodeRequest(&r), req) {
		t.Fatal("does not encode again to the same bytes")
	}
	// {1: 9, 2: "quota_exceeded", 25: null}
	resp := append(append([]byte{0xa3, 0x01, 0x09, 0x02, 0x6e}, "quota_exceeded"...), 0x18, 0x19, 0xf6)
	rs, err := DecodeResponse(resp)
	if err != nil || rs.ID != 9 || rs.Status != "quota_exceeded" || rs.Status.Known() || len(rs.Extensions) != 1 {
		t.Fatalf("%+v %v", rs, err)
	}
	if se := new(StatusError); !errors.As(rs.Err(), &se) || !strings.Contains(se.Error(), `"quota_exceeded"`) {
		t.Fatalf("unknown status as an error: %v", rs.Err())
	}
	// {1: 2, 2: "subscribe", 7: 5}
	if r, err := DecodeRequest(append(append([]byte{0xa3, 0x01, 0x02, 0x02, 0x69}, "subscribe"...), 0x07, 0x05)); err != nil || r.Kind != "subscribe" {
		t.Fatalf("unknown kind: %+v %v", r, err)
	}
	for name, b := range map[string][]byte{
		"response key 5":      {0xa3, 0x01, 0x01, 0x02, 0x62, 'o', 'k', 0x05, 0x01},
		"response non-canon":  {0xa2, 0x01, 0x18, 0x01, 0x02, 0x62, 'o', 'k'},
		"response no status":  {0xa1, 0x01, 0x01},
		"response empty pay":  {0xa3, 0x01, 0x01, 0x02, 0x62, 'o', 'k', 0x03, 0x40},
		"response status int": {0xa2, 0x01, 0x01, 0x02, 0x01},
	} {
		if _, err := DecodeResponse(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTimeoutDuration: the timeout a callee honours is capped, and
// SetTimeout rounds up so that time left never becomes no time.
func TestTimeoutDuration(t *testing.T) {
	for _, tc := range []struct {
		us   uint64
		want time.Duration
	}{{0, 0}, {1, time.Microsecond}, {30_000_000, 30 * time.Second}, {uint64(MaxTimeout / time.Microsecond), MaxTimeout},
		{uint64(MaxTimeout/time.Microsecond) + 1, MaxTimeout}, {math.MaxUint64, MaxTimeout}} {
		r := Request{Timeout: tc.us}
		if got := r.TimeoutDuration(); got != tc.want {
			t.Errorf("timeout %d µs: %v, want %v", tc.us, got, tc.want)
		}
	}
	var r Request
	for d, want := range map[time.Duration]uint64{-time.Second: 0, 0: 0, time.Nanosecond: 1, time.Microsecond: 1, 1001 * time.Nanosecond: 2, time.Minute: 60_000_000} {
		if r.SetTimeout(d); r.Timeout != want {
			t.Errorf("SetTimeout(%v): %d µs, want %d", d, r.Timeout, want)
		}
	}
}

// BenchmarkRequest is the caller's SealRequest and the callee's
// OpenRequest (decode, signature, canonical check) of one request.
func BenchmarkRequest(b *testing.B) {
	id, _ := keys.Generate()
	hash := make([]byte, 32)
	for _, size := range []struct {
		name string
		n    int
	}{{"100B", 100}, {"1MiB", 1 << 20}, {"16MiB", MaxPayload}} {
		req := &Request{ID: 1, Kind: KindCall, Function: "f", Payload: bytes.Repeat([]byte{'x'}, size.n), Timeout: 1}
		b.Run("seal/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				SealRequest(id, hash, req)
			}
		})
		sealed := SealRequest(id, hash, req)
		b.Run("open/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := OpenRequest(sealed, id.Public(), hash); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(EncodeRequest(&Request{ID: 1, Kind: KindCall, Function: "publish_post", Payload: []byte("x"), Secret: make([]byte, 64), Timeout: 1}))
	f.Add(EncodeRequest(&Request{ID: 2, Kind: KindPing, Extensions: []Extension{{Key: 24, Value: []byte{0x61, 'x'}}}}))
	f.Add(EncodeResponse(&Response{ID: 2, Status: "quota", Error: "e", Extensions: []Extension{{Key: 25, Value: []byte{0xf5}}}}))
	f.Add(detcbor.Marshal(&signedRequest{Request: []byte{1}, Signature: []byte{2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeRequest(b); err == nil && !bytes.Equal(EncodeRequest(&r), b) {
			t.Fatalf("request: decode→encode changed bytes")
		}
		if r, err := DecodeResponse(b); err == nil && !bytes.Equal(EncodeResponse(&r), b) {
			t.Fatalf("response: decode→encode changed bytes")
		}
		var k keys.PublicKey
		OpenRequest(b, k, nil)
	})
}

// TestLargestMessagesFitAFrame: a request or response at the payload limit,
// with every other field at its largest, fits in the frame noiseproto
// accepts (noiseproto.DefaultMaxFrame, which both sides use).
func TestLargestMessagesFitAFrame(t *testing.T) {
	id, _ := keys.Generate()
	ext := []Extension{{Key: math.MaxUint64, Value: detcbor.Marshal(make([]byte, detcbor.MaxExtensionBytes-9-3))}}
	req := &Request{ID: math.MaxUint64, Kind: KindCall, Function: strings.Repeat("f", 64), Payload: make([]byte, MaxPayload),
		Secret: make([]byte, 64), Timeout: math.MaxUint64, Extensions: ext}
	if n := len(SealRequest(id, make([]byte, 32), req)); n > noiseproto.DefaultMaxFrame {
		t.Errorf("sealed request of %d bytes, frame limit %d", n, noiseproto.DefaultMaxFrame)
	}
	resp := &Response{ID: math.MaxUint64, Status: StatusHandlerError, Payload: make([]byte, MaxPayload), Error: strings.Repeat("e", 4<<10), Extensions: ext}
	if n := len(EncodeResponse(resp)); n > noiseproto.DefaultMaxFrame {
		t.Errorf("response of %d bytes, frame limit %d", n, noiseproto.DefaultMaxFrame)
	}
}
