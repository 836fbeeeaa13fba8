package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// connIdle is how long a caller keeps a session with no request waiting
// before closing it; less than the callee's sessionIdle.
const connIdle = 30 * time.Second

// errConnClosed: the session was closed on this side (the client stopped,
// or the session sat idle).
var errConnClosed = errors.New("rpc: session closed")

// conn is the caller's side of a session (see session.go): any number of
// goroutines send requests on it at once, and each gets the answer with its
// request's ID.
type conn struct {
	rw     io.ReadWriteCloser
	s      *noiseproto.Session
	w      *sessionWriter
	id     *keys.Identity
	signed bool // the first, signed request is written (guarded by w.mu)

	mu      sync.Mutex
	pending map[uint64]chan Response
	err     error         // why the session ended; set once
	ended   chan struct{} // closed when err is set
	active  int           // requests waiting for their answer
	idle    *time.Timer   // closes the session after connIdle with none active
	onEnd   func()        // told once when the session ends (its pool forgets it)
}

// dialConn runs the initiator's handshake with the agent `to` on rw and
// returns the session ready for requests. The caller bounds the handshake
// with a deadline on rw (and clears it afterwards). static is id's static key
// made beforehand (nil: the handshake derives it).
func dialConn(rw io.ReadWriteCloser, id *keys.Identity, static *noiseproto.Static, to keys.PublicKey) (*conn, error) {
	out := newCorkable(rw)
	s, err := noiseproto.Initiate(out, noiseproto.Config{Local: id, Static: static, MaxFrame: maxFrame}, to)
	if err != nil {
		if errors.Is(err, noiseproto.ErrHandshake) {
			return nil, fmt.Errorf("%w: %v", ErrAuth, err)
		}
		return nil, err
	}
	c := &conn{
		rw:      rw,
		s:       s,
		w:       newSessionWriter(s, out),
		id:      id,
		pending: map[uint64]chan Response{},
		ended:   make(chan struct{}),
	}
	go c.readLoop()
	return c, nil
}

// send writes req on the session and returns where its answer will come.
// sent reports whether req may have reached the callee: when it is false,
// nothing was sent and req can go on another session. After a nil error,
// wait must be called.
func (c *conn) send(req *Request) (answer chan Response, sent bool, err error) {
	answer = make(chan Response, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, false, err
	}
	c.pending[req.ID] = answer
	c.active++
	busy := c.active > 1 // pipelined: join the next batch
	if c.idle != nil {
		c.idle.Stop()
	}
	c.mu.Unlock()

	err = c.w.write(func() []byte {
		if !c.signed {
			c.signed = true
			return sealRequest(c.id, c.s.HandshakeHash(), req)
		}
		b, _ := appendRequest(make([]byte, 0, 64+len(req.Payload)+len(req.Secret)), req, true)
		return b
	}, busy)
	if err != nil {
		c.end(err)
		c.forget(req.ID)
		return nil, true, err
	}
	return answer, true, nil
}

// wait waits for the answer to req, sent on answer, until req's deadline
// and replyGrace more, or until ctx ends.
func (c *conn) wait(ctx context.Context, req *Request, answer chan Response) (Response, error) {
	defer c.forget(req.ID)
	wait := time.NewTimer(time.Until(req.DeadlineTime().Add(replyGrace)))
	defer wait.Stop()
	select {
	case resp := <-answer:
		return resp, nil
	case <-c.ended:
		select {
		case resp := <-answer:
			return resp, nil
		default:
		}
		return Response{}, c.err
	case <-ctx.Done():
		return Response{}, ctx.Err()
	case <-wait.C:
		// The callee answers every request by its deadline: one a second
		// past it means the session, or the connection under it, is gone
		// (a peer that vanished without closing it). End it, so that the
		// next request dials again instead of waiting here too.
		c.end(errors.New("the agent stopped answering on this session"))
		return Response{}, ErrTimeout
	}
}

