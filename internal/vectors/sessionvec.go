package vectors

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/rpc"
)

// session.txt: requests and responses on a session.

// exchange is one request of the session and its response.
type exchange struct {
	req  rpc.Request
	resp rpc.Response
}

// sessionExchanges are the session's requests, in the order sent: the
// first is signed, the others plain.
var sessionExchanges = []exchange{
	{
		rpc.Request{ID: 1, Kind: rpc.KindCall, Function: "echo", Payload: []byte("hello"), Secret: run(0x80, 64), Timeout: 30_000_000},
		rpc.Response{ID: 1, Status: rpc.StatusOK, Payload: []byte("hello")},
	},
	{
		rpc.Request{ID: 1<<53 + 1, Kind: rpc.KindSend, Payload: []byte("hi"), Timeout: 10_000_000},
		rpc.Response{ID: 1<<53 + 1, Status: rpc.StatusOK, Payload: []byte("delivered to " + identity(respSeed).Public().String() + "\n")},
	},
	{
		rpc.Request{ID: 1<<64 - 1, Kind: rpc.KindPing, Timeout: 5_000_000},
		rpc.Response{ID: 1<<64 - 1, Status: rpc.StatusOK},
	},
	{
		rpc.Request{ID: 2, Kind: rpc.KindCall, Function: "missing", Timeout: 30_000_000},
		rpc.Response{ID: 2, Status: rpc.StatusNotFound, Error: `no function "missing"`},
	},
}

func buildSession() (*file, error) {
	c, err := newConversation()
	if err != nil {
		return nil, err
	}
	h := c.init.HandshakeHash()
	caller := identity(initSeed)
	f := &file{name: "session.txt"}
	f.comment(
		"n2n test vector: a session (PROTOCOL.md, \"Requests and responses\").",
		"The session of noiseproto/testdata/vectors.txt (inputs, handshake messages and h repeated",
		"here). The caller (initiator) sends four requests, the callee answers each. For request N:",
		"its fields (absent: no line; payload and secret are bytes, the others text, id and",
		"timeout_us integers); requestN, its encoding; requestN_transport, the Noise transport",
		"message that carries it (nonce N-1, initiator to responder: the frame's plaintext is its",
		"4-byte length and the frame). The first request is signed: request1_digest is",
		"BLAKE2b-256(request1), request1_signing_input \"n2n request v1\" ‖ handshake_hash ‖",
		"request1_digest, request1_signature Ed25519 by init_seed's key over it, request1_envelope",
		"{1: request1, 2: request1_signature}, the frame sent. Later requests are sent as they are.",
		"responseN likewise (nonce N-1, responder to initiator). response2's payload is the receipt",
		"of a message stored in the inbox: \"delivered to \" ‖ the callee's agent ID ‖ \"\\n\".",
	)
	f.blank()
	f.hex("init_seed", initSeed)
	f.hex("resp_seed", respSeed)
	f.hex("init_ephemeral", initEphemeral)
	f.hex("resp_ephemeral", respEphemeral)
	f.hex("message1", c.message1)
	f.hex("message2", c.message2)
	f.hex("handshake_hash", h)
	for i, x := range sessionExchanges {
		n := fmt.Sprint(i + 1)
		req := x.req
		f.blank()
		writeRequestFields(f, "request"+n+"_", &req)
		enc := rpc.EncodeRequest(&req)
		f.hex("request"+n, enc)
		frame := enc
		if i == 0 {
			d := keys.Sum256(enc)
			input := rpc.SigningInput(h, enc)
			frame = rpc.SealRequest(caller, h, &req)
			f.hex("request1_digest", d[:])
			f.hex("request1_signing_input", input)
			f.hex("request1_signature", caller.Sign(input))
			f.hex("request1_envelope", frame)
		}
		msgs, err := c.send(true, frame)
		if err != nil {
			return nil, err
		}
		f.hex("request"+n+"_transport", msgs[0])
		resp := x.resp
		writeResponseFields(f, "response"+n+"_", &resp)
		enc = rpc.EncodeResponse(&resp)
		f.hex("response"+n, enc)
		if msgs, err = c.send(false, enc); err != nil {
			return nil, err
		}
		f.hex("response"+n+"_transport", msgs[0])
	}
	return f, nil
}

