package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"syscall"

	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/keys"
)

// UnreachableReason says why an agent could not be reached.
type UnreachableReason int

// The reasons. A resolution that dialled addresses reports how the dials
// failed; one that found nothing to dial reports how the lookup ended.
const (
	// ReasonFailed: a connection failed otherwise (an address answered
	// with another protocol, local resources ran out).
	ReasonFailed UnreachableReason = iota
	// ReasonNoPeers: nothing to ask: no address-book entry, and no DHT peer
	// (no bootstrap peer given, or none could be reached).
	ReasonNoPeers
	// ReasonNotFound: the DHT was asked until every closer peer had
	// answered: no record of the agent, and no peer knows its addresses.
	ReasonNotFound
	// ReasonRefused: every address refused the connection. An address that
	// cannot say so (QUIC: a closed UDP port's answer never reaches the
	// dialler) counts as refused once a TCP address on the same IP has.
	ReasonRefused
	// ReasonNoRoute: no route to the addresses (host or network
	// unreachable).
	ReasonNoRoute
	// ReasonRelayRefused: its relay addresses failed at the relay (no
	// reservation for the agent, or the relay itself not reachable).
	ReasonRelayRefused
	// ReasonNoReply: an address said nothing until the dial timeout, or
	// the DHT lookup had not ended by then.
	ReasonNoReply
)

func (r UnreachableReason) String() string {
	switch r {
	case ReasonNoPeers:
		return "no peers to ask"
	case ReasonNotFound:
		return "not found"
	case ReasonRefused:
		return "refused"
	case ReasonNoRoute:
		return "no route"
	case ReasonRelayRefused:
		return "relay refused"
	case ReasonNoReply:
		return "no reply"
	}
	return "failed"
}

// UnreachableError is how Connect and Resolve fail when no step connects:
// errors.Is(err, ErrUnreachable) holds for it. An address that answered with
// another agent's key is ErrWrongPeer instead.
type UnreachableError struct {
	Agent  keys.PublicKey
	Reason UnreachableReason
	// Addrs are the network addresses (host:port) that failed for Reason,
	// the most telling first: for ReasonRelayRefused the relays'. Empty for
	// a lookup that found nothing to dial.
	Addrs []string
	// Err is what each step said, in libp2p's and the DHT's words.
	Err error

	tried []tried // every address dialled and how it failed
}

// tried is one address a dial tried and how it failed; inferred says the
// address could not answer for itself (see ReasonRefused).
type tried struct {
	addr     multiaddr.Multiaddr
	reason   UnreachableReason
	inferred bool
}

func (e *UnreachableError) Error() string {
	if e.Agent == (keys.PublicKey{}) { // one step's, within a resolution's
		return fmt.Sprintf("%v (%s): %v", ErrUnreachable, e.Reason, e.Err)
	}
	return fmt.Sprintf("peers: connect %s: %v (%s): %v", e.Agent, ErrUnreachable, e.Reason, e.Err)
}

// Is makes errors.Is(err, ErrUnreachable) hold. The error does not unwrap
// to Err: the steps' inner errors (a cancelled losing lookup, say) are not
// this error's meaning.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// dialPrecedence orders the reasons of a dial's addresses: the first present
// is the dial's reason. A silent address may still be the agent, so it
// comes first; every address refusing is the plainest answer, so it is
// reported only when nothing else happened but unroutable or odd addresses.
var dialPrecedence = []UnreachableReason{ReasonNoReply, ReasonRelayRefused, ReasonRefused, ReasonNoRoute, ReasonFailed}

// lookupPrecedence orders how lookups that found nothing to dial ended.
var lookupPrecedence = []UnreachableReason{ReasonNoReply, ReasonNotFound, ReasonNoPeers, ReasonFailed}

// dialFailure is the error of a failed dial of addrs: err is what the
// swarm said, refused what its refusal watch saw. An address the swarm gave
// no error of failed as the whole dial did: silent until its deadline, most
// often. combine names the agent.
func dialFailure(err error, addrs []multiaddr.Multiaddr, refused []tried) *UnreachableError {
	seen := map[string]bool{}
	ts := slices.Clone(refused)
	for _, t := range refused {
		seen[string(t.addr.Bytes())] = true
	}
	var de *swarm.DialError
	if errors.As(err, &de) {
		for _, te := range de.DialErrors {
			if k := string(te.Address.Bytes()); !seen[k] {
				seen[k] = true
				ts = append(ts, tried{addr: te.Address, reason: addrReason(te.Address, te.Cause)})
			}
		}
	}
	whole := ReasonFailed
	if isTimeout(err) {
		whole = ReasonNoReply
	}
	for _, a := range addrs {
		if k := string(a.Bytes()); !seen[k] {
			seen[k] = true
			ts = append(ts, tried{addr: a, reason: whole})
		}
	}
	ue := &UnreachableError{Reason: whole, Err: err, tried: ts}
	ue.settle(dialPrecedence)
	return ue
}