// forget drops a request's place among those waiting; with none left, the
// idle timer starts.
func (c *conn) forget(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, id)
	c.active--
	if c.active == 0 && c.err == nil {
		if c.idle == nil {
			c.idle = time.AfterFunc(connIdle, c.closeIfIdle)
		} else {
			c.idle.Reset(connIdle)
		}
	}
}

func (c *conn) closeIfIdle() {
	c.mu.Lock()
	idle := c.active == 0
	c.mu.Unlock()
	if idle {
		c.close()
	}
}

// readLoop hands each answer to the request waiting for it, until the
// session ends. An answer nobody waits for (its request timed out here) is
// dropped.
func (c *conn) readLoop() {
	defer c.s.Close() // zeroes the keys once the stream is closed
	defer c.w.close()
	for {
		b, err := c.s.ReadFrame()
		if err != nil {
			switch {
			case err == io.EOF:
				err = errors.New("the agent ended the session")
			case errors.Is(err, noiseproto.ErrTransport):
				err = fmt.Errorf("%w: %v", ErrAuth, err)
			}
			c.end(err)
			return
		}
		resp, err := DecodeResponse(b)
		if err != nil {
			c.end(err)
			return
		}
		if resp.ID == 0 { // not an answer: the callee could not read a request
			c.end(fmt.Errorf("%w: the agent refused a request: %s", ErrBadMessage, resp.Error))
			return
		}
		c.mu.Lock()
		answer := c.pending[resp.ID]
		delete(c.pending, resp.ID)
		c.mu.Unlock()
		if answer != nil {
			answer <- resp
		}
	}
}

// end records why the session ended (the first reason wins), wakes every
// request waiting on it and closes the stream.
func (c *conn) end(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.ended)
	if c.idle != nil {
		c.idle.Stop()
	}
	onEnd := c.onEnd
	c.mu.Unlock()
	c.rw.Close()
	if onEnd != nil {
		onEnd()
	}
}

// close ends the session from this side.
func (c *conn) close() { c.end(errConnClosed) }

// alive reports whether the session can take another request.
func (c *conn) alive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil
}

// connPool keeps one session per agent for a client, so that requests
// after the first skip the stream set-up and the handshake; concurrent
// requests to an agent share its session. The zero value is ready.
type connPool struct {
	mu     sync.Mutex
	conns  map[keys.PublicKey]*conn
	dials  map[keys.PublicKey]chan struct{} // closed when the dial ends
	closed bool
}

// get returns a live session with `to`, or dials one (one dial at a time per
// agent: the others wait for it). fresh reports a session dialled by this
// call.
func (p *connPool) get(ctx context.Context, to keys.PublicKey, dial func() (*conn, error)) (c *conn, fresh bool, err error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, errConnClosed
		}
		if c := p.conns[to]; c != nil && c.alive() {
			p.mu.Unlock()
			return c, false, nil
		}
		if wait := p.dials[to]; wait != nil {
			p.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
		if p.dials == nil {
			p.dials = map[keys.PublicKey]chan struct{}{}
			p.conns = map[keys.PublicKey]*conn{}
		}
		done := make(chan struct{})
		p.dials[to] = done
		p.mu.Unlock()

		c, err := dial()
		p.mu.Lock()
		delete(p.dials, to)
		close(done)
		if err == nil {
			if p.closed {
				err = errConnClosed
			} else {
				p.conns[to] = c
				c.mu.Lock()
				c.onEnd = func() { p.forget(to, c) }
				c.mu.Unlock()
			}
		}
		p.mu.Unlock()
		if err != nil {
			if c != nil {
				c.close()
			}
			return nil, true, err
		}
		return c, true, nil
	}
}

func (p *connPool) forget(to keys.PublicKey, c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[to] == c {
		delete(p.conns, to)
	}
}

// close ends every session of the pool; it dials no more.
func (p *connPool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.endAll()
}

// endAll ends every session of the pool (which zeroes their keys); the next
// request dials a new one.
func (p *connPool) endAll() {
	p.mu.Lock()
	conns := make([]*conn, 0, len(p.conns))
	for _, c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}
