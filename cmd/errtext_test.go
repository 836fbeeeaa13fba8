package cmd

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

// TestSummary: whatever error arrives, a person reads one line without
// package prefixes; what another agent said is marked as its reply.
func TestSummary(t *testing.T) {
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	agent := id.Public()
	who := short(agent.String())
	unreachable := func(r peers.UnreachableReason, addrs ...string) error {
		return &agentError{agent, &peers.UnreachableError{Agent: agent, Reason: r, Addrs: addrs, Err: errors.New("libp2p's words")}}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{errors.New("caps: grant uhCkkAAAA: not found"), "grant uhCkkAAAA: not found"},
		{fmt.Errorf("rpc: peers: chain: lock: %w", os.ErrPermission), "lock: permission denied"},
		{errors.New("first line: all dials failed\n  * [/ip4/1.2.3.4/tcp/1] refused"), "first line: all dials failed"},
		{&agentError{agent, &rpc.StatusError{Status: rpc.StatusUnauthorized, Msg: "unauthorized"}}, who + " replied: unauthorized"},
		{&agentError{agent, &rpc.StatusError{Status: rpc.StatusHandlerError, Msg: "opening\ndatabase locked\n"}}, who + " replied: handler failed: database locked"},
		{&agentError{agent, &rpc.StatusError{Status: rpc.StatusHandlerError, Msg: "\x1b[31mred\x1b[0m\tand a tab"}}, who + ` replied: handler failed: \x1b[31mred\x1b[0m\tand a tab`},
		{&agentError{agent, &rpc.StatusError{Status: rpc.StatusHandlerError, Msg: strings.Repeat("x", 5000)}}, who + " replied: handler failed: " + strings.Repeat("x", remoteMax) + "…"},
		{&agentError{agent, &rpc.StatusError{Status: "teapot", Msg: "short and stout"}}, who + " replied: teapot: short and stout"},
		{&agentError{agent, &rpc.StatusError{Status: rpc.StatusNotFound, Msg: `no function "x"`}}, who + ` replied: not found: no function "x"`},
		{&agentError{agent, &rpc.StatusError{Status: rpc.StatusOverQuota, Msg: "inbox is full (for you)"}}, who + "'s inbox is full (for you)"},
		{&agentError{agent, &rpc.StatusError{Status: rpc.StatusOverQuota, Msg: "pending\x1b[2J claims\tare full"}}, who + `'s pending\x1b[2J claims\tare full`},
		{&agentError{agent, &rpc.StatusError{Status: rpc.StatusOverQuota}}, who + " replied: over quota"},
		{&agentError{agent, &rpc.StatusError{Status: rpc.StatusUnauthorized, Msg: "it does not accept messages from strangers"}}, who + " replied: unauthorized: it does not accept messages from strangers"},
		{unreachable(peers.ReasonRefused, "127.0.0.1:35363"), "cannot reach " + who + ": 127.0.0.1:35363 refused the connection"},
		{unreachable(peers.ReasonRefused, "127.0.0.1:35363", "127.0.0.1:41000"), "cannot reach " + who + ": 127.0.0.1:35363 and 1 more address refused the connection"},
		{unreachable(peers.ReasonNoReply, "10.0.0.5:4001", "[::1]:4001", "192.168.1.2:4001"), "cannot reach " + who + ": 10.0.0.5:4001 and 2 more addresses did not answer before --dial-timeout"},
		{unreachable(peers.ReasonNoReply), "cannot reach " + who + ": the DHT lookup did not end before --dial-timeout"},
		{unreachable(peers.ReasonRelayRefused, "1.2.3.4:4001"), "cannot reach " + who + ": its relay 1.2.3.4:4001 refused to connect it"},
		{unreachable(peers.ReasonNoRoute, "192.168.1.2:4001"), "cannot reach " + who + ": no route to 192.168.1.2:4001"},
		{unreachable(peers.ReasonNotFound), "cannot reach " + who + ": not found: the DHT has no record of it and no peer that knows it"},
		{unreachable(peers.ReasonNoPeers), "cannot reach " + who + ": no address known for it, and no DHT peer to ask"},
		{unreachable(peers.ReasonFailed, "127.0.0.1:8080"), "cannot reach " + who + ": the connection to 127.0.0.1:8080 failed"},
		{fmt.Errorf("resolve: %w", &peers.UnreachableError{Agent: agent, Reason: peers.ReasonRefused, Addrs: []string{"127.0.0.1:1"}}), "cannot reach " + who + ": 127.0.0.1:1 refused the connection"},
		{&agentError{agent, fmt.Errorf("peers: dht: %w: no bootstrap peers for a DHT lookup", peers.ErrUnreachable)}, "cannot reach " + who + ": no bootstrap peers for a DHT lookup"},
		{&agentError{agent, fmt.Errorf("peers: %w: %w", peers.ErrUnreachable, peers.ErrWrongPeer)}, "another agent answered at " + who + "'s address"},
		{&agentError{agent, fmt.Errorf("%w (1s)", rpc.ErrTimeout)}, who + " did not reply: no reply before the deadline (1s)"},
		{withHint(&agentError{agent, rpc.ErrAuth}, 0, "h"), "could not authenticate " + who + ": authentication failed"},
		{errors.Join(fmt.Errorf("delivering: %w", &agentError{agent, &rpc.StatusError{Status: rpc.StatusBusy}}), errors.New("other")), who + " replied: busy"},
		{&agentError{agent, &rpc.RelayError{Agent: agent, Reason: rpc.RelayTooSmall, Path: peers.Path{Relayed: true, Relay: "12D3KooWR", DataLimit: 128 << 10}}},
			who + " is reachable only through relay 12D3KooWR, whose limit (128 KiB) is too small for this request"},
		{&agentError{agent, &rpc.RelayError{Agent: agent, Reason: rpc.RelayCut, Path: peers.Path{Relayed: true, Relay: "12D3KooWR", DataLimit: 128 << 10, Received: 127 << 10}, Err: errors.New("stream reset")}},
			"the relay 12D3KooWR cut the connection to " + who + " at its limit (128 KiB)"},
	} {
		if got := summary(c.err); got != c.want {
			t.Errorf("summary(%q)\n got %q\nwant %q", c.err, got, c.want)
		}
	}
}
