package output

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// ErrNoTTY means a passphrase was needed but there is no terminal to ask on.
var ErrNoTTY = errors.New("no terminal to read a passphrase from")

// ReadPassphrase prompts on /dev/tty (never stdout) and reads a line without
// echo. With confirm it asks twice and insists the two match. When ctx ends
// while it waits (Ctrl-C), it puts the terminal back as it was, ends the
// prompt's line and returns ctx's error at once, without waiting for Enter.
func ReadPassphrase(ctx context.Context, prompt string, confirm bool) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, ErrNoTTY
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return nil, ErrNoTTY
	}
	p1, err := readHidden(ctx, tty, prompt)
	if err != nil {
		return nil, err
	}
	if !confirm || len(p1) == 0 {
		return p1, nil
	}
	p2, err := readHidden(ctx, tty, "Confirm passphrase: ")
	if err != nil {
		clear(p1)
		return nil, err
	}
	if string(p1) != string(p2) {
		clear(p1)
		clear(p2)
		return nil, errors.New("passphrases do not match")
	}
	clear(p2)
	return p1, nil
}

// readHidden turns the terminal's echo off, prompts, reads a line, and puts
// the terminal back as it was, also when ctx ends first (which returns
// ctx's error). Echo is off before the prompt shows, so nothing typed
// after it is echoed, and the modes are put back here, after the last
// change to them.
func readHidden(ctx context.Context, tty *os.File, prompt string) ([]byte, error) {
	fd := int(tty.Fd())
	modes, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	hidden := *modes
	hidden.Lflag &^= unix.ECHO
	hidden.Lflag |= unix.ICANON | unix.ISIG // a line at a time; Ctrl-C interrupts
	hidden.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &hidden); err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, modes)
	fmt.Fprint(tty, prompt)
	defer fmt.Fprintln(tty)

	type line struct {
		b   []byte
		err error
	}
	got := make(chan line, 1)
	go func() { // on Ctrl-C it goes on until the process exits, which follows
		b, err := readLine(fd)
		got <- line{b, err}
	}()
	select {
	case l := <-got:
		if l.err != nil {
			return nil, fmt.Errorf("reading passphrase: %w", l.err)
		}
		return l.b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readLine reads up to a newline (the terminal is in canonical mode: it
// hands over whole lines, edited) and returns the line without it.
func readLine(fd int) ([]byte, error) {
	var line []byte
	var b [256]byte
	for {
		n, err := unix.Read(fd, b[:])
		if n > 0 {
			line = append(line, b[:n]...)
			if i := bytes.IndexByte(line, '\n'); i >= 0 {
				out := bytes.TrimRight(line[:i], "\r")
				clear(line[i:])
				return out, nil
			}
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			clear(line)
			return nil, err
		}
		if n == 0 {
			if len(line) == 0 {
				return nil, io.EOF
			}
			return line, nil
		}
	}
}
