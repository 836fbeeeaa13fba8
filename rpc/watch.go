package rpc

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// sessionTimes are the callee's read timeouts (implementation constants;
// a var so that tests can shorten them).
type sessionTimes struct {
	// start bounds a session's start: the handshake and the first message
	// of its first request.
	start time.Duration
	// progress: a frame in progress whose next message has not arrived
	// after this long ends its session (a caller that stalls mid-frame).
	progress time.Duration
	// idle is how long the callee keeps a session with no frame and no
	// request in progress open for the next request. A caller keeps an
	// idle session for less (clientIdle), so the callee never drops one
	// the caller is about to use.
	idle time.Duration
	// period is how often a session's watch looks.
	period time.Duration
}

var times = sessionTimes{start: 10 * time.Second, progress: 5 * time.Second, idle: 2 * time.Minute, period: time.Second}

// Why a watch ended a session.
var (
	errStalled  = errors.New("rpc: the caller stalled in the middle of a frame")
	errIdle     = errors.New("rpc: the session sat idle")
	errStopping = errors.New("rpc: the server stops")
)

// sessionWatch bounds the time a caller may make a served session wait: it
// ends the session (by making its reads fail) when the caller stalls in the
// middle of a frame for times.progress, or leaves the session idle for
// times.idle; until the first frame begins, the stream's deadline of
// times.start holds. It is the session's noiseproto.ReadMonitor for time
// (Await).
type sessionWatch struct {
	rw       io.ReadWriter
	midFrame atomic.Bool
	progress atomic.Int64 // when the frame in progress last made progress, Unix ns
	last     atomic.Int64 // when a request last arrived or was answered, Unix ns
	begun    atomic.Bool  // the first frame has begun: the start deadline is lifted

	mu      sync.Mutex
	ended   error // why the watch ended the session; nil while it runs
	timer   *time.Timer
	stopped bool
}

// newSessionWatch sets rw's deadline for the session's start.
func newSessionWatch(rw io.ReadWriter) *sessionWatch {
	w := &sessionWatch{rw: rw}
	now := time.Now()
	w.last.Store(now.UnixNano())
	setReadDeadline(rw, now.Add(times.start))
	setWriteDeadline(rw, now.Add(times.start))
	return w
}

// Await notes that the session waits for the stream: between frames, or
// in the middle of one (noiseproto.ReadMonitor).
func (w *sessionWatch) Await(midFrame bool) {
	if !midFrame {
		w.midFrame.Store(false)
		return
	}
	w.progress.Store(time.Now().UnixNano())
	if w.midFrame.Load() {
		return
	}
	w.midFrame.Store(true)
	if !w.begun.Load() {
		w.begun.Store(true)
		w.mu.Lock()
		if w.ended == nil {
			setReadDeadline(w.rw, time.Time{}) // progress is watched from here
		}
		w.mu.Unlock()
	}
}

// between notes that a frame has been read (or its read failed): the next
// one is the caller's to begin.
func (w *sessionWatch) between() { w.midFrame.Store(false) }

// touch notes a request arriving or answered.
func (w *sessionWatch) touch() { w.last.Store(time.Now().UnixNano()) }

// watch starts looking every times.period; idle reports whether no request
// is in progress. It returns a function that stops the watch.
func (w *sessionWatch) watch(idle func() bool) (stop func()) {
	w.mu.Lock()
	w.timer = time.AfterFunc(times.period, func() { w.look(idle) })
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		w.stopped = true
		w.timer.Stop()
		w.mu.Unlock()
	}
}

func (w *sessionWatch) look(idle func() bool) {
	now := time.Now().UnixNano()
	switch {
	case w.midFrame.Load():
		if time.Duration(now-w.progress.Load()) >= times.progress {
			w.end(errStalled)
			return
		}
	case idle() && time.Duration(now-w.last.Load()) >= times.idle:
		w.end(errIdle)
		return
	}
	w.mu.Lock()
	if !w.stopped {
		w.timer.Reset(times.period)
	}
	w.mu.Unlock()
}

// end ends the session: its reads fail from now on. The first reason is
// kept.
func (w *sessionWatch) end(why error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended == nil {
		w.ended = why
	}
	setReadDeadline(w.rw, time.Now())
}

// reason is why the watch ended the session, or nil.
func (w *sessionWatch) reason() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ended
}
