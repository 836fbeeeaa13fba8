// Command ikserver is the floor's responder: a libp2p host (TCP on
// 127.0.0.1, libp2p Noise, yamux) that answers each /n2n-floor/ik/1.0.0
// stream with a Noise IK handshake (n2n's noiseproto) and echoes frames. It
// writes its full multiaddr and agent ID to -addr-file once listening and
// runs until SIGINT or SIGTERM.
//
//	ikserver -addr-file F [-listen /ip4/127.0.0.1/tcp/0]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/n2n-dev/n2n/bench/internal/floor"
	"github.com/n2n-dev/n2n/keys"
)

func main() {
	addrFile := flag.String("addr-file", "", "write the multiaddr and agent ID here once listening")
	listen := flag.String("listen", "/ip4/127.0.0.1/tcp/0", "listen multiaddr (loopback only)")
	flag.Parse()
	if err := run(*addrFile, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "ikserver: error:", err)
		os.Exit(1)
	}
}

func run(addrFile, listen string) error {
	if addrFile == "" {
		return fmt.Errorf("-addr-file is required")
	}
	id, err := keys.Generate()
	if err != nil {
		return err
	}
	h, err := floor.NewServerHost(id, listen)
	if err != nil {
		return err
	}
	defer h.Close()
	floor.ServeIK(h, id)
	addrs := floor.FullAddrs(h)
	if len(addrs) == 0 {
		return fmt.Errorf("no listen address")
	}
	if err := floor.WriteAddrFile(addrFile, addrs[0], id.Public()); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
