package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

// Exit statuses: a documented contract (`n2n help exit-codes`, the README,
// the man page). Scripts treat any other code as failure.
const (
	exitOK           = 0
	exitError        = 1
	exitUsage        = 3
	exitNotFound     = 4
	exitUnreachable  = 5
	exitTimeout      = 6
	exitUnauthorized = 7
	exitAuth         = 8
	exitRemote       = 9
	exitIntegrity    = 10
	exitInterrupted  = 130
)

var exitCodeTable = []struct {
	code    int
	meaning string
}{
	{exitOK, "ok (an empty list is ok)"},
	{exitError, "error not covered below"},
	{2, "never used on purpose: Go's own status for a panic"},
	{exitUsage, "usage or bad input: bad flag, malformed or mistyped ID or ticket, payload over the limit"},
	{exitNotFound, "not found locally: unknown grant, claim, hash or contact name; no identity (hint: n2n init)"},
	{exitUnreachable, "unreachable: agent not resolved, or no address could be dialled"},
	{exitTimeout, "timeout: connected, but no reply before --timeout"},
	{exitUnauthorized, "unauthorized: the callee's capability check refused the call, or it takes no messages from you"},
	{exitAuth, "authentication failed: wrong passphrase, handshake or signature did not verify"},
	{exitRemote, "remote error: unknown function, handler failed, callee busy or over its quota for you (inbox or pending claims full), callee's disk full, or a status this version does not know"},
	{exitIntegrity, "chain integrity: chain verify found a bad action"},
	{exitInterrupted, "interrupted"},
}

// classifiedError is an error whose exit status and hint are given where it
// is made, not looked up by classify; it carries them through the cli
// library.
type classifiedError struct {
	code int
	err  error
	hint string
}

func (e *classifiedError) Error() string { return e.err.Error() }
func (e *classifiedError) Unwrap() error { return e.err }

