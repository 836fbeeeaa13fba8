package cmd

import (
	"context"
	"errors"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/daemon"
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
		}, {
			Name:      "accept",
			Usage:     "put a pending claim on this agent's chain",
			ArgsUsage: "PENDING_ID",
			Description: "Commits the delivered claim that waits under PENDING_ID (n2n claims --pending;\n" +
				"a unique prefix will do) as a claim, which call can then use. Prints the claim ID.",
			Action: func(c *cli.Context) error {
				return runClaimAccept(c.Context, envOf(c), c.Args().First())
			},
		}, {
			Name:      "reject",
			Usage:     "drop a pending claim",
			ArgsUsage: "PENDING_ID",
			Description: "Forgets the delivered claim that waits under PENDING_ID (n2n claims --pending;\n" +
				"a unique prefix will do). Its grantor is not told.",
			Action: func(c *cli.Context) error {
				return runClaimReject(c.Context, envOf(c), c.Args().First())
			},
		}},
	}
}

func runClaimAdd(ctx context.Context, e *env, text, tag string, setTag bool) error {
	if text == "-" {
		b, err := readLimited(e.stdin, "stdin", 64<<10)
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

func pendingOf(c *chain.Chain) daemon.PendingClaims {
	return daemon.PendingClaims{Store: c.Side(daemon.PendingSide)}
}

func runClaimAccept(ctx context.Context, e *env, id string) error {
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	r, err := pendingOf(c).Accept(c, id)
	if err != nil {
		return withPendingHint(err)
	}
	claim := r.Hash.ActionString()
	return e.io.Record(map[string]any{"claim_id": claim}, []string{"claim"}, []string{claim})
}

func runClaimReject(ctx context.Context, e *env, id string) error {
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	_, err = pendingOf(c).Reject(id)
	return withPendingHint(err)
}

// withPendingHint points at the list when a pending claim is not found.
func withPendingHint(err error) error {
	if errors.Is(err, chain.ErrNotFound) {
		return withHint(err, 0, "'n2n claims --pending' lists the claims that wait")
	}
	return err
}
