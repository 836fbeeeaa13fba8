package cmd

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/output"
	"github.com/urfave/cli/v2"
)

func chainCommand() *cli.Command {
	return &cli.Command{
		Name:  "chain",
		Usage: "read and check this agent's source chain",
		Subcommands: []*cli.Command{
			{
				Name:  "log",
				Usage: "list the actions, oldest first",
				Action: func(c *cli.Context) error {
					return runChainLog(c.Context, envOf(c))
				},
			},
			{
				Name:      "show",
				Usage:     "show one action and its entry",
				ArgsUsage: "HASH",
				Action: func(c *cli.Context) error {
					return runChainShow(c.Context, envOf(c), c.Args().First())
				},
			},
			{
				Name:  "verify",
				Usage: "re-derive every hash and signature and check every link",
				Description: "Exits 0 when the chain is intact and 10 naming the first bad action\n" +
					"when it is not.",
				Action: func(c *cli.Context) error {
					return runChainVerify(c.Context, envOf(c))
				},
			},
			{
				Name:  "export",
				Usage: "print every action as one JSON object per line",
				Action: func(c *cli.Context) error {
					return runChainExport(c.Context, envOf(c))
				},
			},
		},
	}
}

// actionJSON is the JSON form of an action (a contract: jsonFields).
type actionJSON struct {
	Seq       uint64 `json:"seq"`
	Hash      string `json:"hash"`
	Prev      string `json:"prev"`
	Timestamp string `json:"timestamp"` // output.TimeFormat
	Author    string `json:"author"`
	Type      string `json:"type"`
	EntryType string `json:"entry_type"`
	EntryHash string `json:"entry_hash"`
	Target    string `json:"target"`
	Signature string `json:"signature"` // base64url
}

func toActionJSON(r chain.Record) actionJSON {
	j := actionJSON{
		Seq:       r.Seq,
		Hash:      r.Hash.ActionString(),
		Timestamp: output.TimeText(time.UnixMicro(r.Timestamp)),
		Author:    r.Author.String(),
		Type:      string(r.Type),
		EntryType: r.EntryType,
		EntryHash: r.EntryHash.EntryString(),
		Signature: base64.RawURLEncoding.EncodeToString(r.Signature),
	}
	if len(r.Prev) == 32 {
		j.Prev = keys.Hash(r.Prev).ActionString()
	}
	if len(r.Target) == 32 {
		j.Target = r.TargetHash().ActionString()
	}
	return j
}

func runChainLog(ctx context.Context, e *env) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	if e.io.Mode == output.JSON {
		return c.Range(0, func(r chain.Record) error { return e.io.JSONLine(toActionJSON(r)) })
	}
	var rows [][]string
	now := time.Now()
	err = c.Range(0, func(r chain.Record) error {
		j := toActionJSON(r)
		when := e.io.Time(time.UnixMicro(r.Timestamp), now)
		if e.io.Mode == output.Human {
			rows = append(rows, []string{strconv.FormatUint(r.Seq, 10), short(j.Hash), when, j.Type, j.EntryType, short(j.Target)})
		} else {
			rows = append(rows, []string{strconv.FormatUint(r.Seq, 10), j.Hash, when, j.Type, j.EntryType, j.EntryHash, j.Target})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return e.io.Table([]string{"SEQ", "HASH", "TIME", "ACTION", "ENTRY TYPE", "TARGET"}, rows, nil)
}

// short abbreviates a typed hash for terminal tables (still a valid prefix).
func short(s string) string {
	if s == "" || len(s) <= 5+keys.MinPrefix+4 {
		return s
	}
	return s[:5+keys.MinPrefix+4] + "…"
}

func runChainShow(ctx context.Context, e *env, text string) error {
	ab, err := keys.ParseAbbrev(keys.KindAction, text)
	if err != nil {
		return err
	}
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	r, err := c.Lookup(ab)
	if err != nil {
		return fmt.Errorf("action %w", err)
	}
	j := toActionJSON(r)
	var entry []byte
	if r.Type != chain.Delete && strings.HasPrefix(r.EntryType, chain.AppPrefix) {
		// Only app entries are shown: grant and claim entries hold secrets.
		entry, _ = c.Entry(r.EntryHash)
	}
	if e.io.Mode == output.JSON {
		type showJSON struct {
			actionJSON
			Entry         *string `json:"entry,omitempty"`
			EntryEncoding string  `json:"entry_encoding,omitempty"`
		}
		v := showJSON{actionJSON: j}
		if entry != nil {
			text, enc := output.Bytes(entry)
			v.Entry, v.EntryEncoding = &text, enc
		}
		return e.io.JSONLine(v)
	}
	labels := []string{"seq", "hash", "prev", "time", "author", "action", "entry type", "entry hash", "target", "signature"}
	values := []string{strconv.FormatUint(r.Seq, 10), j.Hash, j.Prev, j.Timestamp,
		j.Author, j.Type, j.EntryType, j.EntryHash, j.Target, j.Signature}
	if err := e.io.Record(nil, labels, values); err != nil {
		return err
	}
	if entry != nil && e.io.Mode == output.Human {
		e.io.Println()
		e.io.Payload(entry)
		if len(entry) > 0 && entry[len(entry)-1] != '\n' {
			e.io.Println()
		}
	}
	return nil
}

func runChainVerify(ctx context.Context, e *env) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	n, err := c.Verify()
	if err != nil {
		return err
	}
	head, err := c.Head()
	if err != nil {
		return err
	}
	return e.io.Record(map[string]any{"ok": true, "actions": n, "head": head.Hash.ActionString()},
		[]string{"verified", "head"}, []string{plural(n, "action"), head.Hash.ActionString()})
}

func runChainExport(ctx context.Context, e *env) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	return c.Range(0, func(r chain.Record) error { return e.io.JSONLine(toActionJSON(r)) })
}

func plural(n uint64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
