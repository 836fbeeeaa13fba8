// Command ikclient is the floor of a cold one-shot call: a fresh process
// that builds a TCP-only libp2p host that does not listen, dials the
// responder, opens one stream, runs the Noise IK handshake (n2n's
// noiseproto), sends one frame and prints the reply. Nothing else: no home,
// no address book, no CLI framework. It exits without closing the host (the
// kernel closes the socket), the least a one-shot process has to do.
//
//	ikclient ADDR AGENT PAYLOAD
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/n2n-dev/n2n/bench/internal/floor"
	"github.com/n2n-dev/n2n/keys"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: ikclient ADDR AGENT PAYLOAD")
		os.Exit(3)
	}
	if err := run(os.Args[1], os.Args[2], []byte(os.Args[3])); err != nil {
		fmt.Fprintln(os.Stderr, "ikclient: error:", err)
		os.Exit(1)
	}
}

func run(addr, agent string, payload []byte) error {
	remote, err := keys.ParseAgent(agent)
	if err != nil {
		return err
	}
	id, err := keys.Generate()
	if err != nil {
		return err
	}
	h, err := floor.NewClientHost(id)
	if err != nil {
		return err
	}
	ctx := context.Background()
	pid, err := floor.Connect(ctx, h, addr)
	if err != nil {
		return err
	}
	reply, err := floor.CallIK(ctx, h, pid, id, remote, payload)
	if err != nil {
		return err
	}
	if !bytes.Equal(reply, payload) {
		return fmt.Errorf("reply differs from the request")
	}
	_, err = os.Stdout.Write(reply)
	return err
}
