package rpc

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// Message is one received message kept in the inbox (in the home, not on
// the chain).
type Message struct {
	Time    int64          `cbor:"1,keyasint"` // µs
	From    keys.PublicKey `cbor:"2,keyasint"`
	Message []byte         `cbor:"3,keyasint"`
}

// storeDecMode reads inbox messages and audit records, from the home.
var storeDecMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

// Store is a key-value side store of the home (chain.Side satisfies it).
type Store interface {
	Get(key []byte) ([]byte, error)
	Set(key, value []byte) error
	Delete(key []byte) error
	Iterate(prefix []byte, fn func(key, value []byte) error) error
}

// Inbox keeps received messages in time order. The daemon's (Daemon.Inbox)
// stores messages added at the same time together (groupWriter).
type Inbox struct {
	Store  Store
	writer *groupWriter
}

// Add stores m under a key that sorts by time.
func (b Inbox) Add(m *Message) error { return addTimed(b.Store, b.writer, m.Time, detcbor.Marshal(m)) }

// addTimed stores v in s under a key that sorts by t (µs) and then at
// random, through w when there is one.
func addTimed(s Store, w *groupWriter, t int64, v []byte) error {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 12), uint64(t))
	var r [4]byte
	rand.Read(r[:])
	k = append(k, r[:]...)
	if w != nil {
		return w.set(k, v)
	}
	return s.Set(k, v)
}

// batchStore is a Store that can write many pairs in one transaction
// (chain.Side).
type batchStore interface {
	SetMany(kvs [][2][]byte) error
}

// maxGroup bounds the pairs of one group write (a Badger transaction has a
// size limit).
const maxGroup = 1024

// groupWriter stores pairs written at the same time by many goroutines in
// one transaction: Badger syncs its logs once per transaction, which costs
// ~2 ms here, so messages pipelined on a session would otherwise each pay
// it. A write returns once its pair is synced, as Store.Set does.
type groupWriter struct {
	store batchStore
	mu    sync.Mutex
	queue []groupItem
	busy  bool // a goroutine is writing the queue
}

type groupItem struct {
	kv   [2][]byte
	done chan error
}

func newGroupWriter(s batchStore) *groupWriter { return &groupWriter{store: s} }

// set queues the pair, and writes the queue unless another goroutine is
// already at it; either way it returns the outcome of the write that held
// the pair.
func (g *groupWriter) set(k, v []byte) error {
	done := make(chan error, 1)
	g.mu.Lock()
	g.queue = append(g.queue, groupItem{[2][]byte{k, v}, done})
	leader := !g.busy
	g.busy = true
	g.mu.Unlock()
	if leader {
		g.writeOne()
	}
	return <-done
}

// writeOne writes what is queued (up to maxGroup pairs); if more is queued
// by then, another goroutine goes on, so that no writer waits for others'
// pairs after its own are stored.
func (g *groupWriter) writeOne() {
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	kvs := make([][2][]byte, len(batch))
	for i, it := range batch {
		kvs[i] = it.kv
	}
	err := g.store.SetMany(kvs)
	for _, it := range batch {
		it.done <- err
	}

	g.mu.Lock()
	more := len(g.queue) > 0
	g.busy = more
	g.mu.Unlock()
	if more {
		go g.writeOne()
	}
}

// List calls fn for each message, oldest first.
func (b Inbox) List(fn func(*Message) error) error {
	return b.Store.Iterate(nil, func(_, v []byte) error {
		var m Message
		if err := storeDecMode().Unmarshal(v, &m); err != nil {
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
