// Command sockclient is a thin, small static client of n2n's local socket
// protocol (rpc/local.go): it sends its arguments as the command line to
// the daemon listening on SOCKET, relays stdin when asked, prints the stdout
// and stderr frames and exits with the status the daemon sends. It imports
// no libp2p, Badger or CLI framework, so it starts like a trivial binary.
// Against sockd it is the floor of a call through a local daemon; against
// `n2n serve` it is what a small front binary for n2n would cost.
//
//	sockclient SOCKET n2n [global flags] COMMAND [ARGS...]
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/n2n-dev/n2n/bench/internal/localframe"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: sockclient SOCKET ARGV0 [ARGS...]")
		os.Exit(3)
	}
	code, err := run(os.Args[1], os.Args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "sockclient: error:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(sock string, args []string) (int, error) {
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	cwd, _ := os.Getwd()
	hdr, err := localframe.EncodeRequest(&localframe.Request{Args: args, Cwd: cwd, Env: map[string]string{}})
	if err != nil {
		return 0, err
	}
	if err := localframe.Write(conn, localframe.Header, hdr); err != nil {
		return 0, err
	}
	stdinStarted := false
	for {
		typ, b, err := localframe.Read(conn)
		if err != nil {
			return 0, fmt.Errorf("the daemon closed the connection: %w", err)
		}
		switch typ {
		case localframe.Stdout:
			os.Stdout.Write(b)
		case localframe.Stderr:
			os.Stderr.Write(b)
		case localframe.WantStdin:
			if !stdinStarted {
				stdinStarted = true
				go pumpStdin(conn)
			}
		case localframe.Exit:
			if len(b) != 4 {
				return 0, fmt.Errorf("bad exit frame")
			}
			return int(int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))), nil
		default:
			return 0, fmt.Errorf("unknown frame type %q", typ)
		}
	}
}

func pumpStdin(conn net.Conn) {
	buf := make([]byte, 1<<20)
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 && localframe.Write(conn, localframe.Stdin, buf[:n]) != nil {
			return
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintln(os.Stderr, "sockclient: stdin:", err)
			}
			localframe.Write(conn, localframe.StdinEOF, nil)
			return
		}
	}
}
