package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
	"github.com/n2n-dev/n2n/peers"
)

// Implementation constants of the caller's sessions.
const (
	// clientIdle is how long a caller keeps a session with no request
	// waiting before closing it; less than the callee's sessionIdle.
	clientIdle = 30 * time.Second
	// replyGrace is how long after the request's deadline the caller still
	// waits for the callee's own timeout answer before giving up on the
	// request.
	replyGrace = time.Second
	// probeWait is how long a session whose agent left a request unanswered
	// past its grace has to show it is there (any frame: the answer to a
	// ping sent then, or to another request) before the session is ended.
	probeWait = 5 * time.Second
)

// errGone ends a session whose agent answers nothing.
var errGone = errors.New("the agent stopped answering on this session")

var lastID atomic.Uint64

// nextID is a request ID no other request of this process has.
func nextID() uint64 {
	if lastID.Load() == 0 {
		lastID.CompareAndSwap(0, uint64(time.Now().UnixNano()))
	}
	return lastID.Add(1)
}

// clientSession is the caller's side of a session: any number of
// goroutines send requests on it at once, and each gets the answer with its
// request's ID.
type clientSession struct {
	rw     io.ReadWriteCloser
	s      *noiseproto.Session
	w      *frameWriter
	id     *keys.Identity
	signed bool // the first, signed request is written (guarded by w.mu)

	mu      sync.Mutex
	pending map[uint64]chan Response
	err     error         // why the session ended; set once
	ended   chan struct{} // closed when err is set
	active  int           // requests waiting for their answer
	idle    *time.Timer   // closes the session after clientIdle with none active
	onEnd   func()        // told once when the session ends (its pool forgets it)
	retired bool          // given up by its pool: ends once none is active

	// path is the path of the session's stream (set by Client.dial; nil:
	// a stream of bytes, not a connection).
	path func() peers.Path

	lastRead  atomic.Int64  // when a frame last arrived, Unix ns
	probing   atomic.Bool   // a probe is running
	probeWait time.Duration // see probeWait; tests shorten it
}

// dialSession runs the initiator's handshake with the agent `to` on rw and
// returns the session ready for requests. The caller bounds the handshake
// with a deadline on rw (and clears it afterwards). static is id's static key
// made beforehand (nil: the handshake derives it).
func dialSession(rw io.ReadWriteCloser, id *keys.Identity, static *noiseproto.Static, to keys.PublicKey) (*clientSession, error) {
	stream := newBatchedStream(rw)
	s, err := noiseproto.Initiate(stream, noiseproto.Config{Local: id, Static: static, MaxFrame: noiseproto.DefaultMaxFrame}, to)
	switch {
	case errors.Is(err, peers.ErrBusy):
		return nil, &StatusError{Status: StatusBusy, Msg: "the agent is busy: it takes no more sessions from this agent now (too many at once, or too many handshakes a second)"}
	case errors.Is(err, noiseproto.ErrHandshake):
		return nil, fmt.Errorf("%w: %v", ErrAuth, err)
	case err != nil:
		return nil, err
	}
	c := &clientSession{
		rw:        rw,
		s:         s,
		w:         newFrameWriter(s, stream),
		id:        id,
		pending:   map[uint64]chan Response{},
		ended:     make(chan struct{}),
		probeWait: probeWait,
	}
	go c.readLoop()
	return c, nil
}

// send writes req on the session and returns where its answer will come.
// sent reports whether req may have reached the callee: when it is false,
// nothing was sent and req can go on another session. After a nil error,
// wait must be called.
func (c *clientSession) send(req *Request) (answer chan Response, sent bool, err error) {
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
			return SealRequest(c.id, c.s.HandshakeHash(), req)
		}
		return EncodeRequest(req)
	}, busy)
	if err != nil {
		c.end(err)
		c.forget(req.ID)
		return nil, true, c.reason()
	}
	return answer, true, nil
}

// wait waits for the answer to request id, sent on answer, until the
// caller's deadline for it and replyGrace more, or until ctx ends. A
// request still unanswered then is late: that request alone fails
// (ErrTimeout), and the session is ended only if its agent shows no sign of
// life either (probe).
func (c *clientSession) wait(ctx context.Context, id uint64, answer chan Response, deadline time.Time) (Response, error) {
	defer c.forget(id)
	waiting := time.Now()
	wait := time.NewTimer(time.Until(deadline.Add(replyGrace)))
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
		c.probe(waiting)
		return Response{}, ErrTimeout
	}
}

// probe checks that the agent is still there after a request sent before
// since went unanswered: a frame read since then shows it is (it answers
// other requests; this one is just late). Otherwise it sends a ping, and
// ends the session (errGone) unless some frame arrives within probeWait, so
// that the next request dials again instead of waiting on a session whose
// peer vanished without closing it. One probe runs at a time.
func (c *clientSession) probe(since time.Time) {
	if c.lastRead.Load() >= since.UnixNano() || !c.probing.CompareAndSwap(false, true) {
		return
	}
	start := time.Now()
	time.AfterFunc(c.probeWait, func() {
		if c.lastRead.Load() < start.UnixNano() {
			c.end(errGone)
		}
		c.probing.Store(false)
	})
	go func() {
		// Its write may block on a peer that reads nothing: the end above
		// closes the stream, which unblocks it.
		ping := &Request{ID: nextID(), Kind: KindPing}
		ping.SetTimeout(c.probeWait)
		answer, _, err := c.send(ping)
		if err != nil {
			return
		}
		defer c.forget(ping.ID)
		t := time.NewTimer(c.probeWait)
		defer t.Stop()
		select {
		case <-answer:
		case <-c.ended:
		case <-t.C:
		}
	}()
}

// forget drops a request's place among those waiting; with none left, the
// idle timer starts.
func (c *clientSession) forget(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, id)
	c.active--
	if c.active == 0 && c.retired && c.err == nil {
		go c.close() // not under c.mu
		return
	}
	if c.active == 0 && c.err == nil {
		if c.idle == nil {
			c.idle = time.AfterFunc(clientIdle, c.closeIfIdle)
		} else {
			c.idle.Reset(clientIdle)
		}
	}
}

func (c *clientSession) closeIfIdle() {
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
func (c *clientSession) readLoop() {
	defer c.s.Close() // zeroes the keys once the stream is closed
	defer c.w.close()
	for {
		b, err := c.s.ReadFrame()
		c.lastRead.Store(time.Now().UnixNano())
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
		if resp.ID == 0 { // not an answer: the callee ends the session
			if resp.Status == StatusBusy {
				c.end(&StatusError{Status: StatusBusy, Msg: "the agent is busy: " + resp.Error})
			} else {
				c.end(fmt.Errorf("%w: the agent refused a request: %s", ErrBadMessage, resp.Error))
			}
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
func (c *clientSession) end(err error) {
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

// reason is why the session ended (nil while it has not).
func (c *clientSession) reason() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// close ends the session from this side.
func (c *clientSession) close() { c.end(errClosed) }

// retire ends the session once no request on it waits for its answer.
func (c *clientSession) retire() {
	c.mu.Lock()
	c.retired = true
	idle := c.active == 0
	c.mu.Unlock()
	if idle {
		c.close()
	}
}

// pathNow is the path of the session's stream now.
func (c *clientSession) pathNow() peers.Path {
	if c.path == nil {
		return peers.Path{}
	}
	return c.path()
}

// alive reports whether the session can take another request.
func (c *clientSession) alive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil
}
