package noiseproto

import (
	"errors"
	"fmt"
	"io"

	"github.com/n2n-dev/n2n/keys"
)

// Initiate runs the initiator's side of the handshake on rw with the holder
// of the agent key remote. It returns once message 2 has authenticated the
// responder. rw is not closed, whatever happens; bound the call with a
// deadline on the stream.
func Initiate(rw io.ReadWriter, cfg Config, remote keys.PublicKey) (*Session, error) {
	return initiate(rw, cfg, remote, newDH25519())
}

// Accept runs the responder's side of the handshake on rw. It returns once
// it has sent message 2; Session.RemoteKey is then the agent key message 1
// proved. Message 1 may be a replay, so act only on what ReadFrame returns.
// A message 1 that does not authenticate is answered with nothing: the
// caller closes rw, which the initiator reports as ErrHandshake. rw is not
// closed, whatever happens; bound the call with a deadline on the stream.
func Accept(rw io.ReadWriter, cfg Config) (*Session, error) {
	return accept(rw, cfg, newDH25519())
}

func initiate(rw io.ReadWriter, cfg Config, remote keys.PublicKey, dh dhFunc) (*Session, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	rs, err := agentX25519(remote)
	if err != nil {
		return nil, fmt.Errorf("noiseproto: responder: %w", err)
	}
	h, err := newHandshake(cfg, dh, true, rs[:])
	if err != nil {
		return nil, err
	}
	defer h.zero()
	h.remote = remote

	msg1, err := h.createMessage1()
	if err != nil {
		return nil, err
	}
	if err := writeMessage(rw, msg1); err != nil {
		return nil, fmt.Errorf("noiseproto: send message 1: %w", err)
	}
	msg2, err := readHandshakeMessage(rw, 2, message2Size)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the responder hung up after message 1 (it does not hold the agent key dialled, or refused us): %w", ErrHandshake, io.EOF)
	}
	if err != nil {
		return nil, err
	}
	if err := h.consumeMessage2(msg2); err != nil {
		return nil, err
	}
	return newSession(rw, cfg, h), nil
}

func accept(rw io.ReadWriter, cfg Config, dh dhFunc) (*Session, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	h, err := newHandshake(cfg, dh, false, nil)
	if err != nil {
		return nil, err
	}
	defer h.zero()

	msg1, err := readHandshakeMessage(rw, 1, message1Size)
	if err != nil {
		return nil, err
	}
	if err := h.consumeMessage1(msg1); err != nil {
		return nil, err
	}
	msg2, err := h.createMessage2()
	if err != nil {
		return nil, err
	}
	if err := writeMessage(rw, msg2); err != nil {
		return nil, fmt.Errorf("noiseproto: send message 2: %w", err)
	}
	return newSession(rw, cfg, h), nil
}