// lookupFailure is the error of a lookup that found nothing to dial.
func lookupFailure(err error) *UnreachableError {
	reason := ReasonFailed
	switch {
	case isTimeout(err):
		reason = ReasonNoReply
	case errors.Is(err, routing.ErrNotFound):
		reason = ReasonNotFound
	}
	return &UnreachableError{Reason: reason, Err: err}
}

// settle sets Reason to the first of order among the tried addresses, and
// Addrs to those addresses (observed before inferred).
func (e *UnreachableError) settle(order []UnreachableReason) {
	for _, r := range order {
		var observed, inferred []string
		for _, t := range e.tried {
			if t.reason != r {
				continue
			}
			a := netAddr(t.addr)
			switch {
			case slices.Contains(observed, a) || slices.Contains(inferred, a):
			case t.inferred:
				inferred = append(inferred, a)
			default:
				observed = append(observed, a)
			}
		}
		if len(observed)+len(inferred) > 0 {
			e.Reason, e.Addrs = r, append(observed, inferred...)
			return
		}
	}
}

// combine makes the error of a resolution from its steps' errors: how the
// dials failed if any address was dialled, else how the lookups ended. An
// ErrWrongPeer anywhere wins (exit 8, not 5).
func combine(agent keys.PublicKey, errs []error) error {
	all := errors.Join(errs...)
	if errors.Is(all, ErrWrongPeer) {
		return fmt.Errorf("peers: connect %s: %w", agent, all)
	}
	out := &UnreachableError{Agent: agent, Reason: ReasonFailed, Err: all}
	var lookups []UnreachableReason
	for _, ue := range collect(all) {
		out.tried = append(out.tried, ue.tried...)
		if len(ue.tried) == 0 {
			lookups = append(lookups, ue.Reason)
		}
	}
	if len(out.tried) > 0 {
		out.settle(dialPrecedence)
		return out
	}
	for _, r := range lookupPrecedence {
		if slices.Contains(lookups, r) {
			out.Reason = r
			break
		}
	}
	return out
}

// collect finds the UnreachableErrors in an error tree.
func collect(err error) []*UnreachableError {
	switch e := err.(type) {
	case nil:
		return nil
	case *UnreachableError:
		return []*UnreachableError{e}
	case interface{ Unwrap() []error }:
		var out []*UnreachableError
		for _, x := range e.Unwrap() {
			out = append(out, collect(x)...)
		}
		return out
	}
	return collect(errors.Unwrap(err))
}

// addrReason says how the dial of one address failed.
func addrReason(a multiaddr.Multiaddr, cause error) UnreachableReason {
	switch {
	case isTimeout(cause):
		return ReasonNoReply
	case isCircuit(a):
		return ReasonRelayRefused
	case errors.Is(cause, syscall.ECONNREFUSED):
		return ReasonRefused
	case errors.Is(cause, syscall.EHOSTUNREACH), errors.Is(cause, syscall.ENETUNREACH):
		return ReasonNoRoute
	}
	return ReasonFailed
}

// isTimeout: the error is a deadline (the context's, a socket's, or a
// transport's handshake timeout).
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &t) && t.Timeout())
}

// netAddr is the host:port a multiaddr dials: for a relay address, the
// relay's. Other forms are given whole.
func netAddr(a multiaddr.Multiaddr) string {
	if isCircuit(a) {
		relay, _ := multiaddr.SplitFunc(a, func(c multiaddr.Component) bool { return c.Code() == multiaddr.P_CIRCUIT })
		return netAddr(relay)
	}
	var host, port string
	for _, c := range a {
		switch c.Code() {
		case multiaddr.P_IP4, multiaddr.P_IP6, multiaddr.P_DNS, multiaddr.P_DNS4, multiaddr.P_DNS6:
			if host == "" {
				host = c.Value()
			}
		case multiaddr.P_TCP, multiaddr.P_UDP:
			if port == "" {
				port = c.Value()
			}
		}
	}
	if host == "" || port == "" {
		return a.String()
	}
	return net.JoinHostPort(host, port)
}
