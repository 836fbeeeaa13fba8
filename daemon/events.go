package daemon

import (
	"sync"
	"time"

	"github.com/n2n-dev/n2n/keys"
)

// Event is something the daemon reports: a message received or refused, a
// claim stored or pending, a call answered (allowed or refused, ok or
// failed).
type Event struct {
	Time    time.Time
	Kind    string // "message", "claim", "call", …
	From    keys.PublicKey
	Message *Message     // of a "message"
	Call    *AuditRecord // of a "call": as the audit log has it
	// Fields is what the event says besides: a claim's ID, functions and
	// tag; a refused message's status and what its sender was told; a call
	// that did not work, what its caller was told.
	Fields []string
}

// Events fans events out to subscribers (serve's output, inbox --follow).
// Slow subscribers lose events rather than stall the daemon.
type Events struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// Subscribe returns a channel of events and a function to stop.
func (e *Events) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	e.mu.Lock()
	if e.subs == nil {
		e.subs = map[chan Event]struct{}{}
	}
	e.subs[ch] = struct{}{}
	e.mu.Unlock()
	return ch, func() {
		e.mu.Lock()
		delete(e.subs, ch)
		e.mu.Unlock()
	}
}

// Publish sends ev to every subscriber that has room.
func (e *Events) Publish(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for ch := range e.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}
