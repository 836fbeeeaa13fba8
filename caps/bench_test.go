package caps

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
)

// BenchmarkCheck measures a transferable call (the longest path: both
// unrestricted lookups miss, then the secret index hits) with 1 and 100 000
// grants on the chain (a third of each kind). The two figures should be
// about the same. Setting up 100 000 grants takes about a minute: each
// append is a synced Badger transaction.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1, 100_000} {
		b.Run(fmt.Sprintf("grants=%d", n), func(b *testing.B) {
			c, home := newHome(b)
			start := time.Now()
			fillGrants(b, c, n-1)
			b.Logf("fill: %v", time.Since(start))
			_, g := grant(b, c, Grant{Tag: "target", Access: Transferable, Functions: []string{"read"}})
			// Measure a home as the daemon finds it when it starts.
			c = reopen(b, c, home)
			b.Logf("fill+reopen: %v", time.Since(start))
			caller := newAgent(b)
			for b.Loop() {
				d, err := Check(c, caller, "read", g.Secret)
				if err != nil || !d.Allowed {
					b.Fatalf("%+v %v", d, err)
				}
			}
		})
	}
}

// fillGrants appends n grants of all three kinds, with the same index
// entries CreateGrant writes, but without its uniqueness reads; the
// entry-hash map is written by other goroutines so that Badger batches
// those writes.
func fillGrants(b *testing.B, c *chain.Chain, n int) {
	b.Helper()
	type mapping struct{ e, id keys.Hash }
	ch := make(chan mapping, 1024)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range ch {
				remember(c, m.e, m.id)
			}
		}()
	}
	defer func() { close(ch); wg.Wait() }()
	someone := newAgent(b)
	for i := range n {
		g := Grant{Functions: []string{fmt.Sprintf("f%d", i)}}
		switch i % 3 {
		case 0:
			g.Access = Unrestricted
		case 1:
			g.Access, g.Secret = Transferable, mustSecret(b)
		case 2:
			g.Access, g.Secret, g.Assignees = Assigned, mustSecret(b), []keys.PublicKey{someone}
		}
		enc, err := g.Encode()
		if err != nil {
			b.Fatal(err)
		}
		e := keys.Sum256(enc)
		idx, err := indexWrites(c, nil, keys.Hash{}, &g, e)
		if err != nil {
			b.Fatal(err)
		}
		r, err := c.Append(chain.Draft{Type: chain.Create, EntryType: chain.EntryCapGrant, Entry: enc, Index: idx})
		if err != nil {
			b.Fatal(err)
		}
		ch <- mapping{e, r.Hash}
	}
}
