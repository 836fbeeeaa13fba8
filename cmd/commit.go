package cmd

import (
	"context"
	"fmt"
	"io"

	"github.com/n2n-dev/n2n/chain"
	"github.com/urfave/cli/v2"
)

// maxPayload is the payload limit of messages and calls, also for entries.
const maxPayload = 16 << 20

type commitOptions struct {
	entryType string
	data      string // "-" reads stdin
}

func commitCommand() *cli.Command {
	return &cli.Command{
		Name:      "commit",
		Usage:     "append an app entry to this agent's source chain",
		ArgsUsage: "DATA|-",
		Description: "Appends a create action of entry type app:NAME whose entry is DATA (or stdin\n" +
			"with -). Prints the action hash and the entry hash. Function handlers use it to\n" +
			"write to the callee's chain.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "type", Usage: "entry type `NAME` ([a-z][a-z0-9_]*)", Required: true},
		},
		Action: func(c *cli.Context) error {
			return runCommit(c.Context, envOf(c), commitOptions{entryType: c.String("type"), data: c.Args().First()})
		},
	}
}

func runCommit(ctx context.Context, e *env, o commitOptions) error {
	if !chain.ValidAppName(o.entryType) {
		return usagef("entry type %q: use lower-case letters, digits and _, starting with a letter", o.entryType)
	}
	data := []byte(o.data)
	if o.data == "-" {
		var err error
		if data, err = readLimited(e.stdin, "stdin", maxPayload); err != nil {
			return err
		}
	}
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	r, err := c.Append(chain.Draft{Type: chain.Create, EntryType: chain.AppPrefix + o.entryType, Entry: data})
	if err != nil {
		return err
	}
	return e.io.Record(map[string]any{"hash": r.Hash.ActionString(), "entry_hash": r.EntryHash.EntryString()},
		[]string{"action", "entry"}, []string{r.Hash.ActionString(), r.EntryHash.EntryString()})
}

// readLimited reads all of r (named what, for errors), refusing more than
// limit bytes (exit 3).
func readLimited(r io.Reader, what string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, usagef("%s is over the %s limit", what, sizeText(limit))
	}
	return b, nil
}

// sizeText is a byte count as people write it: 16 MiB, 64 KiB, 100 bytes.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
