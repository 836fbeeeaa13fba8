package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"testing"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

func TestHoistGlobals(t *testing.T) {
	flags := globalFlags()
	for _, c := range []struct{ in, want []string }{
		{[]string{"n2n", "id", "--json"}, []string{"n2n", "--json", "id"}},
		{[]string{"n2n", "send", "A", "hi", "--home", "h"}, []string{"n2n", "--home", "h", "send", "A", "hi"}},
		{[]string{"n2n", "commit", "--type", "note", "x", "--timeout=2s"}, []string{"n2n", "--timeout=2s", "commit", "--type", "note", "x"}},
		{[]string{"n2n", "--json", "grants"}, []string{"n2n", "--json", "grants"}},
		{[]string{"n2n", "send", "A", "--", "--json"}, []string{"n2n", "send", "A", "--", "--json"}},
		{[]string{"n2n", "send", "A", "-"}, []string{"n2n", "send", "A", "-"}},
		{[]string{"n2n"}, []string{"n2n"}},
	} {
		if got := hoistGlobals(c.in, flags); !slices.Equal(got, c.want) {
			t.Errorf("hoistGlobals(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestClassify pins the documented exit statuses to the errors below cmd.
func TestClassify(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	for _, c := range []struct {
		err  error
		code int
	}{
		{errors.New("anything"), exitError},
		{usagef("bad"), exitUsage},
		{wrap(keys.ErrMalformed), exitUsage},
		{wrap(keys.ErrChecksum), exitUsage},
		{wrap(rpc.ErrTooLarge), exitUsage},
		{wrap(peers.ErrBadAddress), exitUsage},
		{wrap(chain.ErrNotFound), exitNotFound},
		{wrap(chain.ErrNoIdentity), exitNotFound},
		{wrap(peers.ErrUnreachable), exitUnreachable},
		{wrap(rpc.ErrTimeout), exitTimeout},
		{&rpc.StatusError{Status: rpc.StatusTimeout}, exitTimeout},
		{&rpc.StatusError{Status: rpc.StatusUnauthorized}, exitUnauthorized},
		{wrap(chain.ErrWrongKey), exitAuth},
		{errNoPassphrase, exitAuth},
		{wrap(rpc.ErrAuth), exitAuth},
		{wrap(peers.ErrWrongPeer), exitAuth},
		{fmt.Errorf("%w and %w", peers.ErrUnreachable, peers.ErrWrongPeer), exitAuth},
		{&rpc.StatusError{Status: rpc.StatusNotFound}, exitRemote},
		{&rpc.StatusError{Status: rpc.StatusHandlerError}, exitRemote},
		{&rpc.StatusError{Status: rpc.StatusBusy}, exitRemote},
		{&rpc.StatusError{Status: rpc.StatusBadRequest}, exitRemote},
		{&rpc.StatusError{Status: "quota_exceeded", Msg: "over quota"}, exitRemote}, // a later version's status
		{wrap(&rpc.StatusError{Status: ""}), exitRemote},
		{&chain.IntegrityError{Seq: 3, Reason: "x"}, exitIntegrity},
		{wrap(context.Canceled), exitInterrupted},
		{wrap(chain.ErrBusy), exitError},
		{wrap(caps.ErrRevoked), exitError},
		{withHint(errors.New("x"), exitUnreachable, "h"), exitUnreachable},
		{&rpc.StatusError{Status: "a-status-of-a-later-version"}, exitRemote},
		{wrap(fs.ErrPermission), exitError},
		{&rpc.StatusError{Status: rpc.StatusOverQuota}, exitRemote},
		{wrap(peers.ErrNoContact), exitNotFound},
		{wrap(peers.ErrNameTaken), exitUsage},
		{wrap(peers.ErrKnownContact), exitUsage},
		{wrap(peers.ErrBadName), exitUsage},
	} {
		if got, _ := classify(c.err); got != c.code {
			t.Errorf("classify(%v) = %d, want %d", c.err, got, c.code)
		}
	}
}
