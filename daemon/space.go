package daemon

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/rpc"
)

// noSpaceResponse refuses a request the daemon would have to store (a
// message for the inbox, a delivered claim) while its home's filesystem is
// too full to write safely. Nothing of the request is kept.
var noSpaceResponse = rpc.Response{Status: rpc.StatusNoSpace, Error: "nothing was stored"}

// spaceWatch follows whether the home's writes are refused for lack of
// space, to warn once each time they start to be.
type spaceWatch struct {
	short atomic.Bool // the last write was refused (warned of)
}

// refused reports whether err is a write refused for lack of space, and
// tells warn (if any) the first time writes start failing so.
func (s *spaceWatch) refused(err error, warn func(error)) bool {
	if !errors.Is(err, chain.ErrNoSpace) {
		return false
	}
	if s.short.CompareAndSwap(false, true) && warn != nil {
		warn(fmt.Errorf("writes are refused until space is freed (messages and claims answered no_space, calls not audited): %w", err))
	}
	return true
}

// stored notes a write that succeeded: the next refusal is warned of again.
func (s *spaceWatch) stored() { s.short.Store(false) }
