package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
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
	badRequest := func() []byte { return detcbor.Marshal(&Response{Status: StatusBadRequest, Error: "malformed request"}) }
	req, err := openRequest(b, s.RemoteKey(), s.HandshakeHash())
	if err != nil {
		if errors.Is(err, ErrBadMessage) {
			return w.write(badRequest, false)
		}
		return err // a bad signature gets no answer at all
	}
	setReadDeadline(rw, time.Time{})
	ss := &serverSession{w: w, caller: s.RemoteKey(), dispatch: dispatch, now: now, turns: newTurns()}
	ss.answered = sync.NewCond(&ss.mu)
	stopIdle := ss.watchIdle(rw)
	defer stopIdle()
	stopCtx := context.AfterFunc(ctx, func() { setReadDeadline(rw, time.Now()) })
	defer stopCtx()
	ss.handle(ctx, req)
	for {
		b, err = s.ReadFrame()
		if err != nil {
			break
		}
		if req, err = DecodeRequest(b); err != nil {
			w.write(badRequest, false)
			break
		}
		ss.handle(ctx, req)
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

	mu       sync.Mutex
	answered *sync.Cond // signalled as requests are answered
	inFlight int        // requests in progress (handed to a goroutine)
	bytes    int        // their payloads' bytes

	turns *turns
	seq   uint64 // the next message's place in turns
	wg    sync.WaitGroup
	last  atomic.Int64 // when the last request arrived or was answered, Unix ns
	idled atomic.Bool  // the idle watch ended the session
}

// busy reports how many requests are in progress.
func (ss *serverSession) busy() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.inFlight
}

// handle answers req: a ping at once, any other request in its own
// goroutine (start).
//
// A ping is answered by the session itself, from the goroutine that reads
// requests, as HTTP/2 answers its PING frames: what it measures is the round
// trip to the callee's session, not the callee's scheduler, and it has
// nothing to wait for.
func (ss *serverSession) handle(ctx context.Context, req Request) {
	if req.Kind != KindPing {
		ss.start(ctx, req)
		return
	}
	resp := Response{ID: req.ID, Status: StatusOK}
	if !req.DeadlineTime().After(ss.now()) {
		resp = Response{ID: req.ID, Status: StatusTimeout, Error: "deadline already passed"}
	}
	ss.last.Store(time.Now().UnixNano())
	ss.w.write(func() []byte { return detcbor.Marshal(&resp) }, ss.busy() > 0)
}

// start answers req in its own goroutine. It waits until fewer than
// maxInFlight requests are in progress before, and until their payloads are
// within maxInFlightBytes after: it returns once another may be read.
func (ss *serverSession) start(ctx context.Context, req Request) {
	in := &Incoming{Caller: ss.caller, Request: req, Arrived: arrival()}
	if req.Kind == KindSend {
		in.turns, in.seq = ss.turns, ss.seq
		ss.seq++
	}
	size := len(req.Payload)
	ss.mu.Lock()
	for ss.inFlight >= maxInFlight {
		ss.answered.Wait()
	}
	ss.inFlight++
	ss.bytes += size
	ss.mu.Unlock()
	ss.last.Store(time.Now().UnixNano())
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		resp := ss.respond(ctx, in)
		if in.turns != nil {
			in.turns.finish(in.seq)
		}
		ss.w.write(func() []byte { return detcbor.Marshal(&resp) }, ss.busy() > 1)
		ss.last.Store(time.Now().UnixNano())
		ss.mu.Lock()
		ss.inFlight--
		ss.bytes -= size
		ss.mu.Unlock()
		ss.answered.Broadcast()
	}()
	ss.mu.Lock()
	for ss.bytes > maxInFlightBytes {
		ss.answered.Wait()
	}
	ss.mu.Unlock()
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
		if ss.busy() == 0 && idle >= sessionIdle {
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
