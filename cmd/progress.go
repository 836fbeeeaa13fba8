package cmd

import (
	"fmt"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/rpc"
)

// progressDelay is how long a request waits before its progress shows: the
// many requests answered sooner show none.
const progressDelay = time.Second

// progress is the status line (output.IO.Status) of a request to another
// agent, on a terminal's stderr: once the request has waited progressDelay,
// what it waits for and for how long, redrawn each second and at each new
// phase, and gone when the request ends.
type progress struct {
	io    *output.IO
	who   string
	begun time.Time
	done  chan struct{}
	ended sync.WaitGroup

	mu    sync.Mutex
	phase rpc.Phase
	shown bool
}

// beginProgress shows the progress of a request to `to` on a terminal,
// until the function it returns is called. Phases come from showPhase.
func (e *env) beginProgress(to keys.PublicKey) (end func()) {
	if !e.io.ErrTTY {
		return func() {}
	}
	p := &progress{io: e.io, who: short(to.String()), begun: time.Now(), done: make(chan struct{})}
	e.progress.Store(p)
	p.ended.Go(func() {
		t := time.NewTimer(progressDelay)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw(true)
				t.Reset(time.Second)
			case <-p.done:
				return
			}
		}
	})
	return func() {
		e.progress.CompareAndSwap(p, nil)
		p.mu.Lock()
		close(p.done) // no draw after this
		p.mu.Unlock()
		p.ended.Wait()
		e.io.Status("")
	}
}

// showPhase tells the request's progress, if shown, its phase
// (rpc.Client.Progress).
func (e *env) showPhase(ph rpc.Phase) {
	if p := e.progress.Load(); p != nil {
		p.mu.Lock()
		p.phase = ph
		p.mu.Unlock()
		p.draw(false)
	}
}

// draw shows the status line; unless due, only if it is shown already.
func (p *progress) draw(due bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !due && !p.shown {
		return
	}
	select {
	case <-p.done:
		return // ended: the line is being taken away
	default:
	}
	p.shown = true
	p.io.Status(fmt.Sprintf("n2n: %s (%s)", phaseText(p.phase, p.who), time.Since(p.begun).Round(time.Second)))
}

// phaseText says what a request in phase ph waits for.
func phaseText(ph rpc.Phase, who string) string {
	switch ph {
	case rpc.PhaseDialling:
		return "dialling " + who
	case rpc.PhaseResolving:
		return "looking " + who + " up in the DHT"
	case rpc.PhaseHandshake:
		return "opening a session with " + who
	case rpc.PhaseWaiting:
		return "waiting for " + who + " to reply"
	}
	return "connecting to " + who
}
