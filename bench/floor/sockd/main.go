// Command sockd is the floor of a call through a local daemon: it keeps a
// warm libp2p connection to an ikserver and answers clients on a unix socket
// that speaks n2n's local socket protocol (n2n's localsock package). For
// each command it takes the last argument as the payload, sends it on the
// Noise IK session it keeps open with the ikserver (made on the first call),
// and returns the reply as stdout and exit status 0 — what
// n2n's daemon does for `n2n call`, without the CLI, the home, requests or
// handlers. It runs until SIGINT or SIGTERM.
//
//	sockd -sock PATH -addr ADDR -agent AGENT
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/n2n-dev/n2n/bench/internal/floor"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/localsock"
)

func main() {
	sock := flag.String("sock", "", "unix socket to listen on")
	addr := flag.String("addr", "", "ikserver's full multiaddr")
	agent := flag.String("agent", "", "ikserver's agent ID")
	flag.Parse()
	if err := run(*sock, *addr, *agent); err != nil {
		fmt.Fprintln(os.Stderr, "sockd: error:", err)
		os.Exit(1)
	}
}

func run(sock, addr, agent string) error {
	if sock == "" || addr == "" || agent == "" {
		return errors.New("-sock, -addr and -agent are required")
	}
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
	defer h.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pid, err := floor.Connect(ctx, h, addr)
	if err != nil {
		return err
	}
	os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	defer os.Remove(sock)
	warm := &floor.WarmIK{H: h, PID: pid, ID: id, Remote: remote}
	return localsock.Serve(ctx, ln, func(ctx context.Context, req *localsock.Request, _ io.Reader, stdout, stderr io.Writer) int {
		ctx, cancel := context.WithTimeout(ctx, floor.Timeout)
		defer cancel()
		reply, err := warm.Call(ctx, req.Args[len(req.Args)-1])
		if err != nil {
			fmt.Fprintln(stderr, "sockd:", err)
			return 1
		}
		stdout.Write(reply)
		return 0
	})
}