// usagef is a usage error (exit 3).
func usagef(format string, a ...any) error {
	return &classifiedError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// withHint attaches a hint (and optionally a status; 0 keeps the mapped one).
func withHint(err error, code int, hint string) error {
	return &classifiedError{code: code, err: err, hint: hint}
}

// integrityHint follows an integrity failure found outside chain verify.
const integrityHint = "the home was altered outside n2n: 'n2n chain verify' checks the whole chain"

// errNoPassphrase: the home is encrypted and no passphrase source exists.
var errNoPassphrase = errors.New("this home is encrypted and no passphrase was given")

// statusExit maps a callee's response status to the caller's exit status
// and a hint; a status not listed is a remote error.
var statusExit = map[rpc.Status]struct {
	code int
	hint string
}{
	rpc.StatusUnauthorized: {exitUnauthorized, "no grant of that agent lets you call this: ask its owner for one ('n2n claims' lists those you hold)"},
	rpc.StatusNotFound:     {exitRemote, "the agent has no function of that name; 'n2n claims' shows the functions your claims name"},
	rpc.StatusHandlerError: {exitRemote, "the error came from the other agent's function, not from n2n here; its owner can look into it"},
	rpc.StatusBusy:         {exitRemote, "the agent is running as many calls as it allows: try again shortly"},
	rpc.StatusBadRequest:   {exitRemote, "the agent did not accept the request as sent"},
	rpc.StatusTimeout:      {exitTimeout, "raise --timeout if the callee needs longer"},
	rpc.StatusOverQuota:    {exitRemote, "it keeps no more from you until its owner makes room; nothing you sent before was lost"},
	rpc.StatusNoSpace:      {exitRemote, "nothing was stored: try again once the agent's owner has freed space"},
}

// classify maps an error to its exit status and a hint. It is the only place
// that knows the table. A *classifiedError in the chain overrides the
// status (when non-zero) and the hint (when non-empty).
func classify(err error) (code int, hint string) {
	code, hint = classifyBase(err)
	var ce *classifiedError
	if errors.As(err, &ce) {
		if ce.code != 0 {
			code = ce.code
		}
		if ce.hint != "" {
			hint = ce.hint
		}
	}
	return code, hint
}

func classifyBase(err error) (int, string) {
	var ie *chain.IntegrityError
	var ue *peers.UnreachableError
	var st *rpc.StatusError
	var re *rpc.RelayError
	if errors.As(err, &st) {
		if x, ok := statusExit[st.Status]; ok {
			return x.code, x.hint
		}
		return exitRemote, ""
	}
	if code, hint, ok := contactError(err); ok {
		return code, hint
	}
	if errors.As(err, &re) {
		return exitUnreachable, relayHint(re)
	}
	switch {
	case errors.As(err, &ie):
		return exitIntegrity, ""
	case errors.Is(err, context.Canceled):
		return exitInterrupted, ""
	case errors.Is(err, errNoPassphrase):
		return exitAuth, "set N2N_PASSPHRASE or use --passphrase-file, or run on a terminal to be asked"
	case errors.Is(err, chain.ErrWrongKey):
		return exitAuth, "check N2N_PASSPHRASE or --passphrase-file (the home's passphrase was set by n2n init)"
	case errors.Is(err, chain.ErrNoIdentity):
		return exitNotFound, "create one with 'n2n init' (or point --home / N2N_HOME at an existing home)"
	case errors.Is(err, chain.ErrAmbiguous):
		return exitUsage, "give more characters of the hash"
	case errors.Is(err, chain.ErrNotFound):
		return exitNotFound, ""
	case errors.Is(err, keys.ErrChecksum):
		return exitUsage, "check the ID for a typo"
	case errors.Is(err, keys.ErrMalformed):
		return exitUsage, ""
	case errors.Is(err, chain.ErrNoSpace), errors.Is(err, syscall.ENOSPC):
		return exitError, "free space on that filesystem, then try again"
	case errors.Is(err, chain.ErrNotWritable):
		return exitError, "this command writes to the home; commands that only read (id, chain log, chain verify) need no write access"
	case errors.Is(err, chain.ErrBusy):
		return exitError, "wait for the other command to finish, or raise --timeout"
	case errors.Is(err, rpc.ErrTooLarge):
		return exitUsage, "the limit is 16 MiB per message or call"
	case errors.Is(err, rpc.ErrAuth), errors.Is(err, peers.ErrWrongPeer):
		return exitAuth, "the agent at that address is not the one asked for"
	case errors.Is(err, rpc.ErrTimeout):
		return exitTimeout, "raise --timeout if the callee needs longer"
	case errors.As(err, &ue):
		return exitUnreachable, unreachableHint(ue.Reason)
	case errors.Is(err, peers.ErrUnreachable):
		return exitUnreachable, "check the agent ID, --bootstrap, or add an address with 'n2n peers add'"
	case errors.Is(err, peers.ErrPortInUse):
		return exitError, "another n2n daemon or another program holds it ('ss -ltnup' names it): stop that, or choose another port"
	case errors.Is(err, peers.ErrBadAddress):
		return exitUsage, ""
	case errors.Is(err, caps.ErrRevoked):
		return exitError, "'n2n grants --all' lists revoked grants"
	case errors.Is(err, caps.ErrReplaced):
		return exitError, "revoke the grant that replaced it ('n2n grants')"
	case errors.Is(err, caps.ErrDuplicate):
		return exitError, "a live grant already uses that secret"
	case errors.Is(err, chain.ErrExists):
		return exitError, "each home holds one identity; use another --home for a second agent"
	case errors.Is(err, fs.ErrPermission):
		return exitError, "check who owns the home and its permissions (ls -ld), or use --home for your own"
	}
	return exitError, ""
}

// relayHint says what to do about a request a relay did not carry.
func relayHint(re *rpc.RelayError) string {
	switch {
	case re.Reason == rpc.RelayCut:
		return "try again: a new relayed connection starts with the relay's whole limit; a daemon ('n2n serve') connects directly where the NATs allow"
	case re.Reason == rpc.RelayRefused && re.CanGoDirect:
		return "no direct connection came (a NAT that gives each connection its own port prevents one); drop --direct-only to use the relay"
	case re.Reason == rpc.RelayRefused:
		return "run 'n2n serve' so your daemon can connect directly, or drop --direct-only"
	case re.CanGoDirect:
		return "no direct connection came (a NAT that gives each connection its own port prevents one); use a relay that allows more ('n2n serve --public')"
	}
	return "run 'n2n serve' so your daemon can connect directly, or use a relay that allows more ('n2n serve --public')"
}
