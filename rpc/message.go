package rpc

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/n2n-dev/n2n/keys"
)

// Kind is what a request asks for.
type Kind string

// The request kinds of DESIGN §6.
const (
	KindSend Kind = "send"
	KindCall Kind = "call"
	KindPing Kind = "ping"
)

// Status is the outcome in a response.
type Status string

// The response statuses of DESIGN §6.
const (
	StatusOK           Status = "ok"
	StatusUnauthorized Status = "unauthorized"
	StatusNotFound     Status = "not_found"
	StatusHandlerError Status = "handler_error"
	StatusBusy         Status = "busy"
	StatusBadRequest   Status = "bad_request"
	StatusTimeout      Status = "timeout"
)

// MaxPayload is the payload limit on both sides (DESIGN §6).
const MaxPayload = 16 << 20

// Request is one request on a session.
type Request struct {
	ID       uint64 `cbor:"1,keyasint"`
	Kind     Kind   `cbor:"2,keyasint"`
	Function string `cbor:"3,keyasint,omitempty"`
	Payload  []byte `cbor:"4,keyasint,omitempty"`
	Secret   []byte `cbor:"5,keyasint,omitempty"`
	Deadline int64  `cbor:"6,keyasint"` // µs since the Unix epoch
}

// Response answers a Request with the same ID.
type Response struct {
	ID      uint64 `cbor:"1,keyasint"`
	Status  Status `cbor:"2,keyasint"`
	Payload []byte `cbor:"3,keyasint,omitempty"`
	Error   string `cbor:"4,keyasint,omitempty"`
}

// signedRequest is the first transport message of a session: the request
// encoding and the caller's Ed25519 signature over
// "n2n request v1" ‖ handshake hash ‖ BLAKE2b-256(request encoding).
type signedRequest struct {
	Request   []byte `cbor:"1,keyasint"`
	Signature []byte `cbor:"2,keyasint"`
}

const signContext = "n2n request v1"

// ErrBadMessage is wrapped by every decoding failure of network input.
var ErrBadMessage = errors.New("bad message")

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	if decMode, err = (cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		IndefLength:       cbor.IndefLengthForbidden,
		MaxNestedLevels:   4,
		MaxArrayElements:  16,
		MaxMapPairs:       16,
	}).DecMode(); err != nil {
		panic(err)
	}
}

func encode(v any) []byte {
	b, err := encMode.Marshal(v)
	if err != nil {
		panic("rpc: encode: " + err.Error()) // plain structs: cannot fail
	}
	return b
}

func signingInput(handshakeHash, request []byte) []byte {
	d := keys.Sum256(request)
	return append(append([]byte(signContext), handshakeHash...), d[:]...)
}

// sealRequest encodes and signs req for the session with this handshake hash.
func sealRequest(id *keys.Identity, handshakeHash []byte, req *Request) []byte {
	enc := encode(req)
	return encode(&signedRequest{Request: enc, Signature: id.Sign(signingInput(handshakeHash, enc))})
}

// openRequest decodes a sealed request and checks the signature of caller.
// It distinguishes malformed input (ErrBadMessage) from a bad signature
// (ErrSignature).
func openRequest(b []byte, caller keys.PublicKey, handshakeHash []byte) (Request, error) {
	var sr signedRequest
	if err := decMode.Unmarshal(b, &sr); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if !caller.Verify(signingInput(handshakeHash, sr.Request), sr.Signature) {
		return Request{}, ErrSignature
	}
	return DecodeRequest(sr.Request)
}

// ErrSignature: the request is not signed by the session's caller for this
// session.
var ErrSignature = errors.New("request signature does not verify")

// DecodeRequest parses a canonical request encoding.
func DecodeRequest(b []byte) (Request, error) {
	var r Request
	if err := decMode.Unmarshal(b, &r); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if !bytes.Equal(encode(&r), b) {
		return Request{}, fmt.Errorf("%w: request not canonical", ErrBadMessage)
	}
	switch r.Kind {
	case KindSend, KindCall, KindPing:
	default:
		return Request{}, fmt.Errorf("%w: request kind %q", ErrBadMessage, r.Kind)
	}
	if len(r.Payload) > MaxPayload {
		return Request{}, fmt.Errorf("%w: payload over the limit", ErrBadMessage)
	}
	return r, nil
}

// DecodeResponse parses a response.
func DecodeResponse(b []byte) (Response, error) {
	var r Response
	if err := decMode.Unmarshal(b, &r); err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	switch r.Status {
	case StatusOK, StatusUnauthorized, StatusNotFound, StatusHandlerError, StatusBusy, StatusBadRequest, StatusTimeout:
	default:
		return Response{}, fmt.Errorf("%w: status %q", ErrBadMessage, r.Status)
	}
	return r, nil
}

// DeadlineTime is the request's deadline as a time.
func (r *Request) DeadlineTime() time.Time { return time.UnixMicro(r.Deadline) }
