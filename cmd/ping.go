package cmd

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/rpc"
	"github.com/urfave/cli/v2"
)

func pingCommand() *cli.Command {
	return &cli.Command{
		Name:      "ping",
		Usage:     "measure round trips to an agent",
		ArgsUsage: "AGENT",
		Description: "Connects to AGENT and sends --count pings, printing the round-trip time of\n" +
			"each, the resolution step that connected (connection, address book or dht) and\n" +
			"the path: direct, or relayed (with the relay's peer ID).",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Value: 3, Usage: "make `N` round trips"},
		},
		Action: func(c *cli.Context) error {
			if c.Int("count") < 1 {
				return usagef("--count must be at least 1")
			}
			return runPing(c.Context, envOf(c), c.Args().First(), c.Int("count"))
		},
	}
}

func runPing(ctx context.Context, e *env, agent string, count int) error {
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
	for i := 1; i <= count; i++ {
		start := time.Now()
		end := e.beginProgress(to)
		call := h.client.Go(ctx, to, &rpc.Request{Kind: rpc.KindPing})
		resp, src, err := call.Wait()
		end()
		if err == nil {
			err = resp.Err()
		}
		if err != nil {
			return agentErr(to, err)
		}
		rtt := time.Since(start)
		ms := float64(rtt.Microseconds()) / 1000
		path := call.Path()
		switch e.io.Mode {
		case output.JSON:
			v := map[string]any{"agent_id": to.String(), "seq": i, "rtt_ms": ms, "source": src.String()}
			addPath(v, path)
			err = e.io.JSONLine(v)
		case output.Plain:
			e.io.Println(strconv.Itoa(i) + "\t" + fmt.Sprintf("%.3fms", ms) + "\t" + src.String() + "\t" + e.pathCell(path))
		default:
			e.io.Println(fmt.Sprintf("%d  %s  %s", i, e.io.Bold(fmt.Sprintf("%.3f ms", ms)), e.io.Faint("via "+src.String()+", "+pathText(path))))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
