package cmd

import (
	"fmt"

	"github.com/n2n-dev/n2n/peers"
)

// unreachableText says in one line why an agent could not be reached
// (after "cannot reach AGENT: "), naming the first address that failed.
func unreachableText(ue *peers.UnreachableError) string {
	switch ue.Reason {
	case peers.ReasonNotFound:
		return "not found: the DHT has no record of it and no peer that knows it"
	case peers.ReasonNoPeers:
		return "no address known for it, and no DHT peer to ask"
	}
	if len(ue.Addrs) == 0 {
		if ue.Reason == peers.ReasonNoReply {
			return "the DHT lookup did not end before --dial-timeout"
		}
		return "the connection failed"
	}
	where := addrList(ue.Addrs)
	switch ue.Reason {
	case peers.ReasonRefused:
		return where + " refused the connection"
	case peers.ReasonNoReply:
		return where + " did not answer before --dial-timeout"
	case peers.ReasonRelayRefused:
		return "its relay " + where + " refused to connect it"
	case peers.ReasonNoRoute:
		return "no route to " + where
	}
	return "the connection to " + where + " failed"
}

// addrList is the first address, and how many more there are.
func addrList(addrs []string) string {
	switch len(addrs) {
	case 1:
		return addrs[0]
	case 2:
		return addrs[0] + " and 1 more address"
	}
	return fmt.Sprintf("%s and %d more addresses", addrs[0], len(addrs)-1)
}

// unreachableHint is what to try, by reason: whether the agent runs, and
// where NAT is the likely cause (silence, no route, a relay's refusal), how
// agents behind it are reached.
func unreachableHint(r peers.UnreachableReason) string {
	switch r {
	case peers.ReasonRefused:
		return "is the agent's daemon running ('n2n serve' on its side)? If it moved, --bootstrap lets the DHT find its new address"
	case peers.ReasonNoReply:
		return "is the agent's daemon running? A firewall may drop the connection; an agent behind NAT is reached through a relay, a public n2n node it bootstraps from"
	case peers.ReasonRelayRefused:
		return "the agent is behind NAT and its relay holds no reservation for it: is its daemon running, bootstrapped from a public n2n node?"
	case peers.ReasonNoRoute:
		return "its address is on a network this machine cannot reach (behind NAT?): agents there are reached through a relay, a public n2n node they bootstrap from"
	case peers.ReasonNotFound, peers.ReasonNoPeers:
		// One hint for both: a daemon asks the DHT peers its host knows
		// where a one-shot command without --bootstrap has no one to ask,
		// and the two must read alike but for the reason.
		return "check the agent ID; it is found only while its daemon runs bootstrapped into the DHT you ask (--bootstrap ADDR or N2N_BOOTSTRAP), or add its address with 'n2n peers add AGENT ADDR'"
	}
	return "--debug shows what each address said"
}
