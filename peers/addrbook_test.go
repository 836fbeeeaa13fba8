package peers

import (
	"errors"
	"testing"
	"time"
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
	v, _ := encMode.Marshal(bookValue{Addrs: []bookAddr{{Addr: mustAddrs(f, "/ip4/1.2.3.4/tcp/5")[0].Bytes(), Expires: 1}}, LastOK: 2})
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
