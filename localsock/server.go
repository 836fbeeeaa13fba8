package localsock

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Runner runs a forwarded command and returns its exit status.
type Runner func(ctx context.Context, req *Request, stdin io.Reader, stdout, stderr io.Writer) int

// Serve answers commands on ln until ctx ends, each with run. Only
// processes of the daemon's own user may connect (checked with
// SO_PEERCRED, in addition to the socket's 0600 mode).
func Serve(ctx context.Context, ln net.Listener, run Runner) error {
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
			return fmt.Errorf("localsock: accept: %w", err)
		}
		if !sameUser(conn) {
			conn.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveConn(ctx, conn, run)
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

// serveConn runs the command of one connection.
func serveConn(ctx context.Context, conn net.Conn, run Runner) {
	defer conn.Close()
	typ, b, err := readFrame(conn)
	if err != nil || typ != frameHeader {
		return
	}
	req, err := decodeHeader(b)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wmu sync.Mutex
	send := func(typ byte, b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return writeFrame(conn, typ, b)
	}
	pr, pw := io.Pipe()
	stdin := &lazyStdin{r: pr, want: func() { send(frameWantStdin, nil) }}
	go func() {
		// Everything the client sends after the header is stdin; when the
		// client goes away, the command is cancelled.
		for {
			typ, b, err := readFrame(conn)
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
	code := run(ctx, req, stdin, &chunkWriter{typ: frameStdout, send: send}, &chunkWriter{typ: frameStderr, send: send})
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

// chunkWriter sends what is written as frames of one type, maxChunk at most
// each.
type chunkWriter struct {
	typ  byte
	send func(byte, []byte) error
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += maxChunk {
		end := min(off+maxChunk, len(p))
		if err := w.send(w.typ, p[off:end]); err != nil {
			return off, err
		}
	}
	return len(p), nil
}
