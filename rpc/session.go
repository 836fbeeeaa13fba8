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
)

// A session carries many requests (DESIGN §6, "one stream per invocation";
// an invocation such as `send --lines`, or a daemon, may make many). The
// first transport message is the signed request of DESIGN §6: it binds the
// session to the caller's agent key and to this handshake. Every later
// request on the session is a plain request encoding: each transport message
// is authenticated by keys only this session's two ends hold, and numbered,
// so it can be neither forged nor replayed, and a signature would add
// nothing but ~70 µs. The caller may send a request before the previous ones
// are answered; the callee answers each, under its ID, as it finishes.

// maxFrame bounds one sealed request or response: the payload limit plus
// room for the envelope, the secret and an error text.
const maxFrame = MaxPayload + 64<<10

// Implementation constants of sessions.
const (
	// sessionIdle is how long the callee keeps a session with no request in
	// progress open for the next request. A caller keeps an idle session for
	// less (connIdle), so the callee never drops one the caller is about to
	// use.
	sessionIdle = 2 * time.Minute
	// maxInFlight is how many requests of one session the callee works on
	// at once; it reads no further request until one is answered.
	maxInFlight = 1024
	// maxInFlightBytes bounds the payloads of one session's requests in
	// progress: past it, the callee reads no further request until some are
	// answered (so a session holds at most this plus one request in memory).
	maxInFlightBytes = 64 << 20
	// writeTimeout bounds each write of frames to the stream.
	writeTimeout = 30 * time.Second
)

