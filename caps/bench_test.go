package caps

import (
	"fmt"
	"os"
	"testing"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
)

// BenchmarkCheck measures a transferable call (the longest path: both
// unrestricted lookups miss, then the secret index hits) with 1 and 100 000
// grants on the chain (a third of each kind). Check makes the same few
// point lookups and prefix seeks whatever the number of grants; what grows
// is only Badger's own cost per lookup as the LSM tree gets deeper.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1, 100_000} {
		b.Run(fmt.Sprintf("grants=%d", n), func(b *testing.B) {
			c, home := newHomeIn(b, benchDir(b))
			fillGrants(b, c, n-1)
			_, g := grant(b, c, Grant{Tag: "target", Access: Transferable, Functions: []string{"read"}})
			// Measure a home as the daemon finds it when it starts.
			c = reopen(b, c, home)
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

// benchDir is a directory for a benchmark's home: in memory (/dev/shm) where
// there is one, since setting up 100 000 grants means 100 000 synced
// appends; Check itself reads from the page cache either way.
func benchDir(b *testing.B) string {
	dir, err := os.MkdirTemp("/dev/shm", "n2n-caps-bench-")
	if err != nil {
		return b.TempDir()
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// fillGrants appends n grants of all three kinds, with the same index
// entries CreateGrant writes, but without its duplicate-secret read.
func fillGrants(b *testing.B, c *chain.Chain, n int) {
	b.Helper()
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
		_, err = c.Append(chain.Draft{Type: chain.Create, EntryType: chain.EntryCapGrant, Entry: enc, IndexFunc: addWrites(&g)})
		if err != nil {
			b.Fatal(err)
		}
	}
}
