package testscripts

import (
	"context"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/rogpeppe/go-internal/testscript"
)

// altergrant HOME GRANT FUNCTION...: rewrite the entry of grant GRANT, under
// its hash, to list FUNCTION... instead, as an edit of the home outside n2n
// would (unencrypted home, no process holding it).
func cmdAlterGrant(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: altergrant HOME GRANT FUNCTION...")
	}
	c, err := chain.Open(context.Background(), ts.MkAbs(args[0]), chain.Options{LockTimeout: 5 * time.Second})
	ts.Check(err)
	defer c.Close()
	gi, err := caps.LookupGrant(c, args[1])
	ts.Check(err)
	r, err := c.Get(gi.ID)
	ts.Check(err)
	ts.Check(chain.AlterEntry(c, r.EntryHash, func([]byte) []byte {
		g := gi.Grant
		g.Functions = args[2:]
		b, err := g.Encode()
		ts.Check(err)
		return b
	}))
}
