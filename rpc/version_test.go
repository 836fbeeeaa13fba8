package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// The version rule (PROTOCOL.md §12), each case against a real session.

// sendRaw sends frame, written by hand, as request id on the session, and
// returns where its answer will come (wait with c.wait).
func (c *clientSession) sendRaw(t *testing.T, id uint64, frame []byte) chan Response {
	t.Helper()
	answer := make(chan Response, 1)
	c.mu.Lock()
	c.pending[id] = answer
	c.active++
	c.mu.Unlock()
	if err := c.w.write(func() []byte { c.signed = true; return frame }, false); err != nil {
		t.Fatal(err)
	}
	return answer
}

// sealByHand is {1: request, 2: signature} with the signature of id for
// the session with handshake hash h, written without SealRequest.
func sealByHand(id *keys.Identity, h, request []byte) []byte {
	digest := keys.Sum256(request)
	sig := id.Sign(append(append([]byte("n2n request v1"), h...), digest[:]...))
	b := detcbor.AppendHead([]byte{0xa2, 0x01}, detcbor.MajorBytes, uint64(len(request)))
	b = append(append(b, request...), 0x02, 0x58, 0x40)
	return append(b, sig...)
}

// v11Call is a "v1.1" call by hand: {1: id, 2: "call", 3: "f", 4: payload,
// 7: 10 s, 24: "high"}, 24 being an extension field v1 does not know.
func v11Call(id byte, payload string) []byte {
	b := []byte{0xa6, 0x01, id, 0x02, 0x64, 'c', 'a', 'l', 'l', 0x03, 0x61, 'f', 0x04, 0x40 | byte(len(payload))}
	b = append(b, payload...)
	return append(b, 0x07, 0x1a, 0x00, 0x98, 0x96, 0x80, 0x18, 0x18, 0x64, 'h', 'i', 'g', 'h')
}

// TestExtensionFieldsServed: a peer of a later minor version sends
// requests with a field under an extension key, first signed, then plain: a
// v1 callee serves both, and its dispatcher sees the core fields (and the
// extension field, kept aside).
func TestExtensionFieldsServed(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var seen atomic.Int32
	go serve(context.Background(), s, callee, nil, dispatchFunc(func(_ context.Context, in *Incoming) Response {
		if len(in.Request.Extensions) == 1 && in.Request.Extensions[0].Key == 24 && string(in.Request.Extensions[0].Value) == "\x64high" {
			seen.Add(1)
		}
		return Response{Status: StatusOK, Payload: append([]byte("ack:"), in.Request.Payload...)}
	}), time.Now, nil)
	cs, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer cs.close()
	for i, frame := range [][]byte{sealByHand(caller, cs.s.HandshakeHash(), v11Call(1, "one")), v11Call(2, "two")} {
		id := uint64(i + 1)
		resp, err := cs.wait(context.Background(), id, cs.sendRaw(t, id, frame), time.Now().Add(10*time.Second))
		if err != nil || resp.ID != id || resp.Status != StatusOK || string(resp.Payload) != "ack:"+[]string{"one", "two"}[i] {
			t.Fatalf("request %d: %+v %v", id, resp, err)
		}
	}
	if seen.Load() != 2 {
		t.Fatalf("the dispatcher saw the extension field in %d requests of 2", seen.Load())
	}
}

