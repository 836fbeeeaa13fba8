package peers

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/multiformats/go-multiaddr"
)

// ErrPortInUse: a listen address names a port that a socket already holds.
var ErrPortInUse = errors.New("the port is in use")

// CheckPortsFree makes sure that no socket holds the TCP or UDP port of any
// listen multiaddr that names one (port 0 picks a free one and is not
// checked). A server's transports bind with address reuse (SO_REUSEPORT),
// which lets two n2n daemons listen on one port at once, each getting some
// of the connections: one of them then answers for the other. A plain bind,
// which address reuse by another socket does not admit, tells that a port
// is held, by another daemon or any other program. Errors wrap
// ErrPortInUse, or ErrBadAddress for an address that does not parse.
func CheckPortsFree(listen []string) error {
	for _, text := range listen {
		a, err := multiaddr.NewMultiaddr(text)
		if err != nil {
			return fmt.Errorf("peers: listen address %q: %w: %v", text, ErrBadAddress, err)
		}
		host, err := a.ValueForProtocol(multiaddr.P_IP4)
		if err != nil {
			if host, err = a.ValueForProtocol(multiaddr.P_IP6); err != nil {
				continue // not an IP address: nothing this can check
			}
		}
		for _, proto := range []struct {
			code    int
			network string
		}{{multiaddr.P_TCP, "tcp"}, {multiaddr.P_UDP, "udp"}} {
			port, err := a.ValueForProtocol(proto.code)
			if err != nil || port == "0" {
				continue
			}
			hostPort := net.JoinHostPort(host, port)
			if err := bindOnce(proto.network, hostPort); errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("peers: listen on %s (%s): %w", hostPort, proto.network, ErrPortInUse)
			}
		}
	}
	return nil
}

// bindOnce binds hostPort without address reuse and lets it go.
func bindOnce(network, hostPort string) error {
	if network == "tcp" {
		ln, err := net.Listen("tcp", hostPort)
		if err == nil {
			ln.Close()
		}
		return err
	}
	pc, err := net.ListenPacket("udp", hostPort)
	if err == nil {
		pc.Close()
	}
	return err
}
