package daemon

import (
	"fmt"

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
}

// Inbox keeps received messages in time order, in the home's InboxSide. The
// daemon's (Daemon.Inbox) stores messages added at the same time together
// (groupWriter).
type Inbox struct {
	Store  *chain.Side
	writer *groupWriter
}

// Add stores m under a key that sorts by time.
func (b Inbox) Add(m *Message) error { return addTimed(b.Store, b.writer, m.Time, detcbor.Marshal(m)) }

// List calls fn for each message, oldest first.
func (b Inbox) List(fn func(*Message) error) error {
	return b.Store.Iterate(nil, func(_, v []byte) error {
		var m Message
		if err := storedDecMode().Unmarshal(v, &m); err != nil {
			return fmt.Errorf("daemon: inbox: %w", err)
		}
		return fn(&m)
	})
}
