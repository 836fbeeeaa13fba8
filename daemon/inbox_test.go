package daemon

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/chain"
)

// allocatedSize is chain.AllocatedSize, failing t on an error.
func allocatedSize(t *testing.T, dir string) int64 {
	t.Helper()
	n, err := chain.AllocatedSize(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// clearInbox removes every message of b, as inbox --clear does, and
// returns how many there were.
func clearInbox(t *testing.T, b Inbox) int {
	t.Helper()
	var ks [][]byte
	if err := b.List(func(m *Message) error { ks = append(ks, m.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove(ks); err != nil {
		t.Fatal(err)
	}
	return len(ks)
}

// TestInboxClearGivesDiskSpaceBack is a stranger's way to fill a disk: two
// strangers fill the inbox with 64 MiB of 1 MiB messages, within their
// quotas, and the user clears it; eight times over, the clear run by the
// daemon (inbox --clear while serve runs) and by a command on its own in
// turn. Messages that large live in Badger's value log, which nothing
// shrank: the home grew by each round's 64 MiB (512 MiB after eight).
// Now the home stays under three rounds' data, and after a reopen too.
func TestInboxClearGivesDiskSpaceBack(t *testing.T) {
	home := initHome(t)
	db := filepath.Join(home, "db")
	const (
		rounds, perStranger = 8, 32
		size                = 1<<20 - 1<<10 // 32 of them fit a sender's 32 MiB
		bound               = 3 * 2 * perStranger << 20
	)
	for r := range rounds {
		d, stop := startDaemon(t, home, nil, nil)
		acked, refused := flood(t, d, "round", strangers(t, d, 2), perStranger, size)
		if len(acked) != 2*perStranger || len(refused) != 0 {
			t.Fatalf("round %d: %d messages stored, %d refused", r, len(acked), len(refused))
		}
		var cleared int
		if r%2 == 0 {
			cleared = clearInbox(t, d.Inbox())
			stop()
		} else {
			stop()
			c, err := chain.Open(context.Background(), home, chain.Options{LockTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			cleared = clearInbox(t, HomeInbox(c))
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}
		got := allocatedSize(t, db)
		t.Logf("round %d: %d messages cleared, the home's store takes %d MiB", r, cleared, got>>20)
		if cleared != len(acked) {
			t.Fatalf("round %d: %d messages cleared, want %d", r, cleared, len(acked))
		}
		if got > bound {
			t.Fatalf("round %d: the home's store takes %d MiB after its inbox was cleared, more than %d MiB", r, got>>20, bound>>20)
		}
	}
}
