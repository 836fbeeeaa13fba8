package rpc

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
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

// decMode reads requests and responses: flat maps of plain fields.
var decMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

func signingInput(handshakeHash, request []byte) []byte {
	d := keys.Sum256(request)
	return append(append([]byte(signContext), handshakeHash...), d[:]...)
}

// sealRequest encodes and signs req for the session with this handshake
// hash: detcbor.Marshal(&signedRequest{detcbor.Marshal(req), signature}), built by hand so
// that the payload is copied once, into the one buffer (encode copies it
// twice per level).
func sealRequest(id *keys.Identity, handshakeHash []byte, req *Request) []byte {
	var buf [128]byte
	skel, _ := appendRequest(buf[:0], req, false)
	n := len(skel) + len(req.Payload)
	b := make([]byte, 0, 2+maxHeadSize+n+2+2+ed25519.SignatureSize)
	b = appendHead(append(b, cborMap|2, 1), cborBytes, uint64(n))
	start := len(b)
	b, _ = appendRequest(b, req, true)
	sig := id.Sign(signingInput(handshakeHash, b[start:]))
	b = appendHead(append(b, 2), cborBytes, uint64(len(sig)))
	return append(b, sig...)
}

// openRequest decodes a sealed request and checks the signature of caller.
// It distinguishes malformed input (ErrBadMessage) from a bad signature
// (ErrSignature).
func openRequest(b []byte, caller keys.PublicKey, handshakeHash []byte) (Request, error) {
	var sr signedRequest
	if err := decMode().Unmarshal(b, &sr); err != nil {
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

// DecodeRequest parses a canonical request encoding: b must be exactly
// what encoding the request it decodes to gives, so that one request has
// one signed form.
func DecodeRequest(b []byte) (Request, error) {
	var r Request
	if err := decMode().Unmarshal(b, &r); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if !isCanonicalRequest(b, &r) {
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
	if err := decMode().Unmarshal(b, &r); err != nil {
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

// The CBOR of a Request, by hand. detcbor.EncMode (core deterministic
// encoding, RFC 8949 §4.2.1) encodes a Request as a map whose keys are the small integers
// 1 to 6, in that order, each value with the shortest head, and the
// omitempty fields (3, 4, 5) left out when empty. appendRequest writes the
// same bytes without copying the payload more than once; isCanonicalRequest
// checks a received encoding against them without copying it at all.
// TestRequestEncodingByHand and FuzzDecodeRequest hold them to detcbor.EncMode.

// CBOR major types (RFC 8949 §3.1), in the top 3 bits of a head.
const (
	cborUint  = 0 << 5
	cborNeg   = 1 << 5
	cborBytes = 2 << 5
	cborText  = 3 << 5
	cborMap   = 5 << 5
)

// maxHeadSize is the longest CBOR head: initial byte and 8-byte argument.
const maxHeadSize = 9

// appendHead appends a CBOR head of this major type and argument, in its
// shortest form.
func appendHead(b []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n <= math.MaxUint8:
		return append(b, major|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, major|27), n)
}

// appendRequest appends detcbor.Marshal(r), and returns where in the result the
// payload's bytes start. Without payload, it appends the same but for the
// payload's bytes (its key and head stay).
func appendRequest(b []byte, r *Request, payload bool) (_ []byte, at int) {
	fields := uint64(3)
	for _, present := range []bool{r.Function != "", len(r.Payload) > 0, len(r.Secret) > 0} {
		if present {
			fields++
		}
	}
	b = appendHead(b, cborMap, fields)
	b = appendHead(append(b, 1), cborUint, r.ID)
	b = append(appendHead(append(b, 2), cborText, uint64(len(r.Kind))), r.Kind...)
	if r.Function != "" {
		b = append(appendHead(append(b, 3), cborText, uint64(len(r.Function))), r.Function...)
	}
	if len(r.Payload) > 0 {
		b = appendHead(append(b, 4), cborBytes, uint64(len(r.Payload)))
	}
	at = len(b)
	if len(r.Payload) > 0 {
		if payload {
			b = append(b, r.Payload...)
		}
	}
	if len(r.Secret) > 0 {
		b = append(appendHead(append(b, 5), cborBytes, uint64(len(r.Secret))), r.Secret...)
	}
	b = append(b, 6)
	if r.Deadline < 0 {
		return appendHead(b, cborNeg, uint64(^r.Deadline)), at // -1-Deadline
	}
	return appendHead(b, cborUint, uint64(r.Deadline)), at
}

// isCanonicalRequest reports whether b is detcbor.Marshal(r), comparing the payload
// in place instead of encoding it again.
func isCanonicalRequest(b []byte, r *Request) bool {
	var buf [128]byte
	skel, at := appendRequest(buf[:0], r, false)
	if len(b) != len(skel)+len(r.Payload) {
		return false
	}
	return bytes.Equal(b[:at], skel[:at]) &&
		bytes.Equal(b[at:at+len(r.Payload)], r.Payload) &&
		bytes.Equal(b[at+len(r.Payload):], skel[at:])
}