// TestUnknownKindAnswered: a request of a kind this version does not know
// is answered bad_request under its ID, and the session goes on.
func TestUnknownKindAnswered(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	go serve(context.Background(), s, callee, nil, echo(&calls), time.Now, nil)
	resps, err := exchange(c, caller, callee.Public(),
		&Request{ID: 1, Kind: "subscribe", Timeout: tenSeconds},
		&Request{ID: 2, Kind: KindCall, Function: "f", Payload: []byte("x"), Timeout: tenSeconds},
		&Request{ID: 3, Kind: "", Timeout: tenSeconds},
		&Request{ID: 4, Kind: KindPing, Timeout: tenSeconds})
	if err != nil {
		t.Fatal(err)
	}
	want := []Status{StatusBadRequest, StatusOK, StatusBadRequest, StatusOK}
	for i, r := range resps {
		if r.ID != uint64(i+1) || r.Status != want[i] {
			t.Errorf("request %d: %+v, want %s", i+1, r, want[i])
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("the dispatcher saw %d requests, want the call alone", calls.Load())
	}
}

// TestUnknownCoreKeyMalformed: a request with a core key this version does
// not know, or with key 6 (the retired deadline), is malformed: the callee
// answers bad_request under ID 0 and ends the session, having run nothing.
func TestUnknownCoreKeyMalformed(t *testing.T) {
	for name, req := range map[string][]byte{
		// {1: 2, 2: "ping", 7: 10 s, 8: 1}
		"key 8": {0xa4, 0x01, 0x02, 0x02, 0x64, 'p', 'i', 'n', 'g', 0x07, 0x1a, 0x00, 0x98, 0x96, 0x80, 0x08, 0x01},
		// {1: 2, 2: "ping", 6: a time in µs, 7: 10 s}
		"key 6": {0xa4, 0x01, 0x02, 0x02, 0x64, 'p', 'i', 'n', 'g', 0x06, 0x1b, 0x00, 0x06, 0x0a, 0x24, 0x18, 0x1e, 0x40, 0x00,
			0x07, 0x1a, 0x00, 0x98, 0x96, 0x80},
	} {
		t.Run(name, func(t *testing.T) {
			caller, callee := ids(t)
			c, s := net.Pipe()
			var calls atomic.Int32
			done := make(chan error, 1)
			go func() { done <- serve(context.Background(), s, callee, nil, echo(&calls), time.Now, nil) }()
			cs, err := dialSession(c, caller, nil, callee.Public())
			if err != nil {
				t.Fatal(err)
			}
			defer cs.close()
			if resp, _, err := cs.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "f", Timeout: tenSeconds}); err != nil || resp.Status != StatusOK {
				t.Fatalf("first request: %+v %v", resp, err)
			}
			_, err = cs.wait(context.Background(), 2, cs.sendRaw(t, 2, req), time.Now().Add(10*time.Second))
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("err %v, want the session ended by the callee's refusal", err)
			}
			if err := <-done; err == nil {
				t.Fatal("the callee served the session to its end without error")
			}
			if calls.Load() != 1 {
				t.Fatalf("calls %d", calls.Load())
			}
		})
	}
}

// handCallee accepts a session on rw and answers each request with the
// frame answer gives for it, written by hand: a callee of another version.
func handCallee(rw io.ReadWriter, id *keys.Identity, answer func(req Request) []byte) error {
	s, err := noiseproto.Accept(rw, noiseproto.Config{Local: id})
	if err != nil {
		return err
	}
	defer s.Close()
	for first := true; ; first = false {
		b, err := s.ReadFrame()
		if err != nil {
			return err
		}
		var req Request
		if first {
			req, err = OpenRequest(b, s.RemoteKey(), s.HandshakeHash())
		} else {
			req, err = DecodeRequest(b)
		}
		if err != nil {
			return err
		}
		if err := s.WriteFrame(answer(req)); err != nil {
			return err
		}
	}
}

// TestCallerReadsLaterResponses: a response with a field under an
// extension key is read, the field kept; a response of a status this
// version does not know is that request's remote error, and the session
// goes on; a response with an unknown core key ends the session.
func TestCallerReadsLaterResponses(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	go handCallee(s, callee, func(req Request) []byte {
		switch string(req.Payload) {
		case "ext": // {1: id, 2: "ok", 3: "fine", 25: true}
			return []byte{0xa4, 0x01, byte(req.ID), 0x02, 0x62, 'o', 'k', 0x03, 0x44, 'f', 'i', 'n', 'e', 0x18, 0x19, 0xf5}
		case "status": // {1: id, 2: "quota_exceeded", 4: "over quota"}
			b := append([]byte{0xa3, 0x01, byte(req.ID), 0x02, 0x6e}, "quota_exceeded"...)
			return append(append(b, 0x04, 0x6a), "over quota"...)
		}
		// {1: id, 2: "ok", 5: 1}
		return []byte{0xa3, 0x01, byte(req.ID), 0x02, 0x62, 'o', 'k', 0x05, 0x01}
	})
	cs, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer cs.close()
	resp, _, err := cs.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "f", Payload: []byte("ext"), Timeout: tenSeconds})
	if err != nil || resp.Status != StatusOK || string(resp.Payload) != "fine" || len(resp.Extensions) != 1 ||
		resp.Extensions[0].Key != 25 || !bytes.Equal(resp.Extensions[0].Value, []byte{0xf5}) {
		t.Fatalf("response with an extension field: %+v %v", resp, err)
	}
	resp, _, err = cs.do(context.Background(), &Request{ID: 2, Kind: KindCall, Function: "f", Payload: []byte("status"), Timeout: tenSeconds})
	var se *StatusError
	if err != nil || !errors.As(resp.Err(), &se) || se.Status != "quota_exceeded" || se.Msg != "over quota" {
		t.Fatalf("unknown status: %+v %v", resp, err)
	}
	if !cs.alive() {
		t.Fatal("an unknown status ended the session")
	}
	_, _, err = cs.do(context.Background(), &Request{ID: 3, Kind: KindCall, Function: "f", Payload: []byte("core"), Timeout: tenSeconds})
	if !errors.Is(err, ErrBadMessage) || cs.alive() {
		t.Fatalf("a response with an unknown core key: %v, session alive %v", err, cs.alive())
	}
}
