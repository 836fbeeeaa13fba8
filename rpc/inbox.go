package rpc

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/n2n-dev/n2n/keys"
)

// Message is one received message kept in the inbox (in the home, not on
// the chain).
type Message struct {
	Time    int64          `cbor:"1,keyasint"` // µs
	From    keys.PublicKey `cbor:"2,keyasint"`
	Message []byte         `cbor:"3,keyasint"`
}

// Store is a key-value side store of the home (chain.Side satisfies it).
type Store interface {
	Get(key []byte) ([]byte, error)
	Set(key, value []byte) error
	Delete(key []byte) error
	Iterate(prefix []byte, fn func(key, value []byte) error) error
}

// Inbox keeps received messages in time order.
type Inbox struct{ Store Store }

// Add stores m under a key that sorts by time.
func (b Inbox) Add(m *Message) error {
	k := binary.BigEndian.AppendUint64(nil, uint64(m.Time))
	var r [4]byte
	rand.Read(r[:])
	return b.Store.Set(append(k, r[:]...), encode(m))
}

// List calls fn for each message, oldest first.
func (b Inbox) List(fn func(*Message) error) error {
	return b.Store.Iterate(nil, func(_, v []byte) error {
		var m Message
		if err := cbor.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("rpc: inbox: %w", err)
		}
		return fn(&m)
	})
}

// Event is something the daemon reports: a message received, a claim stored.
type Event struct {
	Time    time.Time
	Kind    string // "message", "claim", …
	From    keys.PublicKey
	Message *Message
	Text    string
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