func writeRequestFields(f *file, prefix string, r *rpc.Request) {
	f.uint(prefix+"id", r.ID)
	f.text(prefix+"kind", string(r.Kind))
	if r.Function != "" {
		f.text(prefix+"function", r.Function)
	}
	if len(r.Payload) > 0 {
		f.hex(prefix+"payload", r.Payload)
	}
	if len(r.Secret) > 0 {
		f.hex(prefix+"secret", r.Secret)
	}
	f.uint(prefix+"timeout_us", r.Timeout)
	for _, e := range r.Extensions {
		f.hex(fmt.Sprintf("%sextension_%d", prefix, e.Key), e.Value)
	}
}

func writeResponseFields(f *file, prefix string, r *rpc.Response) {
	f.uint(prefix+"id", r.ID)
	f.text(prefix+"status", string(r.Status))
	if len(r.Payload) > 0 {
		f.hex(prefix+"payload", r.Payload)
	}
	if r.Error != "" {
		f.text(prefix+"error", r.Error)
	}
	for _, e := range r.Extensions {
		f.hex(fmt.Sprintf("%sextension_%d", prefix, e.Key), e.Value)
	}
}

// readRequestFields reads the fields writeRequestFields wrote for want
// (which says which are present).
func readRequestFields(p *fields, prefix string, want *rpc.Request) rpc.Request {
	r := rpc.Request{ID: p.uint(prefix + "id"), Kind: rpc.Kind(p.text(prefix + "kind")), Timeout: p.uint(prefix + "timeout_us")}
	if want.Function != "" {
		r.Function = p.text(prefix + "function")
	}
	if len(want.Payload) > 0 {
		r.Payload = p.hex(prefix + "payload")
	}
	if len(want.Secret) > 0 {
		r.Secret = p.hex(prefix + "secret")
	}
	for _, e := range want.Extensions {
		r.Extensions = append(r.Extensions, rpc.Extension{Key: e.Key, Value: p.hex(fmt.Sprintf("%sextension_%d", prefix, e.Key))})
	}
	return r
}

func readResponseFields(p *fields, prefix string, want *rpc.Response) rpc.Response {
	r := rpc.Response{ID: p.uint(prefix + "id"), Status: rpc.Status(p.text(prefix + "status"))}
	if len(want.Payload) > 0 {
		r.Payload = p.hex(prefix + "payload")
	}
	if want.Error != "" {
		r.Error = p.text(prefix + "error")
	}
	for _, e := range want.Extensions {
		r.Extensions = append(r.Extensions, rpc.Extension{Key: e.Key, Value: p.hex(fmt.Sprintf("%sextension_%d", prefix, e.Key))})
	}
	return r
}

func sameRequest(a, b *rpc.Request) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Function == b.Function && bytes.Equal(a.Payload, b.Payload) &&
		bytes.Equal(a.Secret, b.Secret) && a.Timeout == b.Timeout && sameExtensions(a.Extensions, b.Extensions)
}

func sameResponse(a, b *rpc.Response) bool {
	return a.ID == b.ID && a.Status == b.Status && bytes.Equal(a.Payload, b.Payload) && a.Error == b.Error &&
		sameExtensions(a.Extensions, b.Extensions)
}

func sameExtensions(a, b []rpc.Extension) bool {
	return slices.EqualFunc(a, b, func(x, y rpc.Extension) bool { return x.Key == y.Key && bytes.Equal(x.Value, y.Value) })
}

