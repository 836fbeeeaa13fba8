package daemon

import (
	"crypto/rand"
	"encoding/binary"
	"sync"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/internal/detcbor"
)

// storedDecMode reads inbox messages and audit records, from the home.
var storedDecMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

// timedKey is a key that sorts by t (µs) and then at random: the start of
// the keys of the inbox and the audit log.
func timedKey(t int64) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 64), uint64(t))
	var r [4]byte
	rand.Read(r[:])
	return append(k, r[:]...)
}

// storeTimed stores v in s under k, through w when there is one.
func storeTimed(s *chain.Side, w *groupWriter, k, v []byte) error {
	if w != nil {
		return w.set(k, v)
	}
	return s.Set(k, v)
}

// batchStore is a store that can write many pairs in one transaction
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
// it. A write returns once its pair is synced, as chain.Side.Set does.
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
