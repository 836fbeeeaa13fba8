package cmd

import (
	"context"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/output"
	"github.com/urfave/cli/v2"
)

func grantsCommand() *cli.Command {
	return &cli.Command{
		Name:  "grants",
		Usage: "list the capability grants of this agent",
		Description: "Lists live grants (--all: revoked and replaced ones too). Secrets are hidden\n" +
			"unless --show-secrets, which adds each grant's ticket.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Usage: "include revoked and replaced grants"},
			&cli.BoolFlag{Name: "show-secrets", Usage: "print each grant's ticket"},
		},
		Action: func(c *cli.Context) error {
			return runGrants(c.Context, envOf(c), c.Bool("all"), c.Bool("show-secrets"))
		},
	}
}

func runGrants(ctx context.Context, e *env, all, showSecrets bool) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	gs, err := caps.Grants(c, all)
	if err != nil {
		return err
	}
	header := []string{"GRANT", "ACCESS", "FUNCTIONS", "ASSIGNEES", "TAG", "REVOKED", "CREATED"}
	if showSecrets {
		header = append(header, "TICKET")
	}
	var rows [][]string
	var objs []any
	now := time.Now()
	for i := range gs {
		gi := &gs[i]
		ticket := ""
		if showSecrets && gi.Access != caps.Unrestricted {
			ticket = caps.EncodeTicket(caps.NewTicket(c.Identity().Public(), gi.Grant))
		}
		j := toGrantJSON(gi, ticket)
		revoked := "false"
		if j.Revoked {
			revoked = "true"
		}
		id, assignees := j.GrantID, strings.Join(j.Assignees, ",")
		if e.io.Mode == output.Human {
			id = short(id)
			var s []string
			for _, a := range j.Assignees {
				s = append(s, short(a))
			}
			assignees = strings.Join(s, ",")
		}
		row := []string{id, j.Access, strings.Join(j.Functions, ","), assignees, j.Tag, revoked, e.io.Time(gi.Time, now)}
		if showSecrets {
			row = append(row, ticket)
		}
		rows = append(rows, row)
		objs = append(objs, j)
	}
	if len(rows) == 0 {
		if all {
			e.io.Empty("no grants")
		} else {
			e.io.Empty("no live grants ('n2n grants --all' shows revoked ones too)")
		}
	}
	return e.io.Table(header, rows, objs)
}