func checkSession(p *fields) {
	for _, x := range []struct {
		name string
		want []byte
	}{{"init_seed", initSeed}, {"resp_seed", respSeed}, {"init_ephemeral", initEphemeral}, {"resp_ephemeral", respEphemeral}} {
		p.equal(x.name, x.want)
	}
	c, err := newConversation()
	if err != nil {
		p.fail("%v", err)
		return
	}
	p.equal("message1", c.message1)
	p.equal("message2", c.message2)
	h := p.hex("handshake_hash")
	p.equal("handshake_hash", c.init.HandshakeHash())
	var reqs []rpc.Request
	var reqMsgs, respMsgs [][]byte
	for i, x := range sessionExchanges {
		n := fmt.Sprint(i + 1)
		reqs = append(reqs, readRequestFields(p, "request"+n+"_", &x.req))
		reqMsgs = append(reqMsgs, p.hex("request"+n+"_transport"))
		respMsgs = append(respMsgs, p.hex("response"+n+"_transport"))
	}
	if p.err != nil {
		return
	}
	callee, err := responderOf(p.hex("message1"), reqMsgs...)
	if err != nil {
		p.fail("%v", err)
		return
	}
	caller, err := initiatorOf(p.hex("message2"), respMsgs...)
	if err != nil {
		p.fail("%v", err)
		return
	}
	callerID := identity(initSeed)
	for i, x := range sessionExchanges {
		n := fmt.Sprint(i + 1)
		req := reqs[i]
		enc := p.hex("request" + n)
		// Decoding: the callee reads the frame, and it gives the inputs.
		frame, err := callee.ReadFrame()
		p.check("request"+n+"_transport", err)
		if p.err != nil {
			return
		}
		var got rpc.Request
		if i == 0 {
			p.equal("request1_envelope", frame)
			got, err = rpc.OpenRequest(frame, callerID.Public(), h)
			p.check("request1_envelope", err)
			sig := p.hex("request1_signature")
			input := p.hex("request1_signing_input")
			if !callerID.Public().Verify(input, sig) {
				p.fail("request1_signature does not verify over request1_signing_input")
			}
			d := keys.Sum256(enc)
			p.equal("request1_digest", d[:])
			p.equal("request1_signing_input", rpc.SigningInput(h, enc))
			p.equal("request1_signature", callerID.Sign(input))
			p.equal("request1_envelope", rpc.SealRequest(callerID, h, &req))
		} else {
			p.equal("request"+n, frame)
			got, err = rpc.DecodeRequest(frame)
			p.check("request"+n, err)
		}
		if p.err == nil && !sameRequest(&got, &req) {
			p.fail("request%s decodes to %+v, not the listed fields", n, got)
		}
		// Encoding: the inputs give the request's bytes.
		p.equal("request"+n, rpc.EncodeRequest(&req))

		resp := readResponseFields(p, "response"+n+"_", &x.resp)
		frame, err = caller.ReadFrame()
		p.check("response"+n+"_transport", err)
		if p.err != nil {
			return
		}
		p.equal("response"+n, frame)
		gotResp, err := rpc.DecodeResponse(frame)
		p.check("response"+n, err)
		if p.err == nil && !sameResponse(&gotResp, &resp) {
			p.fail("response%s decodes to %+v, not the listed fields", n, gotResp)
		}
		p.equal("response"+n, rpc.EncodeResponse(&resp))
	}
	// Encoding: the same session sends the same transport messages.
	for i := range sessionExchanges {
		n := fmt.Sprint(i + 1)
		frame := p.hex("request" + n)
		if i == 0 {
			frame = p.hex("request1_envelope")
		}
		msgs, err := c.send(true, frame)
		p.check("request"+n+"_transport", err)
		if p.err == nil {
			p.equal("request"+n+"_transport", msgs[0])
		}
		msgs, err = c.send(false, p.hex("response"+n))
		p.check("response"+n+"_transport", err)
		if p.err == nil {
			p.equal("response"+n+"_transport", msgs[0])
		}
	}
}
