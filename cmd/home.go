package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/output"
)

// kdfFile holds the Argon2id parameters and salt of an encrypted home; its
// presence is what marks a home as encrypted.
const kdfFile = "kdf"

// openHome opens the home's chain, read-only when the command only reads.
// Inside the daemon it is the daemon's open chain. Call done when finished.
func (e *env) openHome(ctx context.Context, readOnly bool) (c *chain.Chain, done func(), err error) {
	if e.daemon != nil {
		return e.daemon.Chain, func() {}, nil
	}
	if !chain.Exists(e.home) {
		if err := e.homeReadable(); err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w in %s", chain.ErrNoIdentity, e.home)
	}
	key, err := e.storeKey()
	if err != nil {
		return nil, nil, err
	}
	defer clear(key)
	c, err = chain.Open(ctx, e.home, chain.Options{ReadOnly: readOnly, EncryptionKey: key, LockTimeout: e.timeout})
	if errors.Is(err, chain.ErrWrongKey) {
		return nil, nil, fmt.Errorf("%w for %s", chain.ErrWrongKey, e.home)
	}
	if err != nil {
		return nil, nil, err
	}
	if readOnly && e.exiting {
		return c, func() {}, nil // released by the exit (env.exiting)
	}
	return c, func() { c.Close() }, nil
}

// homeReadable tells a home this user may not read (permission denied) from
// one that does not exist: only the second calls for n2n init.
func (e *env) homeReadable() error {
	_, err := os.ReadDir(e.home)
	var pe *fs.PathError
	if errors.Is(err, fs.ErrPermission) && errors.As(err, &pe) {
		return withHint(fmt.Errorf("cannot read the home %s: %w", pe.Path, pe.Err), exitError,
			"it belongs to another user or its permissions shut you out (ls -ld "+pe.Path+"); use --home for your own")
	}
	return nil
}

// path makes a file argument absolute against the invoking shell's
// directory (a command run by the daemon has the daemon's).
func (e *env) path(p string) string {
	if p == "" || p == "-" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.cwd, p)
}

// storeKey derives the store key of an encrypted home (nil for a plain one).
func (e *env) storeKey() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(e.home, kdfFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var kdf keys.KDF
	if err := kdf.UnmarshalText(b); err != nil {
		return nil, err
	}
	pass, err := e.passphrase(false)
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	return kdf.Key(pass), nil
}

// passphrase finds the passphrase: N2N_PASSPHRASE, --passphrase-file, or a
// prompt on the terminal. It never comes from argv.
func (e *env) passphrase(confirm bool) ([]byte, error) {
	if p := os.Getenv("N2N_PASSPHRASE"); p != "" { // empty counts as unset
		return []byte(p), nil
	}
	if e.passFile != "" {
		b, err := os.ReadFile(e.path(e.passFile))
		if err != nil {
			return nil, usagef("--passphrase-file: %v", err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, usagef("--passphrase-file %s is empty", e.passFile)
		}
		return b, nil
	}
	p, err := output.ReadPassphrase("Passphrase for "+e.home+": ", confirm)
	if errors.Is(err, output.ErrNoTTY) {
		return nil, errNoPassphrase
	}
	if err == nil && len(p) == 0 {
		return nil, usagef("empty passphrase")
	}
	return p, err
}
