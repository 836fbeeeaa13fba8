package rpc

import (
	"errors"
	"fmt"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
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

// ErrBadMessage is wrapped by every decoding failure of network input.
var ErrBadMessage = errors.New("bad message")

// decMode reads requests and responses: flat maps of plain fields.
var decMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

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

// StatusError is the error form of a response that is not ok.
type StatusError struct {
	Status Status
	Msg    string
}

func (e *StatusError) Error() string {
	if e.Msg == "" {
		return string(e.Status)
	}
	return e.Msg
}

// Err returns nil for an ok response and a *StatusError otherwise.
func (r *Response) Err() error {
	if r.Status == StatusOK {
		return nil
	}
	return &StatusError{Status: r.Status, Msg: r.Error}
}
