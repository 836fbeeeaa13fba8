package peers

import (
	"errors"
	"testing"
	"time"

	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/internal/detcbor"
)

func TestAddrBook(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	now := t0
	b := &AddrBook{Store: &MemStore{}, now: func() time.Time { return now }}
	a, c := testIdentity(t, 1).Public(), testIdentity(t, 2).Public()

	if got, err := b.Lookup(a); err != nil || len(got) != 0 {
		t.Fatalf("empty book: %v %v", got, err)
	}
	if err := b.Add(a, mustAddrs(t, "/ip4/127.0.0.1/tcp/1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	now = now.Add(30 * time.Minute)
	// With a /p2p/ suffix naming the agent: accepted, suffix dropped.
	if err := b.Add(a, mustAddrs(t, "/ip4/127.0.0.1/tcp/2/p2p/"+a.PeerID()), 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := b.Lookup(a)
	if err != nil || len(got) != 2 || got[0].String() != "/ip4/127.0.0.1/tcp/2" || got[1].String() != "/ip4/127.0.0.1/tcp/1" {
		t.Fatalf("lookup: %v %v", got, err)
	}
	// The first address expires an hour after it was added.
	now = now.Add(31 * time.Minute)
	if got, _ := b.Lookup(a); len(got) != 1 || got[0].String() != "/ip4/127.0.0.1/tcp/2" {
		t.Fatalf("after expiry: %v", got)
	}
	// A /p2p/ suffix naming someone else is refused.
	if err := b.Add(a, mustAddrs(t, "/ip4/127.0.0.1/tcp/3/p2p/"+c.PeerID()), time.Hour); !errors.Is(err, ErrBadAddress) {
		t.Fatalf("wrong peer: %v", err)
	}
	if err := b.add(c, mustAddrs(t, "/ip4/127.0.0.1/udp/9/quic-v1"), time.Hour, true); err != nil {
		t.Fatal(err)
	}
	list, err := b.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	for _, e := range list {
		switch e.Agent {
		case a:
			if !e.LastOK.IsZero() || !e.Expires.Equal(t0.Add(30*time.Minute+2*time.Hour)) {
				t.Errorf("a: %+v", e)
			}
		case c:
			if !e.LastOK.Equal(now) || len(e.Addrs) != 1 {
				t.Errorf("c: %+v", e)
			}
		default:
			t.Errorf("unknown entry %v", e.Agent)
		}
	}
	if err := b.Forget(a); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Lookup(a); len(got) != 0 {
		t.Fatalf("after forget: %v", got)
	}
	now = now.Add(2 * time.Hour)
	if list, _ := b.List(); len(list) != 0 {
		t.Fatalf("all expired, list: %v", list)
	}
}

func TestAddrBookCap(t *testing.T) {
	b := &AddrBook{Store: &MemStore{}}
	a := testIdentity(t, 1).Public()
	for i := 0; i < maxBookAddrs+4; i++ {
		if err := b.Add(a, mustAddrs(t, "/ip4/10.0.0."+string(rune('0'+i%10))+"/tcp/"+string(rune('1'+i%9))), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := b.Lookup(a); len(got) > maxBookAddrs {
		t.Fatalf("%d addresses kept", len(got))
	}
}

func FuzzDecodeBookValue(f *testing.F) {
	v, _ := detcbor.EncMode().Marshal(bookValue{Addrs: []bookAddr{{Addr: mustAddrs(f, "/ip4/1.2.3.4/tcp/5")[0].Bytes(), Expires: 1}}, LastOK: 2})
	f.Add(v)
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := decodeBookValue(raw)
		if err != nil {
			return
		}
		b := &AddrBook{Store: &MemStore{}}
		_ = b.entry(testIdentity(t, 1).Public(), v) // must not panic
	})
}

// countingStore counts the writes to a MemStore.
type countingStore struct {
	MemStore
	sets int
}

func (s *countingStore) Set(key, value []byte) error {
	s.sets++
	return s.MemStore.Set(key, value)
}

func TestAddrBookConfirm(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	now := t0
	store := &countingStore{}
	b := &AddrBook{Store: store, now: func() time.Time { return now }}
	a := testIdentity(t, 1).Public()
	tcp, quic := mustAddrs(t, "/ip4/127.0.0.1/tcp/1"), mustAddrs(t, "/ip4/127.0.0.1/udp/1/quic-v1")
	confirm := func(addrs []multiaddr.Multiaddr, wantWrite bool, why string) {
		t.Helper()
		before := store.sets
		wrote, err := b.confirm(a, addrs, DefaultTTL)
		if err != nil {
			t.Fatalf("%s: %v", why, err)
		}
		if wrote != wantWrite || store.sets-before != map[bool]int{false: 0, true: 1}[wantWrite] {
			t.Fatalf("%s: wrote %v (%d sets), want %v", why, wrote, store.sets-before, wantWrite)
		}
	}
	lastOK := func() time.Time {
		t.Helper()
		list, err := b.List()
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v %v", list, err)
		}
		return list[0].LastOK
	}

	// Added by hand (n2n peers add): never confirmed, so the first
	// connection writes LastOK.
	if err := b.Add(a, append(append([]multiaddr.Multiaddr{}, tcp...), quic...), DefaultTTL); err != nil {
		t.Fatal(err)
	}
	confirm(tcp, true, "never confirmed")
	if !lastOK().Equal(now) {
		t.Fatalf("LastOK %v, want %v", lastOK(), now)
	}
	// Confirmed a minute ago, addresses stored for a day: nothing to write,
	// whichever stored address connected.
	now = now.Add(time.Minute)
	confirm(tcp, false, "just confirmed")
	confirm(quic, false, "just confirmed, other stored address")
	confirm(append(append([]multiaddr.Multiaddr{}, tcp...), quic...), false, "both connections")
	// An address that is not stored is written at once.
	confirm(mustAddrs(t, "/ip4/127.0.0.1/tcp/2"), true, "new address")
	// Still within the hour: quiet again.
	now = t0.Add(59 * time.Minute)
	confirm(tcp, false, "59 minutes")
	// An hour after the last confirmation (the new address's, at t0+1m):
	// written, so a user who calls once a day refreshes it every time.
	now = t0.Add(time.Minute + time.Hour)
	confirm(tcp, true, "an hour later")
	if !lastOK().Equal(now) {
		t.Fatalf("LastOK %v, want %v", lastOK(), now)
	}
	// A LastOK in the future (the clock went back) is not trusted.
	now = now.Add(-2 * time.Hour)
	confirm(tcp, true, "LastOK in the future")

	// Confirmed recently, but the address expires in less than half the
	// TTL: written, which pushes the expiry back.
	now = t0.Add(48 * time.Hour)
	if err := b.add(a, tcp, DefaultTTL/2-time.Minute, true); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	confirm(tcp, true, "expires within TTL/2")
	confirm(tcp, false, "expiry pushed back")
	list, _ := b.List()
	if len(list) != 1 || !list[0].Expires.Equal(now.Add(DefaultTTL)) {
		t.Fatalf("after refresh: %+v", list)
	}
	// An address naming another peer is refused, as by Add.
	if _, err := b.confirm(a, mustAddrs(t, "/ip4/127.0.0.1/tcp/3/p2p/"+testIdentity(t, 2).Public().PeerID()), DefaultTTL); !errors.Is(err, ErrBadAddress) {
		t.Fatalf("wrong peer: %v", err)
	}
}
