package rpc

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// Implementation constants of the callee's sessions.
const (
	// maxInFlight is how many requests of one session the callee works on
	// at once; it reads no further request until one is answered.
	maxInFlight = 1024
	// maxInFlightBytes bounds the bytes of one session's requests in
	// progress: past it, the callee reads no further request until some are
	// answered. So one session holds at most this and one frame (16 MiB),
	// within a caller's budget (the daemon's is 32 MiB), and a caller that
	// pipelines large requests on one session is slowed, not refused.
	maxInFlightBytes = 8 << 20
)

// agentStream is a stream that knows the agent at its other end (a
// peers.Stream: the key libp2p authenticated).
type agentStream interface{ RemoteAgent() keys.PublicKey }

// serve runs the callee's side of a session on rw until the caller ends it,
// it stalls or stays idle (sessionWatch), or ctx ends: accept the
// handshake, authenticate the first, signed request, then answer every
// request with d, each in its own goroutine. Bad network input ends the
// session without a detailed answer. static is id's static key made
// beforehand (nil: the handshake derives it). clock is the callee's wall
// clock, which stamps arrivals (Incoming.Arrived); timeouts count on the
// monotonic clock from when a request is read. When rw knows its remote
// agent (agentStream), the session's caller must be that agent. The bytes
// its requests hold count against b (nil: no budget); a frame that would
// go over it is answered busy (a response with ID 0) and ends the session.
func serve(ctx context.Context, rw io.ReadWriter, id *keys.Identity, static *noiseproto.Static, d Dispatcher, clock func() time.Time, b Budget) error {
	watch := newSessionWatch(rw)
	mem := &sessionMemory{budget: b}
	stream := newBatchedStream(rw)
	s, err := noiseproto.Accept(stream, noiseproto.Config{
		Local: id, Static: static, MaxFrame: noiseproto.DefaultMaxFrame,
		Monitor: struct {
			*sessionWatch
			*sessionMemory
		}{watch, mem},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	mem.caller = s.RemoteKey()
	if as, ok := rw.(agentStream); ok && as.RemoteAgent() != mem.caller {
		return errors.New("rpc: the session's agent is not the stream's peer")
	}
	w := newFrameWriter(s, stream)
	defer w.close() // sends the answers still in the batch
	ss := &serverSession{w: w, caller: mem.caller, dispatcher: d, clock: clock, turns: newTurns(), watch: watch, mem: mem}
	ss.answered = sync.NewCond(&ss.mu)
	stop := watch.watch(func() bool { return ss.busy() == 0 })
	defer stop()
	stopCtx := context.AfterFunc(ctx, func() { watch.end(errStopping) })
	defer stopCtx()

	for first := true; ; first = false {
		var frame []byte
		frame, err = s.ReadFrame()
		watch.between()
		if err != nil {
			mem.drop()
			break
		}
		held := mem.take()
		var req Request
		if first {
			req, err = OpenRequest(frame, mem.caller, s.HandshakeHash())
		} else {
			req, err = DecodeRequest(frame)
		}
		if err != nil {
			mem.release(held)
			if first && !errors.Is(err, ErrBadMessage) {
				return err // a bad signature gets no answer at all
			}
			ss.wg.Wait() // their answers first: the caller ends the session on this one
			w.write(func() []byte { return EncodeResponse(&badRequestResponse) }, false)
			return err
		}
		ss.handle(ctx, req, held)
	}
	ss.wg.Wait()
	switch why := watch.reason(); {
	case errors.Is(err, errOverBudget):
		w.write(func() []byte { return EncodeResponse(&busyResponse) }, false)
		return err
	case why == errStalled:
		return why
	case err == io.EOF || why != nil || ctx.Err() != nil:
		return nil // the caller is done, or the session was idle, or the server stops
	}
	return err
}

// The answers that end a session: not to one request (ID 0).
var (
	badRequestResponse = Response{Status: StatusBadRequest, Error: "malformed request"}
	busyResponse       = Response{Status: StatusBusy, Error: "the agent is over its memory budget for requests in progress"}
)

// serverSession is the state of one session on the callee's side.
type serverSession struct {
	w          *frameWriter
	caller     keys.PublicKey
	dispatcher Dispatcher
	clock      func() time.Time

	mu       sync.Mutex
	answered *sync.Cond // signalled as requests are answered
	inFlight int        // requests in progress (handed to a goroutine)
	bytes    int        // the bytes they hold

	turns *turns
	seq   uint64 // the next message's place in turns
	wg    sync.WaitGroup
	watch *sessionWatch
	mem   *sessionMemory
}

// busy reports how many requests are in progress.
func (ss *serverSession) busy() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.inFlight
}

// handle answers req, just read, which holds `held` bytes of the session's
// memory: a ping at once, a message or a call in its own goroutine (start),
// a request of a kind this version does not know with bad_request (the
// session goes on). Its timeout counts from now.
//
// A ping is answered by the session itself, from the goroutine that reads
// requests, as HTTP/2 answers its PING frames: what it measures is the round
// trip to the callee's session, not the callee's scheduler, and it has
// nothing to wait for.
func (ss *serverSession) handle(ctx context.Context, req Request, held int) {
	deadline := time.Now().Add(req.TimeoutDuration())
	var resp Response
	switch req.Kind {
	case KindSend, KindCall:
		ss.start(ctx, req, deadline, held)
		return
	case KindPing:
		resp = Response{ID: req.ID, Status: StatusOK}
		if req.Timeout == 0 {
			resp = Response{ID: req.ID, Status: StatusTimeout, Error: errTimeoutPassed}
		}
	default:
		resp = Response{ID: req.ID, Status: StatusBadRequest, Error: "unknown request kind"}
	}
	ss.mem.release(held)
	ss.watch.touch()
	ss.w.write(func() []byte { return EncodeResponse(&resp) }, ss.busy() > 0)
}

// errTimeoutPassed is the error text of a request whose timeout passed
// before it could run.
const errTimeoutPassed = "the request's timeout passed before it ran"

// start answers req in its own goroutine, and releases the bytes it holds
// once it is answered. It waits until fewer than maxInFlight requests are
// in progress before, and until their bytes are within maxInFlightBytes
// after: it returns once another may be read.
func (ss *serverSession) start(ctx context.Context, req Request, deadline time.Time, held int) {
	in := &Incoming{Caller: ss.caller, Request: req, Arrived: arrival(ss.clock)}
	if req.Kind == KindSend {
		in.turns, in.seq = ss.turns, ss.seq
		ss.seq++
	}
	ss.mu.Lock()
	for ss.inFlight >= maxInFlight {
		ss.answered.Wait()
	}
	ss.inFlight++
	ss.bytes += held
	ss.mu.Unlock()
	ss.watch.touch()
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		resp := ss.respond(ctx, in, deadline)
		if in.turns != nil {
			in.turns.finish(in.seq)
		}
		ss.w.write(func() []byte { return EncodeResponse(&resp) }, ss.busy() > 1)
		ss.watch.touch()
		ss.mem.release(held)
		ss.mu.Lock()
		ss.inFlight--
		ss.bytes -= held
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
