package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

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
	e.warnOpenHome()
	if e.daemon != nil {
		return e.daemon.Chain, func() {}, nil
	}
	if !readOnly {
		if err := e.homeWritable(); err != nil {
			return nil, nil, err
		}
	}
	if !chain.Exists(e.home) {
		if err := e.homeReadable(); err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w in %s", chain.ErrNoIdentity, e.home)
	}
	key, err := e.storeKey(ctx)
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

// homeWritable refuses to write into a home that belongs to another user:
// what root, say, wrote there would shut its owner out of it. A home not yet
// made is judged by the nearest directory above it that exists, which must
// be this user's or root's (as /tmp and /home are).
func (e *env) homeWritable() error {
	me := uint32(os.Getuid())
	for dir, made := e.home, true; ; made = false {
		fi, err := os.Stat(dir)
		if err == nil {
			owner := fi.Sys().(*syscall.Stat_t).Uid
			switch {
			case owner == me, !made && owner == 0:
				return nil
			case made:
				return withHint(fmt.Errorf("the home %s belongs to %s, not to you (%s): n2n will not write into it", dir, userName(owner), userName(me)),
					exitError, "run n2n as "+userName(owner)+", or use --home for a home of your own")
			}
			return withHint(fmt.Errorf("%s belongs to %s, not to you (%s): n2n will not make a home inside it", dir, userName(owner), userName(me)),
				exitError, "run n2n as "+userName(owner)+", or use --home for a home of your own")
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, fs.ErrNotExist) || parent == dir {
			return nil // what is wrong shows when the home is opened
		}
		dir = parent
	}
}

// userName is the name of the user with this uid, or "uid N".
func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return "user " + u.Username
	}
	return "uid " + id
}

// warnOpenHome warns, once per command and as ssh does of a key file, when
// the home is open to other users: its files are private (0600), but what
// its directory lets others see or reach is not.
func (e *env) warnOpenHome() {
	if e.homeChecked {
		return
	}
	e.homeChecked = true
	fi, err := os.Stat(e.home)
	if err == nil && fi.IsDir() && fi.Mode().Perm()&0o077 != 0 {
		e.io.Warn("the home %s is open to other users (mode %04o): run 'chmod 700 %s'", e.home, fi.Mode().Perm(), e.home)
	}
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
func (e *env) storeKey(ctx context.Context) ([]byte, error) {
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
	pass, err := e.passphrase(ctx, false)
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	return kdf.Key(pass), nil
}

// passphrase finds the passphrase: N2N_PASSPHRASE, --passphrase-file, or a
// prompt on the terminal, which Ctrl-C (ctx) ends at once. It never comes
// from argv. confirm: it is a new home's, asked twice.
func (e *env) passphrase(ctx context.Context, confirm bool) ([]byte, error) {
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
	p, err := output.ReadPassphrase(ctx, "Passphrase for "+e.home+": ", confirm)
	switch {
	case errors.Is(err, output.ErrNoTTY):
		return nil, errNoPassphrase
	case err == nil && len(p) == 0 && confirm:
		return nil, withHint(errors.New("empty passphrase"), exitUsage,
			"for a home without a passphrase (unencrypted, for unattended use), run 'n2n init --no-passphrase'")
	case err == nil && len(p) == 0:
		return nil, withHint(errors.New("empty passphrase"), exitUsage, "this home is encrypted: type the passphrase it was made with")
	}
	return p, err
}
