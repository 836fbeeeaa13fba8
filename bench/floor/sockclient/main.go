// Command sockclient is a thin, small static client of n2n's local socket
// protocol (n2n's localsock package): it sends its arguments as the command line to
// the daemon listening on SOCKET, relays stdin when asked, prints the stdout
// and stderr frames and exits with the status the daemon sends. It imports
// no libp2p, Badger or CLI framework, so it starts like a trivial binary.
// Against sockd it is the floor of a call through a local daemon; against
// `n2n serve` it is what a small front binary for n2n would cost.
//
//	sockclient SOCKET n2n [global flags] COMMAND [ARGS...]
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/n2n-dev/n2n/localsock"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: sockclient SOCKET ARGV0 [ARGS...]")
		os.Exit(3)
	}
	cwd, _ := os.Getwd()
	req := &localsock.Request{Args: localsock.Bytes(os.Args[2:]), Cwd: []byte(cwd)}
	code, err := localsock.Forward(context.Background(), os.Args[1], req, os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sockclient: error:", err)
		os.Exit(1)
	}
	os.Exit(code)
}
