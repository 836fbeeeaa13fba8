package cmd

import (
	"context"

	"github.com/n2n-dev/n2n/caps"
	"github.com/urfave/cli/v2"
)

func claimCommand() *cli.Command {
	return &cli.Command{
		Name:  "claim",
		Usage: "keep a capability another agent granted you",
		Subcommands: []*cli.Command{{
			Name:      "add",
			Usage:     "store a ticket as a claim on this agent's chain",
			ArgsUsage: "TICKET|-",
			Description: "Stores the ticket a grantor handed out (n2ncap1…) as a claim. With - the\n" +
				"ticket is read from stdin, which keeps it out of the process list. Prints the\n" +
				"claim ID.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "tag", Usage: "your own memo `TEXT` for the claim (default: the grant's tag)"},
			},
			Action: func(c *cli.Context) error {
				return runClaimAdd(c.Context, envOf(c), c.Args().First(), c.String("tag"), c.IsSet("tag"))
			},
		}},
	}
}

func runClaimAdd(ctx context.Context, e *env, text, tag string, setTag bool) error {
	if text == "-" {
		b, err := readLimited(e.stdin, 64<<10)
		if err != nil {
			return err
		}
		text = string(b)
	}
	t, err := caps.ParseTicket(text)
	if err != nil {
		return err
	}
	cl := caps.ClaimFromTicket(t)
	if setTag {
		cl.Tag = tag
	}
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	r, err := caps.AddClaim(c, cl)
	if err != nil {
		return err
	}
	id := r.Hash.ActionString()
	return e.io.Record(map[string]any{"claim_id": id}, []string{"claim"}, []string{id})
}
