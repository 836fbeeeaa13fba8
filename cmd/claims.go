package cmd

import (
	"context"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/output"
	"github.com/urfave/cli/v2"
)

func claimsCommand() *cli.Command {
	return &cli.Command{
		Name:  "claims",
		Usage: "list the capabilities others granted this agent",
		Action: func(c *cli.Context) error {
			return runClaims(c.Context, envOf(c))
		},
	}
}

func runClaims(ctx context.Context, e *env) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	cs, err := caps.Claims(c)
	if err != nil {
		return err
	}
	var rows [][]string
	var objs []any
	now := time.Now()
	for _, ci := range cs {
		id, grantor := ci.ID.ActionString(), ci.Grantor.String()
		if e.io.Mode == output.Human {
			id, grantor = short(id), short(grantor)
		}
		rows = append(rows, []string{id, grantor, strings.Join(ci.Functions, ","), string(ci.Access), ci.Tag, e.io.Time(ci.Time, now)})
		objs = append(objs, map[string]any{"claim_id": ci.ID.ActionString(), "grantor": ci.Grantor.String(),
			"functions": ci.Functions, "access": string(ci.Access), "tag": ci.Tag, "added": output.TimeText(ci.Time)})
	}
	return e.io.Table([]string{"CLAIM", "GRANTOR", "FUNCTIONS", "ACCESS", "TAG", "ADDED"}, rows, objs)
}
