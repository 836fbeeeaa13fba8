package localsock

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/n2n-dev/n2n/internal/detcbor"
)

// ErrNoDaemon: no daemon answers on the home's socket.
var ErrNoDaemon = errors.New("no daemon")

// Forward sends a command to the daemon listening on sock and relays its
// stdin, stdout and stderr. It returns the command's exit status, or
// ErrNoDaemon when nothing answers on the socket.
func Forward(ctx context.Context, sock string, req *Request, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return 0, ErrNoDaemon
		}
		return 0, fmt.Errorf("localsock: daemon socket: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var wmu sync.Mutex
	send := func(typ byte, b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return writeFrame(conn, typ, b)
	}
	if err := send(frameHeader, detcbor.Marshal(req)); err != nil {
		return 0, ErrNoDaemon
	}
	stdinStarted := false
	for {
		typ, b, err := readFrame(conn)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("localsock: the daemon closed the connection: %w", err)
		}
		switch typ {
		case frameStdout:
			stdout.Write(b)
		case frameStderr:
			stderr.Write(b)
		case frameWantStdin:
			if !stdinStarted {
				stdinStarted = true
				go pumpStdin(stdin, send)
			}
		case frameExit:
			if len(b) != 4 {
				return 0, fmt.Errorf("%w: exit frame", ErrBadFrame)
			}
			return int(int32(binary.BigEndian.Uint32(b))), nil
		default:
			return 0, fmt.Errorf("%w: frame type %q", ErrBadFrame, typ)
		}
	}
}

// pumpStdin sends stdin in frames until it ends.
func pumpStdin(stdin io.Reader, send func(byte, []byte) error) {
	buf := make([]byte, maxChunk)
	for {
		n, err := stdin.Read(buf)
		if n > 0 && send(frameStdin, buf[:n]) != nil {
			return
		}
		if err != nil {
			send(frameStdinEOF, nil)
			return
		}
	}
}
