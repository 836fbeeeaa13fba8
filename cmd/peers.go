package cmd

import (
	"context"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/peers"
	"github.com/urfave/cli/v2"
)

func peersCommand() *cli.Command {
	return &cli.Command{
		Name:  "peers",
		Usage: "list the address book, or add an address to it",
		Description: "The address book keeps, per agent, the addresses that worked (and those added\n" +
			"by hand) with an expiry. It is tried before the DHT.",
		Action: func(c *cli.Context) error {
			return runPeersList(c.Context, envOf(c))
		},
		Subcommands: []*cli.Command{{
			Name:      "add",
			Usage:     "remember an address for an agent, or learn a contact card",
			ArgsUsage: "AGENT MULTIADDR, or CARD",
			Description: "With AGENT and MULTIADDR, remembers the address for 30 days. With a contact\n" +
				"card (n2ncard1…, from 'n2n id --card'), remembers the agent's addresses and\n" +
				"keeps the card's bootstrap nodes as this home's: commands and 'n2n serve' use\n" +
				"them when no --bootstrap is given.",
			Action: func(c *cli.Context) error {
				if c.NArg() == 1 && strings.HasPrefix(strings.TrimSpace(c.Args().First()), peers.CardPrefix) {
					return runPeersAddCard(c.Context, envOf(c), c.Args().First())
				}
				if c.NArg() != 2 {
					return usagef("peers add needs AGENT and MULTIADDR, or a CARD (n2ncard1…)")
				}
				return runPeersAdd(c.Context, envOf(c), c.Args().Get(0), c.Args().Get(1))
			},
		}},
	}
}

func runPeersList(ctx context.Context, e *env) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	entries, err := (&peers.AddrBook{Store: c.Side(peers.BookSide)}).List()
	if err != nil {
		return err
	}
	var rows [][]string
	var objs []any
	now := time.Now()
	for _, en := range entries {
		var addrs []string
		for _, a := range en.Addrs {
			addrs = append(addrs, a.String())
		}
		last := ""
		if !en.LastOK.IsZero() {
			last = e.io.Time(en.LastOK, now)
		}
		agent := en.Agent.String()
		if e.io.Mode == output.Human {
			agent = short(agent)
		}
		rows = append(rows, []string{agent, strings.Join(addrs, ","), last, e.io.Time(en.Expires, now)})
		var lastOK any // null: no connection has worked yet
		if !en.LastOK.IsZero() {
			lastOK = output.TimeText(en.LastOK)
		}
		objs = append(objs, map[string]any{"agent_id": en.Agent.String(), "addrs": addrs, "last_ok": lastOK, "expires": output.TimeText(en.Expires)})
	}
	if len(rows) == 0 {
		e.io.Empty("the address book is empty ('n2n peers add' adds an address)")
	}
	return e.io.Table([]string{"AGENT", "ADDRESSES", "LAST OK", "EXPIRES"}, rows, objs)
}

// manualTTL is how long an address added by hand is kept.
const manualTTL = 30 * 24 * time.Hour

func runPeersAdd(ctx context.Context, e *env, agent, addr string) error {
	arg, err := parseAgentArg(agent)
	if err != nil {
		return err
	}
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	to, err := arg.resolve(c)
	if err != nil {
		return err
	}
	other, err := (&peers.AddrBook{Store: c.Side(peers.BookSide)}).AddText(to, addr, manualTTL)
	if err != nil {
		return err
	}
	if other != nil {
		e.io.Warn("%s names another agent (%s); connections there are authenticated as %s, so another agent answering fails", addr, other, to)
	}
	e.io.Confirm("added %s for %s to the address book (kept %d days)", addr, short(to.String()), manualTTL/(24*time.Hour))
	return nil
}

func runPeersAddCard(ctx context.Context, e *env, text string) error {
	card, err := peers.ParseCard(text)
	if err != nil {
		return err
	}
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	return learnCard(c, card)
}

// learnCard keeps what a contact card says: the agent's addresses in the
// address book, its bootstrap nodes as the home's.
func learnCard(c *chain.Chain, card peers.Card) error {
	book := &peers.AddrBook{Store: c.Side(peers.BookSide)}
	own, boot := card.Split()
	if len(own) > 0 && card.Agent != c.Identity().Public() {
		if err := book.Add(card.Agent, own, manualTTL); err != nil {
			return err
		}
	}
	if len(boot) > 0 {
		return book.AddBootstrap(boot)
	}
	return nil
}
