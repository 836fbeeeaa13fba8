package rpc

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// Implementation constants of the callee's sessions.
const (
	// sessionIdle is how long the callee keeps a session with no request in
	// progress open for the next request. A caller keeps an idle session for
	// less (clientIdle), so the callee never drops one the caller is about
	// to use.
	sessionIdle = 2 * time.Minute
	// maxInFlight is how many requests of one session the callee works on
	// at once; it reads no further request until one is answered.
	maxInFlight = 1024
	// maxInFlightBytes bounds the payloads of one session's requests in
	// progress: past it, the callee reads no further request until some are
	// answered (so a session holds at most this plus one request in memory).
	maxInFlightBytes = 64 << 20
)

// serve runs the callee's side of a session on rw until the caller ends it,
// it stays idle for sessionIdle, or ctx ends: accept the handshake,
// authenticate the first, signed request, then answer every request with d,
// each in its own goroutine. Bad network input ends the session without a
// detailed answer. static is id's static key made beforehand (nil: the
// handshake derives it). clock is the callee's wall clock, which stamps
// arrivals (Incoming.Arrived); timeouts count on the monotonic clock from
// when a request is read. The first request must arrive before rw's read
// deadline, if the caller of serve set one.
func serve(ctx context.Context, rw io.ReadWriter, id *keys.Identity, static *noiseproto.Static, d Dispatcher, clock func() time.Time) error {
	stream := newBatchedStream(rw)
	s, err := noiseproto.Accept(stream, noiseproto.Config{Local: id, Static: static, MaxFrame: noiseproto.DefaultMaxFrame})
	if err != nil {
		return err
	}
	defer s.Close()
	b, err := s.ReadFrame()
	if err != nil {
		return err
	}
	w := newFrameWriter(s, stream)
	defer w.close() // sends the answers still in the batch
	badRequest := func() []byte {
		return EncodeResponse(&Response{Status: StatusBadRequest, Error: "malformed request"})
	}
	req, err := OpenRequest(b, s.RemoteKey(), s.HandshakeHash())
	if err != nil {
		if errors.Is(err, ErrBadMessage) {
			return w.write(badRequest, false)
		}
		return err // a bad signature gets no answer at all
	}
	setReadDeadline(rw, time.Time{})
	ss := &serverSession{w: w, caller: s.RemoteKey(), dispatcher: d, clock: clock, turns: newTurns()}
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
	w          *frameWriter
	caller     keys.PublicKey
	dispatcher Dispatcher
	clock      func() time.Time

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

// handle answers req, just read: a ping at once, a message or a call in
// its own goroutine (start), a request of a kind this version does not know
// with bad_request (the session goes on). Its timeout counts from now.
//
// A ping is answered by the session itself, from the goroutine that reads
// requests, as HTTP/2 answers its PING frames: what it measures is the round
// trip to the callee's session, not the callee's scheduler, and it has
// nothing to wait for.
func (ss *serverSession) handle(ctx context.Context, req Request) {
	deadline := time.Now().Add(req.TimeoutDuration())
	var resp Response
	switch req.Kind {
	case KindSend, KindCall:
		ss.start(ctx, req, deadline)
		return
	case KindPing:
		resp = Response{ID: req.ID, Status: StatusOK}
		if req.Timeout == 0 {
			resp = Response{ID: req.ID, Status: StatusTimeout, Error: errTimeoutPassed}
		}
	default:
		resp = Response{ID: req.ID, Status: StatusBadRequest, Error: "unknown request kind"}
	}
	ss.last.Store(time.Now().UnixNano())
	ss.w.write(func() []byte { return EncodeResponse(&resp) }, ss.busy() > 0)
}

// errTimeoutPassed is the error text of a request whose timeout passed
// before it could run.
const errTimeoutPassed = "the request's timeout passed before it ran"

// start answers req in its own goroutine. It waits until fewer than
// maxInFlight requests are in progress before, and until their payloads are
// within maxInFlightBytes after: it returns once another may be read.
func (ss *serverSession) start(ctx context.Context, req Request, deadline time.Time) {
	in := &Incoming{Caller: ss.caller, Request: req, Arrived: arrival(ss.clock)}
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
		resp := ss.respond(ctx, in, deadline)
		if in.turns != nil {
			in.turns.finish(in.seq)
		}
		ss.w.write(func() []byte { return EncodeResponse(&resp) }, ss.busy() > 1)
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

// respond dispatches a request until its deadline: its arrival plus its
// timeout.
func (ss *serverSession) respond(ctx context.Context, in *Incoming, deadline time.Time) Response {
	req := &in.Request
	if !time.Now().Before(deadline) {
		return Response{ID: req.ID, Status: StatusTimeout, Error: errTimeoutPassed}
	}
	dctx := &deadlineCtx{Context: ctx, deadline: deadline}
	defer dctx.release()
	resp := ss.dispatcher.Dispatch(dctx, in)
	resp.ID = req.ID
	if len(resp.Payload) > MaxPayload {
		resp = Response{ID: req.ID, Status: StatusHandlerError, Error: "reply over the payload limit"}
	}
	return resp
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
