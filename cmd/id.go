package cmd

import (
	"context"

	"github.com/n2n-dev/n2n/output"
	"github.com/urfave/cli/v2"
)

func idCommand() *cli.Command {
	return &cli.Command{
		Name:  "id",
		Usage: "print this agent's ID",
		Description: "Prints the agent ID (uhCAk…), the Ed25519 public key others use to reach\n" +
			"this agent. With --json: agent_id, peer_id and the daemon's listen addresses.",
		Action: func(c *cli.Context) error {
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
