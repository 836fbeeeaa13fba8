package rpc

import (
	"sync"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// staticKey holds an identity's Noise static key pair (noiseproto.Static),
// made on first use and shared by every later session. Safe for concurrent
// use; the zero value is empty.
type staticKey struct {
	mu sync.Mutex
	st *noiseproto.Static
}

// get returns id's static key pair, making it if there is none or it is
// another identity's; nil if it cannot be made (the handshake then derives
// the key itself and reports the error).
func (k *staticKey) get(id *keys.Identity) *noiseproto.Static {
	if id == nil {
		return nil
	}
	agent := id.Public()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.st != nil && k.st.Agent() == agent {
		return k.st
	}
	if k.st != nil {
		k.st.Zero()
		k.st = nil
	}
	st, err := noiseproto.NewStatic(id)
	if err != nil {
		return nil
	}
	k.st = st
	return st
}

// zero zeroes the key pair held, if any; the next get makes it again.
// Sessions that already hold it derive the key from the identity instead.
func (k *staticKey) zero() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.st != nil {
		k.st.Zero()
		k.st = nil
	}
}
