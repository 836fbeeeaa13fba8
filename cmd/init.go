package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/urfave/cli/v2"
)

type initOptions struct {
	noPassphrase bool
}

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create this home's identity and the genesis of its source chain",
		Description: "Creates an Ed25519 identity in the home (--home, N2N_HOME) and writes the first\n" +
			"action of its source chain. The home is encrypted with a passphrase (asked on the\n" +
			"terminal, or N2N_PASSPHRASE / --passphrase-file) unless --no-passphrase is given.\n" +
			"It never overwrites an existing identity.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-passphrase", Usage: "store the identity unencrypted (unattended homes)"},
		},
		Action: func(c *cli.Context) error {
			return runInit(c.Context, envOf(c), initOptions{noPassphrase: c.Bool("no-passphrase")})
		},
	}
}

func runInit(ctx context.Context, e *env, o initOptions) error {
	if chain.Exists(e.home) {
		return fmt.Errorf("%s already holds an identity: %w", e.home, chain.ErrExists)
	}
	if err := e.homeWritable(); err != nil {
		return err
	}
	var pass []byte
	if !o.noPassphrase { // asked first: Ctrl-C at the prompt leaves nothing behind
		var err error
		pass, err = e.passphrase(ctx, true)
		if errors.Is(err, errNoPassphrase) {
			return withHint(errors.New("no passphrase for the new home"), exitAuth,
				"set N2N_PASSPHRASE or --passphrase-file, run on a terminal, or use --no-passphrase for an unencrypted home")
		}
		if err != nil {
			return err
		}
		defer clear(pass)
	}
	if err := os.MkdirAll(e.home, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(e.home, 0o700); err != nil {
		return err
	}
	var key []byte
	if !o.noPassphrase {
		kdf, err := keys.NewKDF()
		if err != nil {
			return err
		}
		key = kdf.Key(pass)
		defer clear(key)
		text, _ := kdf.MarshalText()
		// A leftover from an init that failed before its store was made.
		os.Remove(filepath.Join(e.home, kdfFile))
		if err := writeExclusive(filepath.Join(e.home, kdfFile), text); err != nil {
			return err
		}
	}
	id, err := keys.Generate()
	if err != nil {
		return err
	}
	c, err := chain.Init(ctx, e.home, id, chain.Options{EncryptionKey: key, LockTimeout: e.timeout})
	if err != nil {
		if !errors.Is(err, chain.ErrExists) && key != nil {
			os.Remove(filepath.Join(e.home, kdfFile))
		}
		return err
	}
	defer c.Close()
	pub := id.Public()
	if err := e.io.Record(map[string]any{"agent_id": pub.String(), "peer_id": pub.PeerID()},
		[]string{"agent"}, []string{pub.String()}); err != nil {
		return err
	}
	how := "encrypted with your passphrase"
	if key == nil {
		how = "not encrypted"
	}
	e.io.Confirm("created the home %s (%s)\n"+
		"next steps:\n"+
		"  n2n serve --detach   answer other agents; give them your agent ID (above)\n"+
		"  n2n help grant       let them call your functions\n"+
		"  n2n help             everything else", e.home, how)
	return nil
}

// writeExclusive creates a new 0600 file (never overwriting) and syncs it.
func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
