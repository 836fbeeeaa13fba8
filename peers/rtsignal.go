package peers

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/peer"
)

// rtSignal wakes every goroutine waiting for the next signal.
type rtSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newRTSignal() *rtSignal { return &rtSignal{ch: make(chan struct{})} }

// next is closed at the next signal after the call.
func (s *rtSignal) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *rtSignal) signal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// rtWatch is a host's connection manager (a client's NullConnMgr, a
// server's libp2p default) that also signals whenever a peer is tagged or
// protected. kad-dht has no event for a peer entering its routing table, but
// tags or protects each such peer in the connection manager
// (RoutingTable.PeerAdded), so a wait for the table wakes at once instead of
// at the next tick, and an idle server's republishing needs no timer. Other
// tags only cause a spurious wake-up.
type rtWatch struct {
	connmgr.ConnManager
	s *rtSignal
}

// TagPeer implements connmgr.ConnManager.
func (w rtWatch) TagPeer(p peer.ID, tag string, v int) {
	w.ConnManager.TagPeer(p, tag, v)
	w.s.signal()
}

// Protect implements connmgr.ConnManager.
func (w rtWatch) Protect(p peer.ID, tag string) {
	w.ConnManager.Protect(p, tag)
	w.s.signal()
}
