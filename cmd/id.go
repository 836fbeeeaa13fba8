package cmd

import (
	"context"

	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/peers"
	"github.com/urfave/cli/v2"
)

func idCommand() *cli.Command {
	return &cli.Command{
		Name:  "id",
		Usage: "print this agent's ID",
		Description: "Prints the agent ID (uhCAk…), the Ed25519 public key others use to reach\n" +
			"this agent. With --json: agent_id, peer_id and the daemon's listen addresses.\n" +
			"With --card: a contact card, one line (n2ncard1…) holding the agent ID, the\n" +
			"daemon's public, announced and relay (circuit) addresses and the bootstrap\n" +
			"nodes'. A friend who runs 'n2n peers add CARD' reaches this agent with no\n" +
			"--bootstrap. Without a daemon the card holds the ID and the bootstrap nodes.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "card", Usage: "print a contact card (n2ncard1…) to hand to others"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("card") {
				return runCard(c.Context, envOf(c))
			}
			return runID(c.Context, envOf(c))
		},
	}
}

func runID(ctx context.Context, e *env) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	pub := c.Identity().Public()
	if e.io.Mode == output.JSON {
		addrs := []string{} // listen addresses: only a running daemon has them
		if e.daemon != nil {
			addrs = e.daemon.Node.Addrs()
		}
		return e.io.JSONLine(map[string]any{"agent_id": pub.String(), "peer_id": pub.PeerID(), "addrs": addrs})
	}
	e.io.Println(pub.String())
	return nil
}

func runCard(ctx context.Context, e *env) error {
	var card peers.Card
	var err error
	if e.daemon != nil {
		card, err = e.daemon.Node.Card()
	} else {
		c, done, oerr := e.openHome(ctx, true)
		if oerr != nil {
			return oerr
		}
		defer done()
		card, err = peers.NewCard(c.Identity().Public(), nil, e.bootstrapOf(c))
	}
	if err != nil {
		return err
	}
	text := peers.EncodeCard(card)
	if e.io.Mode == output.JSON {
		return e.io.JSONLine(map[string]any{"agent_id": card.Agent.String(), "card": text})
	}
	e.io.Println(text)
	return nil
}
