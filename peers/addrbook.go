package peers

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// BookSide is the side store of the home (chain.Side) that holds the
// address book.
const BookSide = "peers"

// Store is the small key-value interface the address book is kept in. The
// caller provides it (the home's BookSide, or MemStore).
type Store interface {
	// Get returns (nil, nil) when key is absent.
	Get(key []byte) ([]byte, error)
	Set(key, value []byte) error
	Delete(key []byte) error
	// Iterate calls fn for every key starting with prefix, in key order.
	Iterate(prefix []byte, fn func(key, value []byte) error) error
}

// bookPrefix is the key prefix of address-book entries; the 32 raw bytes
// of the agent key follow.
const bookPrefix = "peers/addr/"

// Implementation limits of the address book.
const (
	// DefaultTTL is how long addresses that connected are remembered.
	DefaultTTL = 24 * time.Hour
	// confirmAge: a connection from the address book does not rewrite an
	// entry confirmed (LastOK) less than this long ago, as long as the
	// addresses that connected are stored and stay for more than half of
	// their TTL (see confirm).
	confirmAge = time.Hour
	// maxBookAddrs bounds the addresses kept per agent (most recent first).
	maxBookAddrs = 16
	maxBookValue = 16 << 10
)

// ErrBadAddress is wrapped when a multiaddr cannot be used: unparsable, or
// naming a different peer than the agent it is given for.
var ErrBadAddress = errors.New("bad address")

// Entry is one agent in the address book.
type Entry struct {
	Agent   keys.PublicKey
	Addrs   []multiaddr.Multiaddr // unexpired, most recently added first
	LastOK  time.Time             // last successful connection; zero if never
	Expires time.Time             // when the last address expires
}

// AddrBook remembers addresses at which agents were reached, each with an
// expiry. It keeps nothing in memory: every call reads or writes Store.
// The zero value is not usable; set Store. Safe for concurrent use as long
// as only one AddrBook writes to the Store.
type AddrBook struct {
	Store Store

	mu  sync.Mutex
	now func() time.Time // for tests
}

// bookDecMode reads address-book values, from the local store.
var bookDecMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 2 * maxBookAddrs, MaxMapPairs: 16})

type bookAddr struct {
	Addr    []byte `cbor:"a"`
	Expires int64  `cbor:"exp"` // Unix microseconds
}

type bookValue struct {
	Addrs  []bookAddr `cbor:"addrs"`
	LastOK int64      `cbor:"ok,omitempty"` // Unix microseconds
}

func (b *AddrBook) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}

func bookKey(agent keys.PublicKey) []byte { return append([]byte(bookPrefix), agent[:]...) }

// ParseAddr parses a multiaddr, for example from the command line. Errors
// wrap ErrBadAddress.
func ParseAddr(s string) (multiaddr.Multiaddr, error) {
	a, err := multiaddr.NewMultiaddr(s)
	if err != nil {
		return nil, fmt.Errorf("peers: %w %q: %v", ErrBadAddress, s, err)
	}
	return a, nil
}

// transportAddr strips a trailing /p2p/<id> from a, checking that the ID is
// agent's peer ID.
func transportAddr(agent keys.PublicKey, a multiaddr.Multiaddr) (multiaddr.Multiaddr, error) {
	rest, last := multiaddr.SplitLast(a)
	if last == nil || last.Protocol().Code != multiaddr.P_P2P {
		if len(a.Bytes()) == 0 {
			return nil, fmt.Errorf("peers: %w: empty address", ErrBadAddress)
		}
		return a, nil
	}
	id, err := peer.IDFromBytes(last.RawValue())
	if err != nil || !bytes.Equal([]byte(id), agent.PeerIDBytes()) {
		return nil, fmt.Errorf("peers: %w %s: names peer %s, not agent %s", ErrBadAddress, a, last.Value(), agent)
	}
	if len(rest.Bytes()) == 0 {
		return nil, fmt.Errorf("peers: %w %s: no transport address", ErrBadAddress, a)
	}
	return rest, nil
}

