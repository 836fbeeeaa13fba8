package cmd

import (
	"context"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "describe the daemon of this home",
		Description: "Prints the agent ID, the daemon's pid, listen addresses, connected agents, the\n" +
			"size of its DHT routing table, and the sessions of other agents it serves now\n" +
			"with the bytes their requests in progress hold. Exits 1 when no daemon is running.",
		Action: func(c *cli.Context) error {
			return runStatus(c.Context, envOf(c))
		},
	}
}

func runStatus(ctx context.Context, e *env) error {
	d := e.daemon
	if d == nil {
		return withHint(errNoDaemon, exitError, "start it with 'n2n serve --detach'")
	}
	connected := []string{}
	for _, a := range d.Node.ConnectedAgents() {
		connected = append(connected, a.String())
	}
	addrs := d.Node.Addrs()
	size := d.Node.RoutingTableSize()
	sessions, held := d.Sessions()
	return e.io.Record(map[string]any{
		"agent_id": d.ID().Public().String(), "pid": os.Getpid(), "addrs": addrs,
		"peers": connected, "dht_peers": size, "sessions": sessions, "request_bytes": held,
	},
		[]string{"agent", "pid", "listening", "connected", "dht peers", "sessions", "request bytes"},
		[]string{d.ID().Public().String(), strconv.Itoa(os.Getpid()), strings.Join(addrs, " "), strings.Join(connected, " "), strconv.Itoa(size), strconv.Itoa(sessions), strconv.Itoa(held)})
}
