package daemon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// InboxSide is the side store of the home that holds the inbox.
const InboxSide = "inbox"

// Message is one received message kept in the inbox (in the home, not on
// the chain).
type Message struct {
	Time int64          `cbor:"1,keyasint"` // µs
	From keys.PublicKey `cbor:"2,keyasint"`
	Body []byte         `cbor:"3,keyasint"`
	// Key is where the message is stored (set by List), for Remove.
	Key []byte `cbor:"-"`
}

// Inbox keeps received messages in time order, in the home's InboxSide.
// A message's key is its time (µs) and 4 random bytes, then its sender and
// the length of its body, so that what each sender holds is counted from
// the keys alone (inboxUse). The daemon's (Daemon.Inbox) stores messages
// added at the same time together (groupWriter) and counts them against its
// Quotas.
type Inbox struct {
	Store  *chain.Side
	home   *chain.Chain // Store's, whose disk space Remove gives back
	writer *groupWriter
	use    *inboxUse // nil outside the daemon
}

// HomeInbox is the inbox of the home c, for a command that runs without
// the daemon (the daemon's is Daemon.Inbox).
func HomeInbox(c *chain.Chain) Inbox {
	return Inbox{Store: c.Side(InboxSide), home: c}
}

// ReclaimAfter is what a Remove frees, in bytes of messages, from which on
// it gives their disk space back at once (chain.ReclaimSpace). Less waits
// for the next Remove that does: a message under Badger's value threshold
// (64 KiB) has its room back through the compactions that writes bring
// anyway, and a larger one through the next reclaim.
const ReclaimAfter = 1 << 20

// ErrNotReclaimed is wrapped by the error of a Remove that removed its
// messages but could not give their disk space back (with chain.ErrNoSpace
// when the filesystem is too full for the rewrite). The space comes back
// at the next Remove that frees ReclaimAfter bytes.
var ErrNotReclaimed = errors.New("the messages are removed, but their disk space is not given back yet")

// Sizes of an inbox key: time, random, sender, body length.
const (
	timedKeyLen = 8 + 4
	inboxKeyLen = timedKeyLen + 32 + 4
)

// Add stores m.
func (b Inbox) Add(m *Message) error {
	k := binary.BigEndian.AppendUint32(append(timedKey(m.Time), m.From[:]...), uint32(len(m.Body)))
	return storeTimed(b.Store, b.writer, k, detcbor.Marshal(m))
}

// List calls fn for each message, oldest first.
func (b Inbox) List(fn func(*Message) error) error {
	return b.Store.Iterate(nil, func(k, v []byte) error {
		var m Message
		if err := storedDecMode().Unmarshal(v, &m); err != nil {
			return fmt.Errorf("daemon: inbox: %w", err)
		}
		m.Key = k
		return fn(&m)
	})
}

// Remove deletes the messages stored under keys (Message.Key), in one
// write, and gives their room back to their senders; once they held
// ReclaimAfter bytes or more, it also gives their disk space back to the
// filesystem before it returns (bounded: see chain.ReclaimSpace). An error
// wrapping ErrNotReclaimed says the messages are removed all the same.
func (b Inbox) Remove(ks [][]byte) error {
	if b.use != nil {
		if err := b.use.load(b); err != nil { // count what is there before
			return err
		}
	}
	var freed int64
	for len(ks) > 0 {
		n := min(len(ks), maxGroup)
		held := make([]inboxEntry, 0, n)
		for _, k := range ks[:n] {
			e, err := b.entry(k)
			if err != nil {
				return err
			}
			held = append(held, e)
			freed += e.size
		}
		if err := b.Store.DeleteMany(ks[:n]); err != nil {
			return fmt.Errorf("daemon: inbox: %w", err)
		}
		if b.use != nil {
			for _, e := range held {
				b.use.release(e.from, e.size)
			}
		}
		ks = ks[n:]
	}
	if freed >= ReclaimAfter && b.home != nil {
		if err := b.home.ReclaimSpace(); err != nil {
			return fmt.Errorf("daemon: inbox: %w: %w", ErrNotReclaimed, err)
		}
	}
	return nil
}

// inboxEntry is what a key says of its message: sender and body length.
type inboxEntry struct {
	from keys.PublicKey
	size int64
}

// entry reads the sender and size of the message stored under k. A key of
// an inbox made before keys held them (time and random only) has its
// message read.
func (b Inbox) entry(k []byte) (inboxEntry, error) {
	var e inboxEntry
	switch len(k) {
	case inboxKeyLen:
		copy(e.from[:], k[timedKeyLen:])
		e.size = int64(binary.BigEndian.Uint32(k[timedKeyLen+32:]))
		return e, nil
	case timedKeyLen:
		v, err := b.Store.Get(k)
		if err != nil {
			return e, fmt.Errorf("daemon: inbox: %w", err)
		}
		var m Message
		if err := storedDecMode().Unmarshal(v, &m); err != nil {
			return e, fmt.Errorf("daemon: inbox: %w", err)
		}
		return inboxEntry{from: m.From, size: int64(len(m.Body))}, nil
	}
	return e, fmt.Errorf("daemon: inbox: a key of %d bytes", len(k))
}

// usage is what one sender, or all, hold in the inbox.
type usage struct {
	bytes    int64
	messages int
}

// inboxUse counts what each sender holds in the inbox, against Quotas. It
// is read from the keys of the inbox when first needed. Safe for concurrent
// use.
type inboxUse struct {
	once    sync.Once
	loadErr error

	mu      sync.Mutex
	total   usage
	senders map[keys.PublicKey]usage
}

// load counts the inbox b from its keys, once.
func (u *inboxUse) load(b Inbox) error {
	u.once.Do(func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.senders = map[keys.PublicKey]usage{}
		u.loadErr = b.Store.Keys(nil, func(k []byte, _ int64) error {
			e, err := b.entry(k)
			if err != nil {
				return err
			}
			u.add(e.from, e.size)
			return nil
		})
	})
	return u.loadErr
}

// add counts a message of size bytes from `from` (under u.mu).
func (u *inboxUse) add(from keys.PublicKey, size int64) {
	s := u.senders[from]
	s.bytes += size
	s.messages++
	u.senders[from] = s
	u.total.bytes += size
	u.total.messages++
}

// reserve counts a message of size bytes from `from` if the quotas q leave
// room for it, and reports whether they did.
func (u *inboxUse) reserve(q Quotas, from keys.PublicKey, size int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.senders[from]
	if u.total.bytes+size > q.InboxBytes || u.total.messages+1 > q.InboxMessages ||
		s.bytes+size > q.SenderBytes || s.messages+1 > q.SenderMessages {
		return false
	}
	u.add(from, size)
	return true
}

// release gives back what a message of size bytes from `from` held.
func (u *inboxUse) release(from keys.PublicKey, size int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.senders[from]
	s.bytes -= size
	s.messages--
	if s.messages <= 0 {
		delete(u.senders, from)
	} else {
		u.senders[from] = s
	}
	u.total.bytes -= size
	u.total.messages--
}
