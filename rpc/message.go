package rpc

import (
	"errors"
	"fmt"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
)

// Kind is what a request asks for.
type Kind string

// The request kinds of PROTOCOL.md §10. A callee answers a kind it does not
// know with StatusBadRequest.
const (
	KindSend Kind = "send"
	KindCall Kind = "call"
	KindPing Kind = "ping"
)

// Status is the outcome in a response.
type Status string

// The response statuses of PROTOCOL.md §6. A caller takes a status it does
// not know for a remote error of that request (Known).
const (
	StatusOK           Status = "ok"
	StatusUnauthorized Status = "unauthorized"
	StatusNotFound     Status = "not_found"
	StatusHandlerError Status = "handler_error"
	StatusBusy         Status = "busy"
	StatusBadRequest   Status = "bad_request"
	StatusTimeout      Status = "timeout"
	// StatusOverQuota: the callee keeps no more of this caller's writes
	// (its inbox, or its list of pending claims, is full for the caller);
	// nothing it already keeps was dropped.
	StatusOverQuota Status = "over_quota"
	// StatusNoSpace: the callee would have to store the request (a message
	// for its inbox, a delivered claim) and its disk is too full to.
	StatusNoSpace Status = "no_space"
)

// Known reports whether s is one of this version's statuses.
func (s Status) Known() bool {
	switch s {
	case StatusOK, StatusUnauthorized, StatusNotFound, StatusHandlerError, StatusBusy, StatusBadRequest, StatusTimeout, StatusOverQuota, StatusNoSpace:
		return true
	}
	return false
}

// Protocol limits (PROTOCOL.md §7, §8).
const (
	// MaxPayload is the payload limit on both sides.
	MaxPayload = 16 << 20
	// MaxTimeout is the longest timeout a callee honours; a request that
	// allows more gets this.
	MaxTimeout = 24 * time.Hour
)

// Extension is a field of a message under an extension key (24 and up)
// that this version does not know: a callee or caller ignores it, but keeps
// it, so that the message encodes again to the bytes received.
type Extension = detcbor.Extension

// Request is one request on a session (PROTOCOL.md §5.2).
type Request struct {
	ID       uint64 `cbor:"1,keyasint"`
	Kind     Kind   `cbor:"2,keyasint"`
	Function string `cbor:"3,keyasint,omitempty"`
	Payload  []byte `cbor:"4,keyasint,omitempty"`
	Secret   []byte `cbor:"5,keyasint,omitempty"`
	// Timeout is how long the caller allows, in µs: the callee counts it on
	// its own clock from when it has read the request. (Key 6, an absolute
	// deadline, is retired: a request with it is malformed.)
	Timeout    uint64      `cbor:"7,keyasint"`
	Extensions []Extension `cbor:"-"`
}

// Response answers a Request with the same ID.
type Response struct {
	ID         uint64      `cbor:"1,keyasint"`
	Status     Status      `cbor:"2,keyasint"`
	Payload    []byte      `cbor:"3,keyasint,omitempty"`
	Error      string      `cbor:"4,keyasint,omitempty"`
	Extensions []Extension `cbor:"-"`
}

// field is where DecodeRequest decodes the value of a core key (nil: not a
// key of this version).
func (r *Request) field(key uint64) any {
	switch key {
	case 1:
		return &r.ID
	case 2:
		return &r.Kind
	case 3:
		return &r.Function
	case 4:
		return &r.Payload
	case 5:
		return &r.Secret
	case 7:
		return &r.Timeout
	}
	return nil
}

func (r *Response) field(key uint64) any {
	switch key {
	case 1:
		return &r.ID
	case 2:
		return &r.Status
	case 3:
		return &r.Payload
	case 4:
		return &r.Error
	}
	return nil
}

// TimeoutDuration is the request's timeout, at most MaxTimeout.
func (r *Request) TimeoutDuration() time.Duration {
	if r.Timeout >= uint64(MaxTimeout/time.Microsecond) {
		return MaxTimeout
	}
	return time.Duration(r.Timeout) * time.Microsecond
}

// SetTimeout sets the request's timeout to d, rounded up to a whole µs (0
// if d is not positive).
func (r *Request) SetTimeout(d time.Duration) {
	r.Timeout = 0
	if d > 0 {
		r.Timeout = uint64((d + time.Microsecond - 1) / time.Microsecond)
	}
}

// ErrBadMessage is wrapped by every decoding failure of network input.
var ErrBadMessage = errors.New("bad message")

// decMode reads the values of requests and responses: plain fields.
var decMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

// DecodeRequest parses a request. It must be canonical: b is exactly what
// EncodeRequest gives for the request it decodes to, so that one request
// has one signed form. Unknown extension fields are kept (Extensions);
// unknown core keys, key 6 among them, make it malformed. Its kind is not
// checked: the callee answers an unknown kind.
func DecodeRequest(b []byte) (Request, error) {
	var r Request
	ext, err := detcbor.DecodeMap(decMode(), b, r.field)
	if err != nil {
		return Request{}, fmt.Errorf("%w: request: %v", ErrBadMessage, err)
	}
	r.Extensions = ext
	switch {
	case !isCanonicalRequest(b, &r):
		return Request{}, fmt.Errorf("%w: request not canonical", ErrBadMessage)
	case r.ID == 0:
		return Request{}, fmt.Errorf("%w: request ID 0", ErrBadMessage)
	case len(r.Payload) > MaxPayload:
		return Request{}, fmt.Errorf("%w: payload over the limit", ErrBadMessage)
	}
	return r, nil
}

// DecodeResponse parses a canonical response, as DecodeRequest does a
// request. Its status may be one this version does not know.
func DecodeResponse(b []byte) (Response, error) {
	var r Response
	ext, err := detcbor.DecodeMap(decMode(), b, r.field)
	if err != nil {
		return Response{}, fmt.Errorf("%w: response: %v", ErrBadMessage, err)
	}
	r.Extensions = ext
	if !isCanonicalResponse(b, &r) {
		return Response{}, fmt.Errorf("%w: response not canonical", ErrBadMessage)
	}
	return r, nil
}

// StatusError is the error form of a response that is not ok.
type StatusError struct {
	Status Status
	Msg    string
}

func (e *StatusError) Error() string {
	switch {
	case !e.Status.Known() && e.Msg == "":
		return fmt.Sprintf("the agent answered with status %q", e.Status)
	case !e.Status.Known():
		return fmt.Sprintf("the agent answered with status %q: %s", e.Status, e.Msg)
	case e.Msg == "":
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
