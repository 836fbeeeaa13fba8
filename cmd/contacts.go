package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/peers"
	"github.com/urfave/cli/v2"
)

func contactsCommand() *cli.Command {
	return &cli.Command{
		Name:  "contacts",
		Usage: "list your names for other agents, or add or remove one",
		Description: "A contact is a name you give an agent (a petname): wherever a command takes an\n" +
			"AGENT, the name will do (n2n send bob hi). Contacts are kept in the home, not on\n" +
			"the chain. serve --accept-messages contacts and --accept-claims contacts take\n" +
			"writes from contacts only; under the defaults, contacts' claims are not counted\n" +
			"against the hourly limit for strangers.",
		Action: func(c *cli.Context) error {
			return runContactsList(c.Context, envOf(c))
		},
		Subcommands: []*cli.Command{{
			Name:      "add",
			Usage:     "give an agent a name",
			ArgsUsage: "NAME AGENT|CARD",
			Description: "NAME is a lower-case letter, then up to 31 of a-z, 0-9, _ and -; it may not\n" +
				"be self, nor begin as an ID does (uhc…). A name names one agent and an agent\n" +
				"has one name: to rename, remove the contact first. Given a contact card\n" +
				"(n2ncard1…, from 'n2n id --card'), it names the card's agent and learns the\n" +
				"card as 'n2n peers add CARD' does.",
			Action: func(c *cli.Context) error {
				return runContactsAdd(c.Context, envOf(c), c.Args().Get(0), c.Args().Get(1))
			},
		}, {
			Name:      "rm",
			Usage:     "forget a contact",
			ArgsUsage: "NAME",
			Action: func(c *cli.Context) error {
				return runContactsRemove(c.Context, envOf(c), c.Args().First())
			},
		}},
	}
}

func contactsOf(c *chain.Chain) peers.Contacts {
	return peers.Contacts{Store: c.Side(peers.ContactsSide)}
}

func runContactsList(ctx context.Context, e *env) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	list, err := contactsOf(c).List()
	if err != nil {
		return err
	}
	var rows [][]string
	var objs []any
	now := time.Now()
	for _, k := range list {
		// The whole ID, also on a terminal (where the table still fits the
		// width): what a name stands for is what this list is for.
		rows = append(rows, []string{k.Name, k.Agent.String(), e.io.Time(k.Added, now)})
		objs = append(objs, map[string]any{"name": k.Name, "agent_id": k.Agent.String(), "added": output.TimeText(k.Added)})
	}
	if len(rows) == 0 {
		e.io.Empty("no contacts ('n2n contacts add NAME AGENT' names an agent)")
	}
	return e.io.Table([]string{"NAME", "AGENT", "ADDED"}, rows, objs)
}

func runContactsAdd(ctx context.Context, e *env, name, agent string) error {
	if err := peers.ValidName(name); err != nil {
		return err
	}
	var card *peers.Card
	var arg agentArg
	var err error
	if strings.HasPrefix(strings.TrimSpace(agent), peers.CardPrefix) {
		k, err := peers.ParseCard(agent)
		if err != nil {
			return err
		}
		card, arg = &k, agentArg{text: agent, key: k.Agent}
	} else if arg, err = parseAgentArg(agent); err != nil {
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
	if to == c.Identity().Public() {
		return usagef("that is this agent's own ID: it needs no name (call --to self)")
	}
	if err := contactsOf(c).Add(name, to, time.Now()); err != nil {
		return err
	}
	if card != nil {
		if err := learnCard(c, *card); err != nil {
			return err
		}
	}
	e.io.Confirm("added the contact %s: %s", name, to)
	return nil
}

func runContactsRemove(ctx context.Context, e *env, name string) error {
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return err
	}
	defer done()
	k, err := contactsOf(c).Remove(name)
	if err != nil {
		return err
	}
	e.io.Confirm("removed the contact %s (%s)", name, k.Agent)
	return nil
}

// agentArg is an AGENT argument, the one way every command reads it: an
// agent ID (uhCAk…) or peer ID (12D3KooW…), or the name of a contact. A name
// is never an ID (peers.ValidName), so the two cannot be confused. An ID is
// parsed at once, so that a malformed one is refused before anything is
// opened; a name is looked up in the home (resolve).
type agentArg struct {
	text string
	key  keys.PublicKey
	name bool
}

func parseAgentArg(text string) (agentArg, error) {
	if peers.ValidName(text) == nil {
		return agentArg{text: text, name: true}, nil
	}
	k, err := keys.ParseAgent(text)
	return agentArg{text: text, key: k}, err
}

// resolve is the agent a names, looking names up in the contacts of c.
func (a agentArg) resolve(c *chain.Chain) (keys.PublicKey, error) {
	if !a.name {
		return a.key, nil
	}
	k, ok, err := contactsOf(c).Lookup(a.text)
	if err != nil {
		return keys.PublicKey{}, err
	}
	if !ok {
		return keys.PublicKey{}, fmt.Errorf("%s is %w (nor an agent ID)", a.text, peers.ErrNoContact)
	}
	return k.Agent, nil
}

// contactError is the exit status and hint of a contact error, for classify.
func contactError(err error) (code int, hint string, ok bool) {
	switch {
	case errors.Is(err, peers.ErrNoContact):
		return exitNotFound, "'n2n contacts' lists the names; 'n2n contacts add NAME AGENT' adds one", true
	case errors.Is(err, peers.ErrNameTaken):
		return exitUsage, "names are unique: choose another, or 'n2n contacts rm' the one there", true
	case errors.Is(err, peers.ErrKnownContact):
		return exitUsage, "an agent has one name: 'n2n contacts rm' it first to rename it", true
	case errors.Is(err, peers.ErrBadName):
		return exitUsage, "", true
	}
	return 0, "", false
}
