package rpc

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
	"golang.org/x/sys/unix"
)

// The local socket protocol between a command and the daemon of its home.
// The command sends its arguments; the daemon runs the command in-process
// against its open home and warm host and streams back stdout, stderr and
// the exit status, so both paths print the same bytes. Frames are
// type(1) ‖ length(4, big-endian) ‖ data.
const (
	frameHeader    = 'H' // → LocalRequest (CBOR)
	frameStdin     = 'I' // → stdin bytes
	frameStdinEOF  = 'E' // → end of stdin
	frameWantStdin = 'W' // ← the command reads stdin: start sending it
	frameStdout    = 'O' // ← stdout bytes
	frameStderr    = 'R' // ← stderr bytes
	frameExit      = 'X' // ← exit status (4 bytes); last frame

	maxLocalFrame = 1 << 20 // stdin and output are sent in chunks of at most this
)

// LocalRequest is one command forwarded to the daemon.
type LocalRequest struct {
	Args      []string          `cbor:"1,keyasint"`
	Cwd       string            `cbor:"2,keyasint"`
	Env       map[string]string `cbor:"3,keyasint"`
	StdoutTTY bool              `cbor:"4,keyasint"`
	StdinTTY  bool              `cbor:"5,keyasint"`
}

// localDecMode reads the header frame: a command line and its environment
// may hold many strings.
var localDecMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4})

// LocalRunner runs a forwarded command and returns its exit status.
type LocalRunner func(ctx context.Context, req *LocalRequest, stdin io.Reader, stdout, stderr io.Writer) int

// ErrNoDaemon: no daemon answers on the home's socket.
var ErrNoDaemon = errors.New("no daemon")

func writeLocalFrame(w io.Writer, typ byte, data []byte) error {
	hdr := [5]byte{typ}
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(data)))
	if _, err := w.Write(append(hdr[:], data...)); err != nil {
		return err
	}
	return nil
}

func readLocalFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxLocalFrame+64<<10 {
		return 0, nil, fmt.Errorf("%w: local frame of %d bytes", ErrBadMessage, n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return hdr[0], b, err
}

// Forward sends a command to the daemon listening on sock and relays its
// stdin, stdout and stderr. It returns the command's exit status, or
// ErrNoDaemon when nothing answers on the socket.
func Forward(ctx context.Context, sock string, req *LocalRequest, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return 0, ErrNoDaemon
		}
		return 0, fmt.Errorf("rpc: daemon socket: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var wmu sync.Mutex
	send := func(typ byte, b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return writeLocalFrame(conn, typ, b)
	}
	if err := send(frameHeader, detcbor.Marshal(req)); err != nil {
		return 0, ErrNoDaemon
	}
	stdinStarted := false
	for {
		typ, b, err := readLocalFrame(conn)
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("rpc: the daemon closed the connection: %w", err)
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
				return 0, fmt.Errorf("%w: exit frame", ErrBadMessage)
			}
			return int(int32(binary.BigEndian.Uint32(b))), nil
		default:
			return 0, fmt.Errorf("%w: local frame type %q", ErrBadMessage, typ)
		}
	}
}

func pumpStdin(stdin io.Reader, send func(byte, []byte) error) {
	buf := make([]byte, maxLocalFrame)
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

// ServeLocal answers commands on ln until ctx ends. Only processes of the
// daemon's own user may connect (checked with SO_PEERCRED, in addition to
// the socket's 0600 mode).
func ServeLocal(ctx context.Context, ln net.Listener, run LocalRunner) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("rpc: local socket: %w", err)
		}
		if !sameUser(conn) {
			conn.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveLocalConn(ctx, conn, run)
		}()
	}
}

func sameUser(conn net.Conn) bool {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	return err == nil && cred != nil && int(cred.Uid) == os.Getuid()
}

func serveLocalConn(ctx context.Context, conn net.Conn, run LocalRunner) {
	defer conn.Close()
	typ, b, err := readLocalFrame(conn)
	if err != nil || typ != frameHeader {
		return
	}
	var req LocalRequest
	if err := localDecMode().Unmarshal(b, &req); err != nil || len(req.Args) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wmu sync.Mutex
	send := func(typ byte, b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return writeLocalFrame(conn, typ, b)
	}
	pr, pw := io.Pipe()
	stdin := &lazyStdin{r: pr, want: func() { send(frameWantStdin, nil) }}
	go func() {
		// Everything the client sends after the header is stdin; when the
		// client goes away, the command is cancelled.
		for {
			typ, b, err := readLocalFrame(conn)
			if err != nil {
				pw.CloseWithError(io.ErrUnexpectedEOF)
				cancel()
				return
			}
			switch typ {
			case frameStdin:
				pw.Write(b)
			case frameStdinEOF:
				pw.Close()
			}
		}
	}()
	code := run(ctx, &req, stdin, &frameWriter{typ: frameStdout, send: send}, &frameWriter{typ: frameStderr, send: send})
	send(frameExit, binary.BigEndian.AppendUint32(nil, uint32(int32(code))))
}

// lazyStdin asks the client for stdin on the first read, so a command that
// never reads stdin never consumes the client's.
type lazyStdin struct {
	r    io.Reader
	once sync.Once
	want func()
}

func (s *lazyStdin) Read(p []byte) (int, error) {
	s.once.Do(s.want)
	return s.r.Read(p)
}

type frameWriter struct {
	typ  byte
	send func(byte, []byte) error
}

func (w *frameWriter) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += maxLocalFrame {
		end := min(off+maxLocalFrame, len(p))
		if err := w.send(w.typ, p[off:end]); err != nil {
			return off, err
		}
	}
	return len(p), nil
}
