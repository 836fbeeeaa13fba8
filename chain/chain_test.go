package chain

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
)

func newChain(t testing.TB, key []byte) (*Chain, string) {
	t.Helper()
	home := t.TempDir()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Init(context.Background(), home, id, Options{EncryptionKey: key, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, home
}

func TestGenesisAndAppend(t *testing.T) {
	c, home := newChain(t, nil)
	g, err := c.Head()
	if err != nil || g.Seq != 0 || g.EntryType != EntryAgentKey || g.Author != c.Identity().Public() {
		t.Fatalf("genesis: %+v %v", g, err)
	}
	r, err := c.Append(Draft{Type: Create, EntryType: "app:note", Entry: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 1 || keys.Hash(r.Prev[:32]) != g.Hash {
		t.Fatalf("append: %+v", r)
	}
	e, err := c.Entry(r.EntryHash)
	if err != nil || string(e) != "hello" {
		t.Fatalf("entry %q %v", e, err)
	}
	if n, err := c.Verify(); err != nil || n != 2 {
		t.Fatalf("verify %d %v", n, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen read-only: same head, same identity.
	c2, err := Open(context.Background(), home, Options{ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	h, _ := c2.Head()
	if h.Hash != r.Hash || c2.Identity().Public() != g.Author {
		t.Fatal("reopen")
	}
	if _, err := c2.Append(Draft{Type: Create, EntryType: "app:x"}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append read-only: %v", err)
	}
}

func TestInitRefusesExisting(t *testing.T) {
	c, home := newChain(t, nil)
	c.Close()
	id, _ := keys.Generate()
	if _, err := Init(context.Background(), home, id, Options{LockTimeout: time.Second}); !errors.Is(err, ErrExists) {
		t.Fatalf("second init: %v", err)
	}
	c2, err := Open(context.Background(), home, Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.Identity().Public() == id.Public() {
		t.Fatal("identity replaced")
	}
}

func TestTargets(t *testing.T) {
	c, _ := newChain(t, nil)
	g, _ := c.Head()
	a, _ := c.Append(Draft{Type: Create, EntryType: "app:post", Entry: []byte("v1")})
	if _, err := c.Append(Draft{Type: Delete, EntryType: EntryAgentKey, Target: g.Hash}); !errors.Is(err, ErrBadTarget) {
		t.Fatalf("delete genesis: %v", err)
	}
	if _, err := c.Append(Draft{Type: Update, EntryType: "app:other", Entry: []byte("x"), Target: a.Hash}); !errors.Is(err, ErrBadTarget) {
		t.Fatalf("update across types: %v", err)
	}
	u, err := c.Append(Draft{Type: Update, EntryType: "app:post", Entry: []byte("v2"), Target: a.Hash})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Append(Draft{Type: Delete, EntryType: "app:post", Target: a.Hash})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Append(Draft{Type: Delete, EntryType: "app:post", Target: a.Hash}); !errors.Is(err, ErrBadTarget) {
		t.Fatalf("double delete: %v", err)
	}
	if _, err := c.Append(Draft{Type: Delete, EntryType: "app:post", Target: d.Hash}); !errors.Is(err, ErrBadTarget) {
		t.Fatalf("delete a delete: %v", err)
	}
	rs, err := c.ByTarget(a.Hash)
	if err != nil || len(rs) != 2 || rs[0].Hash != u.Hash || rs[1].Hash != d.Hash {
		t.Fatalf("by target: %v %v", rs, err)
	}
	if del, _ := c.Deleted(a.Hash); !del {
		t.Fatal("not deleted")
	}
	var n int
	c.ByType("app:post", func(Record) error { n++; return nil })
	if n != 3 {
		t.Fatalf("by type: %d", n)
	}
	if _, err := c.Verify(); err != nil {
		t.Fatal(err)
	}
}

// TestIndexFunc: IndexFunc sees the hash of the action being appended, and
// its writes commit with the action and Index's writes, or not at all.
func TestIndexFunc(t *testing.T) {
	c, _ := newChain(t, nil)
	var seen keys.Hash
	r, err := c.Append(Draft{
		Type: Create, EntryType: "app:post", Entry: []byte("v1"),
		Index: []IndexWrite{{Name: "t", Key: []byte("k"), Value: []byte("index")}, {Name: "t", Key: []byte("gone"), Value: []byte("x")}},
		IndexFunc: func(h keys.Hash) []IndexWrite {
			seen = h
			return []IndexWrite{
				{Name: "t", Key: append([]byte("id/"), h[:]...), Value: []byte("v1")},
				{Name: "t", Key: []byte("k"), Value: h[:]}, // after Index: wins
				{Name: "t", Key: []byte("gone"), Delete: true},
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != r.Hash {
		t.Fatalf("IndexFunc got %s, the action is %s", seen.ActionString(), r.Hash.ActionString())
	}
	if v, err := c.IndexGet("t", append([]byte("id/"), r.Hash[:]...)); err != nil || string(v) != "v1" {
		t.Fatalf("key made from the hash: %q %v", v, err)
	}
	if v, err := c.IndexGet("t", []byte("k")); err != nil || keys.Hash(v) != r.Hash {
		t.Fatalf("IndexFunc's write does not win over Index's: %q %v", v, err)
	}
	if _, err := c.IndexGet("t", []byte("gone")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("IndexFunc's delete: %v", err)
	}

	// An IndexFunc write that fails takes the action and Index's writes
	// with it.
	head, _ := c.Head()
	var failed keys.Hash
	_, err = c.Append(Draft{
		Type: Create, EntryType: "app:post", Entry: []byte("v2"),
		Index: []IndexWrite{{Name: "t", Key: []byte("early"), Value: []byte("x")}},
		IndexFunc: func(h keys.Hash) []IndexWrite {
			failed = h
			return []IndexWrite{
				{Name: "t", Key: append([]byte("id/"), h[:]...), Value: []byte("v2")},
				{Name: "t", Key: make([]byte, 1<<17)}, // over Badger's key limit
			}
		},
	})
	if err == nil || failed.IsZero() {
		t.Fatalf("oversized index key: %v (IndexFunc called: %v)", err, !failed.IsZero())
	}
	if h, _ := c.Head(); h.Hash != head.Hash {
		t.Fatal("the failed append moved the head")
	}
	if _, err := c.Get(failed); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the failed action is stored: %v", err)
	}
	for _, k := range [][]byte{[]byte("early"), append([]byte("id/"), failed[:]...)} {
		if _, err := c.IndexGet("t", k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("index key %q of the failed append: %v", k[:5], err)
		}
	}

	// Not called when there is no action to make.
	called := false
	_, err = c.Append(Draft{Type: Delete, EntryType: "app:post", Target: keys.Hash{1},
		IndexFunc: func(keys.Hash) []IndexWrite { called = true; return nil }})
	if !errors.Is(err, ErrBadTarget) || called {
		t.Fatalf("bad target: %v, IndexFunc called: %v", err, called)
	}
	// A delete's IndexFunc gets the delete's hash.
	d, err := c.Append(Draft{Type: Delete, EntryType: "app:post", Target: r.Hash,
		Index:     []IndexWrite{{Name: "t", Key: append([]byte("id/"), r.Hash[:]...), Delete: true}},
		IndexFunc: func(h keys.Hash) []IndexWrite { return []IndexWrite{{Name: "t", Key: []byte("k"), Value: h[:]}} }})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.IndexGet("t", []byte("k")); keys.Hash(v) != d.Hash {
		t.Fatal("delete: IndexFunc did not get its hash")
	}
	if n, err := c.Verify(); err != nil || n != 3 {
		t.Fatalf("verify %d %v", n, err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	c, _ := newChain(t, nil)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Append(Draft{Type: Create, EntryType: "app:n", Entry: []byte{byte(i)}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	h, _ := c.Head()
	if n, err := c.Verify(); err != nil || n != 51 || h.Seq != 50 {
		t.Fatalf("n=%d head=%d err=%v", n, h.Seq, err)
	}
}

func TestLookupPrefix(t *testing.T) {
	c, _ := newChain(t, nil)
	r, _ := c.Append(Draft{Type: Create, EntryType: "app:n", Entry: []byte("x")})
	full := r.Hash.ActionString()
	for _, n := range []int{13, 20, len(full)} {
		a, err := keys.ParseAbbrev(keys.KindAction, full[:n])
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Lookup(a)
		if err != nil || got.Hash != r.Hash {
			t.Fatalf("%d: %v", n, err)
		}
	}
	var other keys.Hash
	a, _ := keys.ParseAbbrev(keys.KindAction, other.ActionString()[:14])
	if _, err := c.Lookup(a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

// TestVerifyNamesTamperedAction flips one byte of each field region of a
// stored action and expects Verify to name exactly that action.
func TestVerifyNamesTamperedAction(t *testing.T) {
	for _, off := range []int{0, 10, 63, 64, 70, 100} {
		c, _ := newChain(t, nil)
		for i := 0; i < 5; i++ {
			c.Append(Draft{Type: Create, EntryType: "app:n", Entry: []byte{byte(i)}})
		}
		if err := FlipStoredByte(c, 3, off); err != nil {
			t.Fatal(err)
		}
		_, err := c.Verify()
		var ie *IntegrityError
		if !errors.As(err, &ie) || ie.Seq != 3 {
			t.Fatalf("offset %d: %v", off, err)
		}
	}
}

func TestEncryptedWrongKey(t *testing.T) {
	key := make([]byte, 32)
	key[0] = 1
	c, home := newChain(t, key)
	c.Append(Draft{Type: Create, EntryType: "app:secret", Entry: []byte("plaintext-marker")})
	c.Close()
	bad := make([]byte, 32)
	if _, err := Open(context.Background(), home, Options{EncryptionKey: bad, LockTimeout: time.Second}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := Open(context.Background(), home, Options{ReadOnly: true, LockTimeout: time.Second}); err == nil {
		t.Fatal("opened without key")
	}
	c2, err := Open(context.Background(), home, Options{EncryptionKey: key, ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
}

func TestLockWaitsThenTimesOut(t *testing.T) {
	c, home := newChain(t, nil)
	_, err := Open(context.Background(), home, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("want busy, got %v", err)
	}
	done := make(chan error)
	go func() {
		c2, err := Open(context.Background(), home, Options{LockTimeout: 10 * time.Second})
		if err == nil {
			c2.Close()
		}
		done <- err
	}()
	c.Close()
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
}

func TestSide(t *testing.T) {
	c, _ := newChain(t, nil)
	s := c.Side("one")
	if v, err := s.Get([]byte("k")); v != nil || err != nil {
		t.Fatal(v, err)
	}
	s.Set([]byte("k1"), []byte("a"))
	s.Set([]byte("k2"), []byte("b"))
	c.Side("other").Set([]byte("k3"), []byte("c"))
	var got []string
	s.Iterate(nil, func(k, v []byte) error { got = append(got, string(k)+"="+string(v)); return nil })
	if len(got) != 2 || got[0] != "k1=a" || got[1] != "k2=b" {
		t.Fatal(got)
	}
	s.Delete([]byte("k1"))
	if v, _ := s.Get([]byte("k1")); v != nil {
		t.Fatal("delete")
	}
}

func FuzzDecodeAction(f *testing.F) {
	var k keys.PublicKey
	seed := []Action{
		{Seq: 0, Author: k, Type: Create, EntryType: EntryAgentKey},
		{Seq: 7, Prev: make([]byte, 32), Timestamp: 1700000000000000, Author: k, Type: Delete, EntryType: EntryCapGrant, Target: make([]byte, 32)},
		{Seq: 1, Prev: make([]byte, 32), Author: k, Type: Create, EntryType: "app:post"},
	}
	for _, a := range seed {
		f.Add(a.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAction(b)
		if err != nil {
			return
		}
		if got := a.Encode(); string(got) != string(b) {
			t.Fatalf("decode→encode changed bytes: %x → %x", b, got)
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	c, _ := newChain(b, nil)
	for b.Loop() {
		if _, err := c.Append(Draft{Type: Create, EntryType: "app:n", Entry: []byte("bench")}); err != nil {
			b.Fatal(err)
		}
	}
}
