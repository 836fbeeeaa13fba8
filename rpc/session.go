package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// maxFrame bounds one sealed request or response: the payload limit plus
// room for the envelope, the secret and an error text.
const maxFrame = MaxPayload + 64<<10

// Errors of the calling side, for the command line to map to exit statuses.
var (
	// ErrAuth: the handshake or the reply did not authenticate (exit 8).
	ErrAuth = errors.New("authentication failed")
	// ErrTimeout: connected, but no reply before the deadline (exit 6).
	ErrTimeout = errors.New("no reply before the deadline")
	// ErrTooLarge: the payload is over MaxPayload; nothing was sent (exit 3).
	ErrTooLarge = fmt.Errorf("payload over the %d MiB limit", MaxPayload>>20)
)

// Exchange runs the caller's side of one session on rw: the Noise IK
// handshake with the agent `to`, one signed request, and its response. The
// caller bounds it with a deadline on rw.
func Exchange(rw io.ReadWriter, id *keys.Identity, to keys.PublicKey, req *Request) (Response, error) {
	return exchange(rw, id, nil, to, req)
}

// exchange is Exchange with id's static key made beforehand (nil: the
// handshake derives it).
func exchange(rw io.ReadWriter, id *keys.Identity, static *noiseproto.Static, to keys.PublicKey, req *Request) (Response, error) {
	if len(req.Payload) > MaxPayload {
		return Response{}, ErrTooLarge
	}
	s, err := noiseproto.Initiate(rw, noiseproto.Config{Local: id, Static: static, MaxFrame: maxFrame}, to)
	if err != nil {
		if errors.Is(err, noiseproto.ErrHandshake) {
			return Response{}, fmt.Errorf("%w: %v", ErrAuth, err)
		}
		return Response{}, err
	}
	defer s.Close()
	if err := s.WriteFrame(sealRequest(id, s.HandshakeHash(), req)); err != nil {
		return Response{}, err
	}
	b, err := s.ReadFrame()
	if err != nil {
		if errors.Is(err, noiseproto.ErrTransport) {
			return Response{}, fmt.Errorf("%w: %v", ErrAuth, err)
		}
		return Response{}, err
	}
	resp, err := DecodeResponse(b)
	if err != nil {
		return Response{}, err
	}
	if resp.ID != req.ID {
		return Response{}, fmt.Errorf("%w: response to another request", ErrBadMessage)
	}
	return resp, nil
}

// Incoming is an authenticated request as the server's dispatcher sees it.
type Incoming struct {
	Caller  keys.PublicKey
	Request Request
}

// Dispatcher answers an authenticated request. ctx ends at the request's
// deadline (or when the server stops).
type Dispatcher func(ctx context.Context, in *Incoming) Response

// serveSession runs the callee's side of one session on rw: accept the
// handshake, read and authenticate the one request, dispatch it, and write
// the response. Bad network input is dropped without a detailed answer.
// static is id's static key made beforehand (nil: the handshake derives it).
func serveSession(ctx context.Context, rw io.ReadWriter, id *keys.Identity, static *noiseproto.Static, dispatch Dispatcher, now func() time.Time) error {
	s, err := noiseproto.Accept(rw, noiseproto.Config{Local: id, Static: static, MaxFrame: maxFrame})
	if err != nil {
		return err
	}
	defer s.Close()
	b, err := s.ReadFrame()
	if err != nil {
		return err
	}
	req, err := openRequest(b, s.RemoteKey(), s.HandshakeHash())
	if err != nil {
		if errors.Is(err, ErrBadMessage) {
			return s.WriteFrame(encode(&Response{Status: StatusBadRequest, Error: "malformed request"}))
		}
		return err // a bad signature gets no answer at all
	}
	deadline := req.DeadlineTime()
	if !deadline.After(now()) {
		return s.WriteFrame(encode(&Response{ID: req.ID, Status: StatusTimeout, Error: "deadline already passed"}))
	}
	if x, ok := rw.(interface{ extend(time.Time) }); ok {
		x.extend(deadline)
	}
	cctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	resp := dispatch(cctx, &Incoming{Caller: s.RemoteKey(), Request: req})
	resp.ID = req.ID
	if len(resp.Payload) > MaxPayload {
		resp = Response{ID: req.ID, Status: StatusHandlerError, Error: "reply over the payload limit"}
	}
	return s.WriteFrame(encode(&resp))
}
