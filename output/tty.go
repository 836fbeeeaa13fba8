package output

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// ErrNoTTY means a passphrase was needed but there is no terminal to ask on.
var ErrNoTTY = errors.New("no terminal to read a passphrase from")

// ReadPassphrase prompts on /dev/tty (never stdout) and reads a line without
// echo. With confirm it asks twice and insists the two match.
func ReadPassphrase(prompt string, confirm bool) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, ErrNoTTY
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return nil, ErrNoTTY
	}
	read := func(p string) ([]byte, error) {
		fmt.Fprint(tty, p)
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		return b, err
	}
	p1, err := read(prompt)
	if err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	if !confirm {
		return p1, nil
	}
	p2, err := read("Confirm passphrase: ")
	if err != nil {
		return nil, fmt.Errorf("reading passphrase: %w", err)
	}
	if string(p1) != string(p2) {
		clear(p1)
		clear(p2)
		return nil, errors.New("passphrases do not match")
	}
	clear(p2)
	return p1, nil
}
