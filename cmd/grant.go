package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/daemon"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/rpc"
	"github.com/urfave/cli/v2"
)

type grantOptions struct {
	access    caps.Access
	assignees []agentArg
	tag       string
	deliver   bool
	functions []string
}

func grantCommand() *cli.Command {
	return &cli.Command{
		Name:      "grant",
		Usage:     "let other agents call functions of this agent",
		ArgsUsage: "FUNCTION...",
		Description: "Commits a capability grant to this agent's chain: --unrestricted (anyone),\n" +
			"--transferable (anyone holding the ticket) or --assigned AGENT (those agents,\n" +
			"holding the ticket). FUNCTION may be * for every function. Prints the grant ID\n" +
			"and, for transferable and assigned grants, the ticket to hand to the grantee —\n" +
			"unless --deliver sends it to each assignee's n2n.receive_claim instead.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "unrestricted", Usage: "anyone may call"},
			&cli.BoolFlag{Name: "transferable", Usage: "anyone who presents the ticket may call"},
			&cli.StringSliceFlag{Name: "assigned", Usage: "only `AGENT` (repeatable), presenting the ticket, may call"},
			&cli.StringFlag{Name: "tag", Usage: "a memo `TEXT`: why the grant was made"},
			&cli.BoolFlag{Name: "deliver", Usage: "send the claim to each assignee now (needs --assigned)"},
		},
		Action: func(c *cli.Context) error {
			o := grantOptions{tag: c.String("tag"), deliver: c.Bool("deliver"), functions: c.Args().Slice()}
			n := 0
			if c.Bool("unrestricted") {
				o.access, n = caps.Unrestricted, n+1
			}
			if c.Bool("transferable") {
				o.access, n = caps.Transferable, n+1
			}
			if c.IsSet("assigned") {
				o.access, n = caps.Assigned, n+1
				for _, a := range c.StringSlice("assigned") {
					arg, err := parseAgentArg(a)
					if err != nil {
						return err
					}
					o.assignees = append(o.assignees, arg)
				}
			}
			switch {
			case n != 1:
				return usagef("give exactly one of --unrestricted, --transferable, --assigned AGENT")
			case o.deliver && o.access != caps.Assigned:
				return usagef("--deliver needs --assigned: it sends the claim to each assignee")
			}
			for _, f := range o.functions {
				if f != caps.AllFunctions && !caps.ValidFunction(f) {
					return usagef("function %q: use lower-case letters, digits and _ (or * for all)", f)
				}
			}
			return runGrant(c.Context, envOf(c), o)
		},
	}
}

func runGrant(ctx context.Context, e *env, o grantOptions) error {
	var h *netHome
	if o.deliver {
		var err error
		if h, err = e.connect(ctx, true); err != nil {
			return err
		}
	} else {
		c, done, err := e.openHome(ctx, false)
		if err != nil {
			return err
		}
		h = &netHome{chain: c, done: done}
	}
	defer h.done()
	var assignees []keys.PublicKey
	for _, a := range o.assignees {
		k, err := a.resolve(h.chain)
		if err != nil {
			return err
		}
		assignees = append(assignees, k)
	}
	r, err := caps.CreateGrant(h.chain, caps.Grant{Tag: o.tag, Access: o.access, Assignees: assignees, Functions: o.functions})
	if err != nil {
		return err
	}
	gi, err := caps.GetGrant(h.chain, r.Hash)
	if err != nil {
		return err
	}
	ticket := ""
	if o.access != caps.Unrestricted {
		ticket = caps.EncodeTicket(caps.NewTicket(h.chain.Identity().Public(), gi.Grant))
	}
	var failed []error
	if o.deliver {
		for _, a := range assignees {
			resp, err := e.request(ctx, h, a, &rpc.Request{Kind: rpc.KindCall, Function: caps.ReceiveClaim, Payload: []byte(ticket)})
			switch {
			case err != nil:
				failed = append(failed, fmt.Errorf("delivering to %s: %w", a, err))
				continue
			case string(resp.Payload) == daemon.ClaimPendingReply:
				e.io.Info("n2n: %s keeps the claim pending until its owner accepts it (n2n claim accept)", a)
				continue
			}
			e.io.Confirm("delivered the claim to %s", a)
		}
		if len(failed) == 0 {
			ticket = "" // delivered: it need not be shown
		}
	}
	if err := e.printGrant(&gi, ticket); err != nil {
		return err
	}
	if len(failed) > 0 {
		return withHint(errors.Join(failed...), 0, "the grant is committed; hand the ticket above to the grantee ('n2n claim add -')")
	}
	return nil
}

// grantJSON is the JSON form of a grant (a contract: jsonFields).
type grantJSON struct {
	GrantID   string   `json:"grant_id"`
	Access    string   `json:"access"`
	Functions []string `json:"functions"`
	Assignees []string `json:"assignees"`
	Tag       string   `json:"tag"`
	Revoked   bool     `json:"revoked"`
	Created   string   `json:"created"` // output.TimeFormat
	Ticket    string   `json:"ticket,omitempty"`
}

func toGrantJSON(gi *caps.GrantInfo, ticket string) grantJSON {
	j := grantJSON{GrantID: gi.ID.ActionString(), Access: string(gi.Access), Functions: gi.Functions,
		Assignees: []string{}, Tag: gi.Tag, Revoked: !gi.Live(), Created: output.TimeText(gi.Time), Ticket: ticket}
	for _, a := range gi.Assignees {
		j.Assignees = append(j.Assignees, a.String())
	}
	return j
}

// printGrant prints one grant as a record (grant's own output).
func (e *env) printGrant(gi *caps.GrantInfo, ticket string) error {
	j := toGrantJSON(gi, ticket)
	labels := []string{"grant", "access", "functions"}
	values := []string{j.GrantID, j.Access, strings.Join(j.Functions, ",")}
	if len(j.Assignees) > 0 {
		labels, values = append(labels, "assignees"), append(values, strings.Join(j.Assignees, ","))
	}
	if j.Tag != "" {
		labels, values = append(labels, "tag"), append(values, j.Tag)
	}
	if ticket != "" {
		labels, values = append(labels, "ticket"), append(values, ticket)
	}
	if e.io.Mode == output.Plain { // the grant ID, then the ticket if any
		line := j.GrantID
		if ticket != "" {
			line += "\t" + ticket
		}
		e.io.Println(line)
		return nil
	}
	return e.io.Record(j, labels, values)
}
