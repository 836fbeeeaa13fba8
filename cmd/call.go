package cmd

import (
	"context"
	"errors"
	"os"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/rpc"
	"github.com/urfave/cli/v2"
)

type callOptions struct {
	to         string // agent, "self", or empty
	claim      string // claim ID (prefix)
	secretFile string
	function   string
	payload    string // "-" reads stdin
	file       string // the payload is this file's content
}

func callCommand() *cli.Command {
	return &cli.Command{
		Name:      "call",
		Usage:     "call a function of another agent (or your own) and print its reply",
		ArgsUsage: "FUNCTION [PAYLOAD|-]",
		Description: "Calls FUNCTION on the agent named by --to (self for this agent, under the\n" +
			"author grant) or by the grantor of --claim, presenting the claim's secret. With\n" +
			"--to and no --claim, a claim from that agent covering FUNCTION is used if there\n" +
			"is one. --secret-file reads a ticket from a file instead (never from argv).\n" +
			"PAYLOAD goes to the function's stdin as it is written: 'draft.md' is those eight\n" +
			"characters. --file F sends the content of file F instead, - sends stdin, and so\n" +
			"does leaving PAYLOAD out when stdin is not a terminal (up to 16 MiB each). The\n" +
			"function's stdout is printed.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "the callee `AGENT`, or self"},
			&cli.StringFlag{Name: "claim", Usage: "use claim `ID` (a unique prefix will do): its grantor and secret"},
			&cli.StringFlag{Name: "secret-file", Usage: "present the ticket in `FILE`"},
			&cli.StringFlag{Name: "file", Usage: "send the content of `FILE` as the payload"},
		},
		Action: func(c *cli.Context) error {
			o := callOptions{to: c.String("to"), claim: c.String("claim"), secretFile: c.String("secret-file"),
				function: c.Args().Get(0), payload: c.Args().Get(1), file: c.String("file")}
			switch {
			case o.file != "" && c.NArg() > 1:
				return usagef("--file and a PAYLOAD argument both give the payload: choose one")
			case c.NArg() == 1 && o.file == "" && !envOf(c).stdinTTY:
				o.payload = "-" // n2n call … publish_post < draft.md
			}
			if o.to == "" && o.claim == "" && o.secretFile == "" {
				return usagef("say whom to call: --to AGENT, --to self, or --claim ID")
			}
			if o.claim != "" && o.secretFile != "" {
				return usagef("--claim and --secret-file both give a secret: choose one")
			}
			if !caps.ValidFunction(o.function) {
				return usagef("function %q: use lower-case letters, digits and _", o.function)
			}
			return runCall(c.Context, envOf(c), o)
		},
	}
}

var errClaimMismatch = errors.New("--to names another agent than the grantor of the claim")

func runCall(ctx context.Context, e *env, o callOptions) error {
	var arg agentArg
	if o.to != "" && o.to != "self" {
		var err error
		if arg, err = parseAgentArg(o.to); err != nil {
			return err
		}
	}
	var payload []byte
	switch {
	case o.file != "":
		f, err := os.Open(e.path(o.file))
		if err != nil {
			return usagef("--file: %v", err)
		}
		payload, err = readLimited(f, o.file, rpc.MaxPayload)
		f.Close()
		if err != nil {
			return err
		}
	case o.payload == "-":
		var err error
		if payload, err = readLimited(e.stdin, "stdin", rpc.MaxPayload); err != nil {
			return err
		}
	default:
		payload = []byte(o.payload)
	}
	var ticket *caps.Ticket
	if o.secretFile != "" {
		b, err := os.ReadFile(e.path(o.secretFile))
		if err != nil {
			return usagef("--secret-file: %v", err)
		}
		t, err := caps.ParseTicket(string(b))
		clear(b)
		if err != nil {
			return err
		}
		ticket = &t
	}
	h, err := e.connect(ctx, false)
	if err != nil {
		return err
	}
	defer h.done()

	self := h.chain.Identity().Public()
	var to keys.PublicKey
	switch {
	case o.to == "self":
		to = self
	case o.to != "":
		if to, err = arg.resolve(h.chain); err != nil {
			return err
		}
	}
	var secret []byte
	switch {
	case o.claim != "":
		ci, err := caps.LookupClaim(h.chain, o.claim)
		if err != nil {
			return err
		}
		if o.to != "" && to != ci.Grantor {
			return withHint(errClaimMismatch, exitUsage, "leave out --to: the claim names the agent")
		}
		to, secret = ci.Grantor, ci.Secret
	case ticket != nil:
		if o.to != "" && to != ticket.Grantor {
			return withHint(errClaimMismatch, exitUsage, "leave out --to: the ticket names the agent")
		}
		to, secret = ticket.Grantor, ticket.Secret
	case to != self:
		ci, ok, err := caps.FindClaim(h.chain, to, o.function)
		if err != nil {
			return err
		}
		if ok {
			secret = ci.Secret
		}
	}
	resp, err := e.request(ctx, h, to, &rpc.Request{Kind: rpc.KindCall, Function: o.function, Payload: payload, Secret: secret})
	clear(secret)
	if err != nil {
		return err
	}
	return e.printReply(resp)
}