// Errors of the calling side, for the command line to map to exit statuses.
var (
	// ErrAuth: the handshake or the reply did not authenticate (exit 8).
	ErrAuth = errors.New("authentication failed")
	// ErrTimeout: connected, but no reply before the deadline (exit 6).
	ErrTimeout = errors.New("no reply before the deadline")
	// ErrTooLarge: the payload is over MaxPayload; nothing was sent (exit 3).
	ErrTooLarge = fmt.Errorf("payload over the %d MiB limit", MaxPayload>>20)
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
// to the stream is in progress goes out in the next one. So pipelined requests, or
// the answers to them, cost one write to the stream (and one packet) per
// batch instead of one per frame, and for a large frame n2n's encryption of
// the next messages runs at the same time as the transport's work on the
// last ones (libp2p's own encryption, yamux, TCP) instead of in turn.
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

// Incoming is an authenticated request as the server's dispatcher sees it.
type Incoming struct {
	Caller  keys.PublicKey
	Request Request
	// Arrived is when the session read the request: in the order of
	// arrival, never two alike in one process (zero: not from a session).
	Arrived time.Time

	turns *turns // of the request's session: its messages (nil: not a message from a session)
	seq   uint64 // the message's place in it
}

// WaitTurn waits until every message (send) that came before this one on
// its session has been answered: the daemon calls it before a message runs
// the receive function, so that one sender's messages are handled one at a
// time, in the order they were sent (`send --lines` reaches a receive
// function line by line, and a pipelining sender takes one handler slot,
// not all of them). Messages that go to the inbox do not wait; calls are
// not ordered (a daemon's session carries independent commands). It
// returns ctx's error if ctx ends first.
func (in *Incoming) WaitTurn(ctx context.Context) error {
	if in.turns == nil {
		return nil
	}
	return in.turns.wait(ctx, in.seq)
}

// turns orders the messages of one session: next is the first message not
// yet answered; answered holds those answered after it.
type turns struct {
	mu       sync.Mutex
	next     uint64
	answered map[uint64]bool
	moved    chan struct{} // closed (and replaced) when next moves
}

func newTurns() *turns { return &turns{answered: map[uint64]bool{}, moved: make(chan struct{})} }

// finish records that request seq is answered.
func (t *turns) finish(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq != t.next {
		t.answered[seq] = true
		return
	}
	for t.next++; t.answered[t.next]; t.next++ {
		delete(t.answered, t.next)
	}
	close(t.moved)
	t.moved = make(chan struct{})
}

// wait waits until every request before seq is answered.
func (t *turns) wait(ctx context.Context, seq uint64) error {
	for {
		t.mu.Lock()
		next, moved := t.next, t.moved
		t.mu.Unlock()
		if next >= seq {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var lastArrival atomic.Int64 // µs since the epoch

// arrival returns the time now in µs, but later than any it returned before,
// so that requests pipelined on a session keep their order where they are
// kept by time (the inbox).
func arrival() time.Time {
	for {
		last := lastArrival.Load()
		t := max(time.Now().UnixMicro(), last+1)
		if lastArrival.CompareAndSwap(last, t) {
			return time.UnixMicro(t)
		}
	}
}

// Dispatcher answers an authenticated request. ctx ends at the request's
// deadline (or when the server stops).
type Dispatcher func(ctx context.Context, in *Incoming) Response

// serveSession runs the callee's side of a session on rw until the caller
// ends it, it stays idle for sessionIdle, or ctx ends: accept the handshake,
// authenticate the first, signed request, then answer every request with
// dispatch, each in its own goroutine. Bad network input ends the session
// without a detailed answer. static is id's static key made beforehand (nil:
// the handshake derives it). The first request must arrive before rw's read
// deadline, if the caller of serveSession set one.
func serveSession(ctx context.Context, rw io.ReadWriter, id *keys.Identity, static *noiseproto.Static, dispatch Dispatcher, now func() time.Time) error {
	out := newCorkable(rw)
	s, err := noiseproto.Accept(out, noiseproto.Config{Local: id, Static: static, MaxFrame: maxFrame})
	if err != nil {
		return err
	}
	defer s.Close()
	b, err := s.ReadFrame()
	if err != nil {
		return err
	}
	w := newSessionWriter(s, out)
	defer w.close() // sends the answers still gathered
	req, err := openRequest(b, s.RemoteKey(), s.HandshakeHash())
	if err != nil {
		if errors.Is(err, ErrBadMessage) {
			return w.write(func() []byte { return encode(&Response{Status: StatusBadRequest, Error: "malformed request"}) }, false)
		}
		return err // a bad signature gets no answer at all
	}
	setReadDeadline(rw, time.Time{})
	ss := &serverSession{w: w, caller: s.RemoteKey(), dispatch: dispatch, now: now, slots: make(chan struct{}, maxInFlight), turns: newTurns()}
	ss.bytesFree = sync.NewCond(&ss.bytesMu)
	stopIdle := ss.watchIdle(rw)
	defer stopIdle()
	stopCtx := context.AfterFunc(ctx, func() { setReadDeadline(rw, time.Now()) })
	defer stopCtx()
	ss.start(ctx, req)
	for {
		b, err = s.ReadFrame()
		if err != nil {
			break
		}
		if req, err = DecodeRequest(b); err != nil {
			w.write(func() []byte { return encode(&Response{Status: StatusBadRequest, Error: "malformed request"}) }, false)
			break
		}
		ss.start(ctx, req)
	}
	ss.wg.Wait()
	if err == io.EOF || ss.idled.Load() || ctx.Err() != nil {
		return nil // the caller is done, or the session was idle, or the server stops
	}
	return err
}

// serverSession is the state of one session on the callee's side.
type serverSession struct {
	w        *sessionWriter
	caller   keys.PublicKey
	dispatch Dispatcher
	now      func() time.Time

	slots chan struct{} // one per request in progress

	bytesMu   sync.Mutex
	bytesFree *sync.Cond // signalled as payloads are answered
	bytes     int        // payload bytes of the requests in progress
	turns     *turns
	seq       uint64 // the next message's place in turns
	wg        sync.WaitGroup
	last      atomic.Int64 // when the last request arrived or was answered, Unix ns
	idled     atomic.Bool  // the idle watch ended the session
}

// start answers req in its own goroutine, keeping fewer than maxInFlight
// in progress and their payloads within maxInFlightBytes; it returns once
// another may be read.
func (ss *serverSession) start(ctx context.Context, req Request) {
	in := &Incoming{Caller: ss.caller, Request: req, Arrived: arrival()}
	if req.Kind == KindSend {
		in.turns, in.seq = ss.turns, ss.seq
		ss.seq++
	}
	size := len(req.Payload)
	ss.slots <- struct{}{}
	ss.holdBytes(size)
	ss.last.Store(time.Now().UnixNano())
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		resp := ss.respond(ctx, in)
		if in.turns != nil {
			in.turns.finish(in.seq)
		}
		ss.w.write(func() []byte { return encode(&resp) }, len(ss.slots) > 1)
		ss.last.Store(time.Now().UnixNano())
		ss.releaseBytes(size)
		<-ss.slots
	}()
	ss.waitBytes()
}

// holdBytes, releaseBytes and waitBytes keep the payloads in progress
// within maxInFlightBytes.
func (ss *serverSession) holdBytes(n int) {
	ss.bytesMu.Lock()
	ss.bytes += n
	ss.bytesMu.Unlock()
}

func (ss *serverSession) releaseBytes(n int) {
	ss.bytesMu.Lock()
	ss.bytes -= n
	ss.bytesMu.Unlock()
	ss.bytesFree.Broadcast()
}

func (ss *serverSession) waitBytes() {
	ss.bytesMu.Lock()
	for ss.bytes > maxInFlightBytes {
		ss.bytesFree.Wait()
	}
	ss.bytesMu.Unlock()
}

// respond dispatches a request under its own deadline.
func (ss *serverSession) respond(ctx context.Context, in *Incoming) Response {
	req := &in.Request
	deadline := req.DeadlineTime()
	if !deadline.After(ss.now()) {
		return Response{ID: req.ID, Status: StatusTimeout, Error: "deadline already passed"}
	}
	cctx := &deadlineCtx{Context: ctx, deadline: deadline}
	defer cctx.release()
	resp := ss.dispatch(cctx, in)
	resp.ID = req.ID
	if len(resp.Payload) > MaxPayload {
		resp = Response{ID: req.ID, Status: StatusHandlerError, Error: "reply over the payload limit"}
	}
	return resp
}

// deadlineCtx is context.WithDeadline(Context, deadline) made only when
// something waits on it (Done): most requests (a ping, a message for the
// inbox) are answered without ever waiting, and a context with a deadline
// costs a timer and a place in its parent's set of children.
type deadlineCtx struct {
	context.Context // the parent
	deadline        time.Time

	mu     sync.Mutex
	ctx    context.Context // made by the first Done
	cancel context.CancelFunc
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithDeadline(c.Context, c.deadline)
	}
	return c.ctx.Done()
}

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	made := c.ctx
	c.mu.Unlock()
	switch {
	case made != nil:
		return made.Err()
	case c.Context.Err() != nil:
		return c.Context.Err()
	case !time.Now().Before(c.deadline):
		return context.DeadlineExceeded
	}
	return nil
}

// release frees the timer, if Done made one.
func (c *deadlineCtx) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}

// watchIdle ends the session (by making its read fail) once no request has
// been in progress for sessionIdle, which also ends a caller that stalls in
// the middle of a frame. It returns a function that stops the watch.
func (ss *serverSession) watchIdle(rw io.ReadWriter) (stop func()) {
	var t *time.Timer
	var mu sync.Mutex
	stopped := false
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		idle := time.Since(time.Unix(0, ss.last.Load()))
		if len(ss.slots) == 0 && idle >= sessionIdle {
			ss.idled.Store(true)
			setReadDeadline(rw, time.Now())
			return
		}
		t.Reset(max(sessionIdle-idle, time.Second))
	}
	ss.last.Store(time.Now().UnixNano())
	mu.Lock()
	t = time.AfterFunc(sessionIdle, check)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}
