package peers

import (
	"errors"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/n2n-dev/n2n/keys"
)

// peerIDOf is agent's libp2p peer ID.
func peerIDOf(agent keys.PublicKey) peer.ID { return peer.ID(agent.PeerIDBytes()) }

// agentOfPeer extracts the Ed25519 agent key from a peer ID.
func agentOfPeer(p peer.ID) (keys.PublicKey, error) {
	pub, err := p.ExtractPublicKey()
	if err != nil {
		return keys.PublicKey{}, err
	}
	return agentOfKey(pub)
}

// agentOfKey is the agent key of a libp2p public key, which must be Ed25519.
func agentOfKey(pub crypto.PubKey) (keys.PublicKey, error) {
	var k keys.PublicKey
	if pub == nil || pub.Type() != crypto.Ed25519 {
		return k, errors.New("peers: remote key is not Ed25519")
	}
	raw, err := pub.Raw()
	if err != nil || len(raw) != len(k) {
		return k, errors.New("peers: remote key is not Ed25519")
	}
	copy(k[:], raw)
	return k, nil
}
