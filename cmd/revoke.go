package cmd

import (
	"context"
	"strings"

	"github.com/n2n-dev/n2n/caps"
	"github.com/urfave/cli/v2"
)

func revokeCommand() *cli.Command {
	return &cli.Command{
		Name:      "revoke",
		Usage:     "revoke a capability grant",
		ArgsUsage: "GRANT_ID",
		Description: "Commits a delete of the grant (a unique prefix of its ID will do). From that\n" +
			"moment it authorizes nothing, also on sessions already open.",
		Action: func(c *cli.Context) error {
			return runRevoke(c.Context, envOf(c), c.Args().First())
		},
	}
}

func runRevoke(ctx context.Context, e *env, id string) error {
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	gi, err := caps.LookupGrant(c, id)
	if err != nil {
		return err
	}
	if _, err = caps.Revoke(c, gi.ID); err != nil {
		return err
	}
	e.io.Confirm("revoked grant %s (%s of %s)", gi.ID.ActionString(), gi.Access, strings.Join(gi.Functions, ","))
	return nil
}