func (b *AddrBook) load(agent keys.PublicKey) (bookValue, error) {
	var v bookValue
	raw, err := b.Store.Get(bookKey(agent))
	if err != nil || raw == nil {
		return v, err
	}
	return decodeBookValue(raw)
}

func decodeBookValue(raw []byte) (bookValue, error) {
	var v bookValue
	if len(raw) > maxBookValue {
		return v, fmt.Errorf("peers: address book: entry of %d bytes", len(raw))
	}
	if err := bookDecMode().Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("peers: address book: %w", err)
	}
	return v, nil
}

// Add remembers addrs for agent until now+ttl, in front of the addresses
// already known. A trailing /p2p/ component must name agent and is dropped.
func (b *AddrBook) Add(agent keys.PublicKey, addrs []multiaddr.Multiaddr, ttl time.Duration) error {
	return b.add(agent, addrs, ttl, false)
}

func (b *AddrBook) add(agent keys.PublicKey, addrs []multiaddr.Multiaddr, ttl time.Duration, ok bool) error {
	clean, err := transportAddrs(agent, addrs)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, err := b.load(agent)
	if err != nil {
		return fmt.Errorf("peers: address book add: %w", err)
	}
	return b.store(agent, v, clean, ttl, ok)
}

// confirm records that agent was just reached at addrs, the addresses of
// the live connections, which came from the address book: add(agent,
// addrs, ttl, true), unless the entry was confirmed less than confirmAge
// ago (LastOK, not in the future) and holds each of addrs for more than
// ttl/2 yet. So a burst of calls writes once an hour at most, and a call a
// day still refreshes LastOK and the expiry. It reports whether it wrote.
func (b *AddrBook) confirm(agent keys.PublicKey, addrs []multiaddr.Multiaddr, ttl time.Duration) (bool, error) {
	clean, err := transportAddrs(agent, addrs)
	if err != nil {
		return false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	v, err := b.load(agent)
	if err != nil {
		return false, fmt.Errorf("peers: address book add: %w", err)
	}
	if b.fresh(v, clean, ttl) {
		return false, nil
	}
	return true, b.store(agent, v, clean, ttl, true)
}

// fresh tells whether v was confirmed recently and holds every one of addrs
// for more than ttl/2 yet.
func (b *AddrBook) fresh(v bookValue, addrs []multiaddr.Multiaddr, ttl time.Duration) bool {
	now := b.clock()
	if age := now.Sub(time.UnixMicro(v.LastOK)); v.LastOK == 0 || age < 0 || age >= confirmAge {
		return false
	}
	keep := now.Add(ttl / 2).UnixMicro()
	for _, a := range addrs {
		i := slices.IndexFunc(v.Addrs, func(ba bookAddr) bool { return bytes.Equal(ba.Addr, a.Bytes()) })
		if i < 0 || v.Addrs[i].Expires <= keep {
			return false
		}
	}
	return len(addrs) > 0
}

// transportAddrs is transportAddr of each of addrs.
func transportAddrs(agent keys.PublicKey, addrs []multiaddr.Multiaddr) ([]multiaddr.Multiaddr, error) {
	clean := make([]multiaddr.Multiaddr, 0, len(addrs))
	for _, a := range addrs {
		t, err := transportAddr(agent, a)
		if err != nil {
			return nil, err
		}
		clean = append(clean, t)
	}
	return clean, nil
}

// store writes agent's entry: clean (transport addresses) in front, until
// now+ttl, then what is left of v; LastOK is now if ok. b.mu is held.
func (b *AddrBook) store(agent keys.PublicKey, v bookValue, clean []multiaddr.Multiaddr, ttl time.Duration, ok bool) error {
	now := b.clock()
	exp := now.Add(ttl).UnixMicro()
	next := bookValue{LastOK: v.LastOK}
	if ok {
		next.LastOK = now.UnixMicro()
	}
	seen := map[string]bool{}
	for _, a := range clean {
		if k := string(a.Bytes()); !seen[k] {
			seen[k] = true
			next.Addrs = append(next.Addrs, bookAddr{Addr: a.Bytes(), Expires: exp})
		}
	}
	for _, old := range v.Addrs {
		if !seen[string(old.Addr)] && old.Expires > now.UnixMicro() {
			seen[string(old.Addr)] = true
			next.Addrs = append(next.Addrs, old)
		}
	}
	if len(next.Addrs) > maxBookAddrs {
		next.Addrs = next.Addrs[:maxBookAddrs]
	}
	raw, err := detcbor.EncMode().Marshal(next)
	if err != nil {
		return fmt.Errorf("peers: address book add: %w", err)
	}
	if err := b.Store.Set(bookKey(agent), raw); err != nil {
		return fmt.Errorf("peers: address book add: %w", err)
	}
	return nil
}

// Lookup returns agent's unexpired addresses, most recent first; none (and
// no error) when the agent is unknown.
func (b *AddrBook) Lookup(agent keys.PublicKey) ([]multiaddr.Multiaddr, error) {
	v, err := b.load(agent)
	if err != nil {
		return nil, fmt.Errorf("peers: address book lookup: %w", err)
	}
	e := b.entry(agent, v)
	return e.Addrs, nil
}

func (b *AddrBook) entry(agent keys.PublicKey, v bookValue) Entry {
	now := b.clock().UnixMicro()
	e := Entry{Agent: agent}
	if v.LastOK != 0 {
		e.LastOK = time.UnixMicro(v.LastOK)
	}
	var last int64
	for _, ba := range v.Addrs {
		if ba.Expires <= now {
			continue
		}
		a, err := multiaddr.NewMultiaddrBytes(ba.Addr)
		if err != nil {
			continue
		}
		e.Addrs = append(e.Addrs, a)
		last = max(last, ba.Expires)
	}
	if last != 0 {
		e.Expires = time.UnixMicro(last)
	}
	return e
}

// List returns every agent with at least one unexpired address, in key
// order.
func (b *AddrBook) List() ([]Entry, error) {
	var out []Entry
	err := b.Store.Iterate([]byte(bookPrefix), func(key, value []byte) error {
		var agent keys.PublicKey
		if len(key) != len(bookPrefix)+len(agent) {
			return nil
		}
		copy(agent[:], key[len(bookPrefix):])
		v, err := decodeBookValue(value)
		if err != nil {
			return err
		}
		if e := b.entry(agent, v); len(e.Addrs) > 0 {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("peers: address book list: %w", err)
	}
	return out, nil
}

// Forget removes agent from the address book.
func (b *AddrBook) Forget(agent keys.PublicKey) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.Store.Delete(bookKey(agent)); err != nil {
		return fmt.Errorf("peers: address book forget: %w", err)
	}
	return nil
}

// AddText is Add for one address given as text (n2n peers add). Unlike Add
// it accepts an address whose /p2p/ component names another agent: it is
// stripped, and that agent is returned so the caller can warn. Connections
// to the address are still authenticated as agent.
func (b *AddrBook) AddText(agent keys.PublicKey, addr string, ttl time.Duration) (other *keys.PublicKey, err error) {
	a, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if rest, last := multiaddr.SplitLast(a); last != nil && last.Protocol().Code == multiaddr.P_P2P {
		id, err := peer.IDFromBytes(last.RawValue())
		if err != nil {
			return nil, fmt.Errorf("peers: %w %s: %v", ErrBadAddress, addr, err)
		}
		if !bytes.Equal([]byte(id), agent.PeerIDBytes()) {
			o, err := agentOfPeer(id)
			if err != nil {
				return nil, fmt.Errorf("peers: %w %s: %v", ErrBadAddress, addr, err)
			}
			other, a = &o, rest
		}
	}
	return other, b.Add(agent, []multiaddr.Multiaddr{a}, ttl)
}
