package peers

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckPortsFree: the TCP and QUIC ports a running server listens on
// (bound with address reuse, which would let a second server share them)
// are reported in use; port 0, and the ports once the server is closed, are
// free.
func TestCheckPortsFree(t *testing.T) {
	n := startServer(t, genIdentity(t), []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"})
	var held []string
	for _, a := range n.Addrs() {
		held = append(held, strings.Split(a, "/p2p/")[0])
	}
	if len(held) != 2 {
		t.Fatalf("listening on %v", held)
	}
	for _, a := range held {
		if err := CheckPortsFree([]string{a}); !errors.Is(err, ErrPortInUse) {
			t.Errorf("%s, held by a server: %v", a, err)
		}
	}
	if err := CheckPortsFree([]string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}); err != nil {
		t.Errorf("port 0: %v", err)
	}
	if err := CheckPortsFree([]string{"/ip4/127.0.0.1/tcp/nope"}); !errors.Is(err, ErrBadAddress) {
		t.Errorf("a bad address: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := CheckPortsFree(held); err != nil {
		t.Errorf("after the server closed: %v", err)
	}
}
