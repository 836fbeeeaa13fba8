package peers

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// Card is a contact card: what another agent needs to reach this one with
// no configuration. Its text (EncodeCard) is "n2ncard1" and the checked
// text form of tickets (keys.EncodeChecked) of the canonical CBOR map
// {1: agent key (32 bytes), 2: [multiaddr bytes, …]}.
//
// Addrs are of two kinds, told apart by their last /p2p/ component: the
// agent's own addresses (its public or announced ones and its circuit
// addresses through relays; none, or the agent's own /p2p/, at the end)
// and its bootstrap nodes' (ending in /p2p/ of another peer).
type Card struct {
	Agent keys.PublicKey
	Addrs []multiaddr.Multiaddr
}

// Protocol constants of the card text. They are frozen.
const (
	CardPrefix = "n2ncard1"
	// maxCardAddrs and maxCardAddr bound the addresses of a card, and
	// maxCardText its text.
	maxCardAddrs = 32
	maxCardAddr  = 256
	maxCardText  = 12 << 10
)

type cardBody struct {
	Agent []byte   `cbor:"1,keyasint"`
	Addrs [][]byte `cbor:"2,keyasint"`
}

// cardDecMode reads cards, which come from other people.
var cardDecMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: maxCardAddrs, MaxMapPairs: 16})

// NewCard is agent's card with its own addresses own and its bootstrap
// nodes' addresses boot (each ending in /p2p/ of the node). Own addresses
// are written without their /p2p/ suffix.
func NewCard(agent keys.PublicKey, own []multiaddr.Multiaddr, boot []string) (Card, error) {
	c := Card{Agent: agent}
	for _, a := range own {
		t, err := transportAddr(agent, a)
		if err != nil {
			return Card{}, err
		}
		c.Addrs = append(c.Addrs, t)
	}
	infos, err := parseBootstrap(boot)
	if err != nil {
		return Card{}, err
	}
	for _, ai := range infos {
		full, err := peer.AddrInfoToP2pAddrs(&ai)
		if err != nil {
			return Card{}, fmt.Errorf("peers: card: %w", err)
		}
		c.Addrs = append(c.Addrs, full...)
	}
	c.Addrs = multiaddr.Unique(c.Addrs)
	if len(c.Addrs) > maxCardAddrs {
		c.Addrs = c.Addrs[:maxCardAddrs]
	}
	return c, nil
}

// Card is the node's card: of the addresses it advertises, the public,
// announced and circuit ones (not its LAN's), and its bootstrap nodes'.
func (n *Node) Card() (Card, error) {
	var own []multiaddr.Multiaddr
	for _, a := range n.h.Addrs() {
		if isCircuit(a) || manet.IsPublicAddr(a) || multiaddr.Contains(n.announce, a) {
			own = append(own, a)
		}
	}
	return NewCard(n.Agent(), own, n.opts.Bootstrap)
}

// EncodeCard is the text form of c.
func EncodeCard(c Card) string {
	body := cardBody{Agent: c.Agent[:]}
	for _, a := range c.Addrs {
		body.Addrs = append(body.Addrs, a.Bytes())
	}
	return keys.EncodeChecked(CardPrefix, detcbor.Marshal(&body))
}

// ParseCard parses the text form of a card, surrounding white space
// ignored. Errors wrap keys.ErrMalformed, or keys.ErrChecksum for a typo.
func ParseCard(s string) (Card, error) {
	raw, err := keys.DecodeChecked(CardPrefix, "card", s, maxCardText)
	if err != nil {
		return Card{}, fmt.Errorf("peers: %w", err)
	}
	var body cardBody
	if err := cardDecMode().Unmarshal(raw, &body); err != nil {
		return Card{}, fmt.Errorf("peers: %w card: bad encoding", keys.ErrMalformed)
	}
	if !bytes.Equal(detcbor.Marshal(&body), raw) {
		return Card{}, fmt.Errorf("peers: %w card: not canonical", keys.ErrMalformed)
	}
	var c Card
	if len(body.Agent) != len(c.Agent) {
		return Card{}, fmt.Errorf("peers: %w card: agent key of %d bytes", keys.ErrMalformed, len(body.Agent))
	}
	copy(c.Agent[:], body.Agent)
	if _, err := c.Agent.X25519(); err != nil {
		return Card{}, fmt.Errorf("peers: %w card: agent key is not a curve point", keys.ErrMalformed)
	}
	for i, b := range body.Addrs {
		if len(b) > maxCardAddr {
			return Card{}, fmt.Errorf("peers: %w card: address %d is %d bytes", keys.ErrMalformed, i+1, len(b))
		}
		a, err := multiaddr.NewMultiaddrBytes(b)
		if err != nil || len(a) == 0 {
			return Card{}, fmt.Errorf("peers: %w card: address %d is no multiaddr", keys.ErrMalformed, i+1)
		}
		c.Addrs = append(c.Addrs, a)
	}
	return c, nil
}

// Split sorts the card's addresses: the agent's own (without a /p2p/ suffix)
// and its bootstrap nodes' (ending in /p2p/ of the node).
func (c Card) Split() (own []multiaddr.Multiaddr, boot []string) {
	for _, a := range c.Addrs {
		rest, last := multiaddr.SplitLast(a)
		if last != nil && last.Protocol().Code == multiaddr.P_P2P {
			if !bytes.Equal(last.RawValue(), c.Agent.PeerIDBytes()) {
				boot = append(boot, a.String())
				continue
			}
			a = rest
		}
		if len(a) > 0 {
			own = append(own, a)
		}
	}
	return own, boot
}

// bootPrefix is the key prefix of the home's bootstrap nodes (learnt from
// cards): the bytes of a multiaddr ending in /p2p/ follow; the value is
// empty.
const bootPrefix = "peers/boot/"

// maxBootNodes bounds the bootstrap nodes a home keeps.
const maxBootNodes = 32

// AddBootstrap remembers bootstrap nodes (multiaddrs ending in /p2p/), for
// a node made with no bootstrap peers of its own (BootstrapNodes). Errors
// wrap ErrBadAddress for an address that names no peer.
func (b *AddrBook) AddBootstrap(addrs []string) error {
	if _, err := parseBootstrap(addrs); err != nil {
		return err
	}
	have, err := b.BootstrapNodes()
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range addrs {
		if slices.Contains(have, s) {
			continue
		}
		if len(have) >= maxBootNodes {
			return fmt.Errorf("peers: bootstrap nodes: the home keeps %d at most", maxBootNodes)
		}
		a, _ := ParseAddr(s) // parsed above
		if err := b.Store.Set(append([]byte(bootPrefix), a.Bytes()...), []byte{}); err != nil {
			return fmt.Errorf("peers: bootstrap nodes: %w", err)
		}
		have = append(have, s)
	}
	return nil
}

// BootstrapNodes are the bootstrap nodes the home remembers, in key order.
func (b *AddrBook) BootstrapNodes() ([]string, error) {
	var out []string
	err := b.Store.Iterate([]byte(bootPrefix), func(key, _ []byte) error {
		a, err := multiaddr.NewMultiaddrBytes(key[len(bootPrefix):])
		if err == nil && strings.Contains(a.String(), "/p2p/") {
			out = append(out, a.String())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("peers: bootstrap nodes: %w", err)
	}
	return out, nil
}
