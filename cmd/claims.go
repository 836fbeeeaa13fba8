package cmd

import (
	"context"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/daemon"
	"github.com/n2n-dev/n2n/output"
	"github.com/urfave/cli/v2"
)

func claimsCommand() *cli.Command {
	return &cli.Command{
		Name:  "claims",
		Usage: "list the capabilities others granted this agent",
		Description: "Lists the claims on this agent's chain. With --pending, lists instead the claims\n" +
			"other agents delivered that wait for you, off the chain (see serve's\n" +
			"--accept-claims): n2n claim accept ID puts one on the chain, n2n claim reject\n" +
			"ID drops it.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "pending", Usage: "list the delivered claims that wait for you"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("pending") {
				return runClaimsPending(c.Context, envOf(c))
			}
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
	if len(rows) == 0 {
		e.io.Empty("no claims ('n2n claim add' stores a ticket someone gave you)")
	}
	return e.io.Table([]string{"CLAIM", "GRANTOR", "FUNCTIONS", "ACCESS", "TAG", "ADDED"}, rows, objs)
}

func runClaimsPending(ctx context.Context, e *env) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	list, err := daemon.PendingClaims{Store: c.Side(daemon.PendingSide)}.List()
	if err != nil {
		return err
	}
	var rows [][]string
	var objs []any
	now := time.Now()
	for _, pc := range list {
		id, grantor := pc.ID.EntryString(), pc.Grantor.String()
		if e.io.Mode == output.Human {
			id, grantor = short(id), short(grantor)
		}
		rows = append(rows, []string{id, grantor, strings.Join(pc.Functions, ","), string(pc.Access), pc.Tag, e.io.Time(pc.Received, now)})
		objs = append(objs, map[string]any{"pending_id": pc.ID.EntryString(), "grantor": pc.Grantor.String(),
			"functions": pc.Functions, "access": string(pc.Access), "tag": pc.Tag, "received": output.TimeText(pc.Received)})
	}
	return e.io.Table([]string{"PENDING", "GRANTOR", "FUNCTIONS", "ACCESS", "TAG", "RECEIVED"}, rows, objs)
}
