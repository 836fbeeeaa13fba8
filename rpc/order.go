package rpc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

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

// arrival returns the time now on clock in µs, but later than any it
// returned before, so that requests pipelined on a session keep their order
// where they are kept by time (the inbox).
func arrival(clock func() time.Time) time.Time {
	for {
		last := lastArrival.Load()
		t := max(clock().UnixMicro(), last+1)
		if lastArrival.CompareAndSwap(last, t) {
			return time.UnixMicro(t)
		}
	}
}
