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
		Description: "Prints the agent ID, the daemon's pid, the addresses it advertises (circuit\n" +
			"addresses through relays included), the connected agents, the size of its DHT\n" +
			"routing table, the sessions of other agents it serves now with the bytes their\n" +
			"requests in progress hold, the path to each connected agent (direct, or relayed\n" +
			"with the relay's peer ID) and whether it runs as a public node. Exits 1 when no\n" +
			"daemon is running.",
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
	connected, paths, conns := []string{}, []string{}, []map[string]any{}
	for _, a := range d.Node.ConnectedAgents() {
		path, _ := d.Node.PathTo(a)
		c := map[string]any{"agent_id": a.String()}
		addPath(c, path)
		connected, paths, conns = append(connected, a.String()), append(paths, e.pathCell(path)), append(conns, c)
	}
	addrs := d.Node.Addrs()
	size := d.Node.RoutingTableSize()
	sessions, held := d.Sessions()
	return e.io.Record(map[string]any{
		"agent_id": d.ID().Public().String(), "pid": os.Getpid(), "addrs": addrs,
		"peers": connected, "dht_peers": size, "sessions": sessions, "request_bytes": held,
		"connections": conns, "public": d.Node.Public(),
	},
		[]string{"agent", "pid", "listening", "connected", "dht peers", "sessions", "request bytes", "paths", "public"},
		[]string{d.ID().Public().String(), strconv.Itoa(os.Getpid()), strings.Join(addrs, " "), strings.Join(connected, " "), strconv.Itoa(size),
			strconv.Itoa(sessions), strconv.Itoa(held), strings.Join(paths, " "), strconv.FormatBool(d.Node.Public())})
}
