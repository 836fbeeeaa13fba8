package cmd

import (
	"context"
	"errors"
	"github.com/n2n-dev/n2n/keys"

	"github.com/n2n-dev/n2n/rpc"
	"github.com/urfave/cli/v2"
)

var errSelfNoDaemon = errors.New("no daemon is running to answer for this agent")

type sendOptions struct {
	to      string
	message string // "-" reads stdin
}

func sendCommand() *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "send a message to an agent and wait for its reply",
		ArgsUsage: "AGENT MESSAGE|-",
		Description: "Delivers MESSAGE (or stdin with -, binary-safe, up to 16 MiB) to AGENT over an\n" +
			"end-to-end encrypted session and blocks until the agent's receive function\n" +
			"answers or the message is in its inbox. Prints the reply as is.",
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("send takes AGENT and MESSAGE (or - for stdin)")
			}
			return runSend(c.Context, envOf(c), sendOptions{to: c.Args().Get(0), message: c.Args().Get(1)})
		},
	}
}

func runSend(ctx context.Context, e *env, o sendOptions) error {
	to, err := keys.ParseAgent(o.to)
	if err != nil {
		return err
	}
	payload := []byte(o.message)
	if o.message == "-" {
		if payload, err = readLimited(e.stdin, rpc.MaxPayload); err != nil {
			return err
		}
	}
	s, err := e.connect(ctx, false)
	if err != nil {
		return err
	}
	defer s.done()
	resp, err := e.request(ctx, s, to, &rpc.Request{Kind: rpc.KindSend, Payload: payload})
	if err != nil {
		return err
	}
	return e.printReply(resp)
}
