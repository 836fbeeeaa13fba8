package chain

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
)

// TestGetAuthentic alters a stored action or its entry, as an edit of the
// home outside n2n would, and expects GetAuthentic (and CheckHead, for the
// newest action) to name that action instead of returning it.
func TestGetAuthentic(t *testing.T) {
	tamper := map[string]func(c *Chain, r Record) error{
		"entry": func(c *Chain, r Record) error {
			return AlterEntry(c, r.EntryHash, func(b []byte) []byte { b[2] ^= 1; return b })
		},
		"signature": func(c *Chain, r Record) error { return FlipStoredByte(c, r.Seq, 5) },
		"action":    func(c *Chain, r Record) error { return FlipStoredByte(c, r.Seq, 90) },
	}
	for name, alter := range tamper {
		t.Run(name, func(t *testing.T) {
			c, home := newChain(t, nil)
			var rs []Record
			for i := 0; i < 4; i++ {
				r, err := c.Append(Draft{Type: Create, EntryType: "app:n", Entry: []byte{'e', 'n', 't', byte(i)}})
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
			}
			for _, r := range rs {
				got, e, err := c.GetAuthentic(r.Hash)
				if err != nil || got.Hash != r.Hash || string(e) != string([]byte{'e', 'n', 't', byte(r.Seq - 1)}) {
					t.Fatalf("intact action %d: %v", r.Seq, err)
				}
			}
			if _, err := c.CheckHead(); err != nil {
				t.Fatalf("intact head: %v", err)
			}
			// A fresh open: nothing is known to be signed yet.
			c.Close()
			c, err := Open(context.Background(), home, Options{LockTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, bad := range []Record{rs[1], rs[3]} { // one inside, the head
				if err := alter(c, bad); err != nil {
					t.Fatal(err)
				}
			}
			var ie *IntegrityError
			if _, _, err := c.GetAuthentic(rs[1].Hash); !errors.As(err, &ie) || ie.Seq != rs[1].Seq {
				t.Fatalf("altered action: %v", err)
			}
			if _, err := c.CheckHead(); !errors.As(err, &ie) || ie.Seq != rs[3].Seq {
				t.Fatalf("altered head: %v", err)
			}
			if _, _, err := c.GetAuthentic(rs[2].Hash); err != nil {
				t.Fatalf("intact action beside altered ones: %v", err)
			}
			if _, err := c.Verify(); !errors.As(err, &ie) || ie.Seq != rs[1].Seq {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}

func TestGetAuthenticUnknown(t *testing.T) {
	c, _ := newChain(t, nil)
	if _, _, err := c.GetAuthentic(keys.Sum256([]byte("no such action"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
}
