package cmd

import (
	"context"
	"strings"

	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"

	"github.com/urfave/cli/v2"
)

func resolveCommand() *cli.Command {
	return &cli.Command{
		Name:      "resolve",
		Usage:     "find an agent's addresses and say which step found them",
		ArgsUsage: "AGENT",
		Description: "Tries, in order, a live connection of the daemon, the address book and the\n" +
			"DHT (the agent's signed record and FindPeer), stopping at the first that\n" +
			"connects. Prints the addresses, the step (connection, address book or dht) and\n" +
			"the path of the connection: direct, or relayed (with the relay's peer ID).",
		Action: func(c *cli.Context) error {
			return runResolve(c.Context, envOf(c), c.Args().First())
		},
	}
}

func runResolve(ctx context.Context, e *env, agent string) error {
	arg, err := parseAgentArg(agent)
	if err != nil {
		return err
	}
	h, err := e.connect(ctx, false)
	if err != nil {
		return err
	}
	defer h.done()
	to, err := arg.resolve(h.chain)
	if err != nil {
		return err
	}
	// Bounded like the resolution before a request (rpc.Client).
	rctx, cancel := context.WithTimeout(ctx, e.dialTimeout)
	defer cancel()
	end := e.beginProgress(to)
	addrs, src, err := h.node.Resolve(peers.WithStepFunc(rctx, func(src peers.Source) {
		if src == peers.SourceDHT {
			e.showPhase(rpc.PhaseResolving)
		} else {
			e.showPhase(rpc.PhaseDialling)
		}
	}), to, h.book)
	end()
	if err != nil {
		return agentErr(to, err)
	}
	var list []string
	for _, a := range addrs {
		list = append(list, a.String())
	}
	path, _ := h.node.PathTo(to)
	v := map[string]any{"agent_id": to.String(), "addrs": list, "source": src.String()}
	addPath(v, path)
	return e.io.Record(v,
		[]string{"agent", "found by", "addresses", "path"},
		[]string{to.String(), src.String(), strings.Join(list, " "), e.pathCell(path)})
}
