package rpc

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/noiseproto"
)

// deadlines is what a session needs of its stream beyond reading and
// writing; streams without them (tests' pipes of bytes) get no deadlines.
type deadlines interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

func setReadDeadline(rw io.ReadWriter, t time.Time) {
	if d, ok := rw.(deadlines); ok {
		d.SetReadDeadline(t)
	}
}

func setWriteDeadline(rw io.ReadWriter, t time.Time) {
	if d, ok := rw.(deadlines); ok {
		d.SetWriteDeadline(t)
	}
}

// corkable sits between a Noise session and its stream. Until cork is
// called, writes go straight to the stream (the handshake needs each message
// sent as it is made). After it, a write made while nobody else is writing
// to the stream still goes straight to it; writes made meanwhile gather in a
// buffer that a goroutine of its own sends: whatever gathers while a write
// to the stream is in progress goes out in the next one. So pipelined
// requests, or the answers to them, cost one write to the stream (and one
// packet) per batch instead of one per frame, and for a large frame n2n's
// encryption of the next messages runs at the same time as the transport's
// work on the last ones (libp2p's own encryption, yamux, TCP) instead of in
// turn.
type corkable struct {
	rw io.ReadWriter

	mu      sync.Mutex
	buf     []byte     // gathered, not yet taken by the goroutine
	spare   []byte     // the goroutine's last buffer, for reuse
	room    *sync.Cond // signalled when the goroutine takes buf
	wake    chan struct{}
	drained chan struct{} // closed when the goroutine has stopped
	writing bool          // a writer or the goroutine is writing to the stream
	closed  bool
	err     error // the first write error: the stream is broken

	deadlineSet time.Time // when the write deadline was last moved
	// gather: the frame being written has company (other requests of the
	// session in progress), so it waits for the goroutine even if the
	// stream is free: more are likely to join it. Set by sessionWriter.
	gather bool
}

// maxGathered is how much a writer may gather before it waits for the
// goroutine to take it: a sender faster than the stream is held back here.
const maxGathered = 1 << 20

func newCorkable(rw io.ReadWriter) *corkable { return &corkable{rw: rw} }

func (c *corkable) Read(p []byte) (int, error) { return c.rw.Read(p) }

func (c *corkable) Write(p []byte) (int, error) {
	if c.wake == nil { // not corked: the handshake
		return c.rw.Write(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.buf) >= maxGathered && c.err == nil && !c.closed {
		c.room.Wait()
	}
	switch {
	case c.err != nil:
		return 0, c.err
	case c.closed:
		return 0, errConnClosed
	case !c.writing && len(c.buf) == 0 && !c.gather:
		// Nobody is writing: write now, in this goroutine (a lone request
		// or answer waits for no hand-over); what others write meanwhile
		// gathers for the goroutine.
		c.writing = true
		c.mu.Unlock()
		c.extendDeadline()
		n, err := c.rw.Write(p)
		c.mu.Lock()
		c.writing = false
		if err != nil {
			if c.err == nil {
				c.err = fmt.Errorf("rpc: write: %w", err)
			}
			c.room.Broadcast()
			return n, c.err
		}
		if len(c.buf) > 0 {
			c.wakeWriter()
		}
		return n, nil
	}
	c.buf = append(c.buf, p...)
	if !c.writing {
		c.wakeWriter()
	}
	return len(p), nil
}

// extendDeadline keeps the stream's write deadline writeTimeout ahead,
// moving it at most once a second (setting it costs a lock and a timer in
// yamux). Only the one writing calls it.
func (c *corkable) extendDeadline() {
	now := time.Now()
	if now.Sub(c.deadlineSet) >= time.Second {
		c.deadlineSet = now
		setWriteDeadline(c.rw, now.Add(writeTimeout))
	}
}

func (c *corkable) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// cork starts gathering writes and the goroutine that sends them. The
// session must not be writing.
func (c *corkable) cork() {
	c.room = sync.NewCond(&c.mu)
	c.drained = make(chan struct{})
	c.buf = make([]byte, 0, 64<<10)
	c.wake = make(chan struct{}, 1)
	go c.writeLoop()
}

// writeLoop sends what is gathered, in order, until close; after an error
// it sends nothing more.
func (c *corkable) writeLoop() {
	defer close(c.drained)
	for range c.wake {
		for {
			c.mu.Lock()
			if len(c.buf) == 0 || c.err != nil || c.writing {
				// Nothing to send, or a writer is at the stream: it wakes
				// this goroutine again if more gathered meanwhile.
				c.room.Broadcast()
				c.mu.Unlock()
				break
			}
			b := c.buf
			c.buf, c.spare = c.spare[:0], nil
			c.writing = true
			c.room.Broadcast()
			c.mu.Unlock()

			c.extendDeadline()
			_, err := c.rw.Write(b)

			c.mu.Lock()
			c.writing = false
			if err != nil && c.err == nil {
				c.err = fmt.Errorf("rpc: write: %w", err)
			}
			if cap(b) <= 4*maxGathered {
				c.spare = b
			}
			c.mu.Unlock()
		}
	}
}

// close sends what is gathered, then stops the goroutine; later writes
// fail. It returns the first write error, if any.
func (c *corkable) close() error {
	if c.wake == nil {
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.drained
		return c.err
	}
	c.closed = true
	c.room.Broadcast()
	c.mu.Unlock()
	close(c.wake) // the goroutine drains what is gathered first
	<-c.drained
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// sessionWriter writes frames on a session for many goroutines at once,
// through the session's corkable.
type sessionWriter struct {
	s   *noiseproto.Session
	out *corkable
	mu  sync.Mutex
}

func newSessionWriter(s *noiseproto.Session, out *corkable) *sessionWriter {
	out.cork()
	return &sessionWriter{s: s, out: out}
}

// close sends what is written and stops the writer; later writes fail.
func (w *sessionWriter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.close()
}

// write sends one frame, made by frame under the writer's lock (so that
// what must be first is first). It returns once the frame is gathered for
// the stream, or with the error that broke the stream, which breaks the
// session's sending side for good. busy says that other requests of the
// session are in progress: the frame then joins the next batch rather
// than going out alone.
func (w *sessionWriter) write(frame func() []byte, busy bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.mu.Lock()
	w.out.gather = busy
	w.out.mu.Unlock()
	return w.s.WriteFrame(frame())
}
