package daemon

import (
	"errors"
	"fmt"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/rpc"
)

// noSpaceResponse refuses a request the daemon would have to store (a
// message for the inbox, a delivered claim) while its home's filesystem is
// too full to write safely. Nothing of the request is kept.
var noSpaceResponse = rpc.Response{Status: rpc.StatusNoSpace, Error: "nothing was stored"}

// noSpace reports whether err is a write refused for lack of space, and
// tells the owner (Warn) the first time writes start failing so.
func (d *Daemon) noSpace(err error) bool {
	if !errors.Is(err, chain.ErrNoSpace) {
		return false
	}
	if d.spaceShort.CompareAndSwap(false, true) && d.Warn != nil {
		d.Warn(fmt.Errorf("writes are refused until space is freed (messages and claims answered no_space, calls not audited): %w", err))
	}
	return true
}

// spaceOK notes a write that succeeded: the next refusal is warned of again.
func (d *Daemon) spaceOK() { d.spaceShort.Store(false) }
