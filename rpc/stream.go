package rpc

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Implementation constants of a session's stream.
const (
	// writeTimeout bounds each write of frames to the stream.
	writeTimeout = 30 * time.Second
	// maxBatch is how much a writer may add to the batch before it waits
	// for the batch to be taken: a sender faster than the stream is held
	// back here.
	maxBatch = 1 << 20
)

// errClosed: the session was closed on this side (the client stopped, or
// the session sat idle).
var errClosed = errors.New("rpc: session closed")

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

// batchedStream is the stream under a Noise session. During the handshake
// a write goes straight to the stream; once batching starts, a write made
// while the stream is free still does, and writes made meanwhile join a
// batch that a goroutine of its own sends as soon as the stream is free.
// So pipelined frames cost one stream write (and one packet) per batch,
// and the sealing of the next frames overlaps the transport's work on the
// last batch.
type batchedStream struct {
	rw io.ReadWriter

	mu      sync.Mutex // guards the batch: held only to hand bytes over
	batch   []byte     // written, not yet taken by the goroutine
	spare   []byte     // the goroutine's last batch, for reuse
	room    *sync.Cond // signalled when the goroutine takes the batch
	wake    chan struct{}
	drained chan struct{} // closed when the goroutine has stopped
	writing bool          // a writer or the goroutine is writing to the stream
	closed  bool
	err     error // the first write error: the stream is broken
	// join: the frame being written has company (other requests of the
	// session in progress), so it joins the batch even if the stream is
	// free: more are likely to follow. Set by frameWriter.
	join bool

	deadlineSet time.Time // when the write deadline was last moved
}

func newBatchedStream(rw io.ReadWriter) *batchedStream { return &batchedStream{rw: rw} }

func (s *batchedStream) Read(p []byte) (int, error) { return s.rw.Read(p) }

func (s *batchedStream) Write(p []byte) (int, error) {
	if s.wake == nil { // not batching yet: the handshake
		return s.rw.Write(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.batch) >= maxBatch && s.err == nil && !s.closed {
		s.room.Wait()
	}
	switch {
	case s.err != nil:
		return 0, s.err
	case s.closed:
		return 0, errClosed
	case !s.writing && len(s.batch) == 0 && !s.join:
		// The stream is free: write now, in this goroutine (a lone request
		// or answer waits for no hand-over); what others write meanwhile
		// joins the batch.
		s.writing = true
		s.mu.Unlock()
		s.extendDeadline()
		n, err := s.rw.Write(p)
		s.mu.Lock()
		s.writing = false
		if err != nil {
			if s.err == nil {
				s.err = fmt.Errorf("rpc: write: %w", err)
			}
			s.room.Broadcast()
			return n, s.err
		}
		if len(s.batch) > 0 {
			s.wakeSender()
		}
		return n, nil
	}
	s.batch = append(s.batch, p...)
	if !s.writing {
		s.wakeSender()
	}
	return len(p), nil
}

// extendDeadline keeps the stream's write deadline writeTimeout ahead,
// moving it at most once a second (setting it costs a lock and a timer in
// yamux). Only the one writing calls it.
func (s *batchedStream) extendDeadline() {
	now := time.Now()
	if now.Sub(s.deadlineSet) >= time.Second {
		s.deadlineSet = now
		setWriteDeadline(s.rw, now.Add(writeTimeout))
	}
}

func (s *batchedStream) wakeSender() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// startBatching starts batching writes and the goroutine that sends the
// batches. Nothing may be writing.
func (s *batchedStream) startBatching() {
	s.room = sync.NewCond(&s.mu)
	s.drained = make(chan struct{})
	s.batch = make([]byte, 0, 64<<10)
	s.wake = make(chan struct{}, 1)
	go s.sendBatches()
}

// sendBatches sends the batches, in order, until close; after an error it
// sends nothing more.
func (s *batchedStream) sendBatches() {
	defer close(s.drained)
	for range s.wake {
		for {
			s.mu.Lock()
			if len(s.batch) == 0 || s.err != nil || s.writing {
				// Nothing to send, or a writer is at the stream: it wakes
				// this goroutine again if the batch grew meanwhile.
				s.room.Broadcast()
				s.mu.Unlock()
				break
			}
			b := s.batch
			s.batch, s.spare = s.spare[:0], nil
			s.writing = true
			s.room.Broadcast()
			s.mu.Unlock()

			s.extendDeadline()
			_, err := s.rw.Write(b)

			s.mu.Lock()
			s.writing = false
			if err != nil && s.err == nil {
				s.err = fmt.Errorf("rpc: write: %w", err)
			}
			if cap(b) <= 4*maxBatch {
				s.spare = b
			}
			s.mu.Unlock()
		}
	}
}

// close sends the batch, then stops the goroutine; later writes fail. It
// returns the first write error, if any.
func (s *batchedStream) close() error {
	if s.wake == nil {
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.drained
		return s.err
	}
	s.closed = true
	s.room.Broadcast()
	s.mu.Unlock()
	close(s.wake) // the goroutine sends the batch first
	<-s.drained
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
