package rpc

import (
	"context"
	"sync"

	"github.com/n2n-dev/n2n/keys"
)

// sessionPool keeps one session per agent for an endpoint's clients, so
// that requests after the first skip the stream set-up and the handshake;
// concurrent requests to an agent share its session. The zero value is
// ready.
type sessionPool struct {
	mu       sync.Mutex
	sessions map[keys.PublicKey]*clientSession
	dials    map[keys.PublicKey]chan struct{} // closed when the dial ends
	closed   bool
}

// get returns a live session with `to`, or dials one (one dial at a time per
// agent: the others wait for it). fresh reports a session dialled by this
// call. A kept session that stale (if not nil) reports is given up: it ends
// once its requests are answered, and a new one is dialled — so the next
// stream of a relayed session runs on the direct connection once there is
// one (libp2p does not move streams).
func (p *sessionPool) get(ctx context.Context, to keys.PublicKey, stale func(*clientSession) bool, dial func() (*clientSession, error)) (c *clientSession, fresh bool, err error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, errClosed
		}
		if c := p.sessions[to]; c != nil && c.alive() {
			if stale == nil || !stale(c) {
				p.mu.Unlock()
				return c, false, nil
			}
			delete(p.sessions, to)
			p.mu.Unlock()
			c.retire() // outside p.mu: ending it calls forget
			continue
		}
		if wait := p.dials[to]; wait != nil {
			p.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
		if p.dials == nil {
			p.dials = map[keys.PublicKey]chan struct{}{}
			p.sessions = map[keys.PublicKey]*clientSession{}
		}
		done := make(chan struct{})
		p.dials[to] = done
		p.mu.Unlock()

		c, err := dial()
		p.mu.Lock()
		delete(p.dials, to)
		close(done)
		if err == nil {
			if p.closed {
				err = errClosed
			} else {
				p.sessions[to] = c
				c.mu.Lock()
				c.onEnd = func() { p.forget(to, c) }
				c.mu.Unlock()
			}
		}
		p.mu.Unlock()
		if err != nil {
			if c != nil {
				c.close()
			}
			return nil, true, err
		}
		return c, true, nil
	}
}

func (p *sessionPool) forget(to keys.PublicKey, c *clientSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sessions[to] == c {
		delete(p.sessions, to)
	}
}

// close ends every session of the pool; it dials no more.
func (p *sessionPool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.endAll()
}

// endAll ends every session of the pool (which zeroes their keys); the next
// request dials a new one.
func (p *sessionPool) endAll() {
	p.mu.Lock()
	sessions := make([]*clientSession, 0, len(p.sessions))
	for _, c := range p.sessions {
		sessions = append(sessions, c)
	}
	p.mu.Unlock()
	for _, c := range sessions {
		c.close()
	}
}
