package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/rpc"
	"github.com/urfave/cli/v2"
	"golang.org/x/sync/semaphore"
)

var errSelfNoDaemon = errors.New("no daemon is running to answer for this agent")

// sendWindow is how many messages of send --lines may wait for their reply
// at once (as many as the callee reads ahead on a session), and
// sendWindowBytes how many bytes of them.
const (
	sendWindow      = 1024
	sendWindowBytes = 8 << 20
)

type sendOptions struct {
	to      string
	message string // "-" reads stdin
	lines   bool   // each line of stdin is a message
}

func sendCommand() *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "send a message to an agent and wait for its reply",
		ArgsUsage: "AGENT MESSAGE|-, or --lines AGENT",
		Description: "Delivers MESSAGE (or stdin with -, binary-safe, up to 16 MiB) to AGENT over an\n" +
			"end-to-end encrypted session and blocks until the agent's receive function\n" +
			"answers or the message is in its inbox. Prints the reply as is.\n\n" +
			"With --lines, each line of stdin is a message of its own; all go over one\n" +
			"session without waiting for each other, and the replies are printed in the\n" +
			"order of the lines. The first message that fails stops the sending: the\n" +
			"replies before it are printed, then the error, which sets the exit status.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "lines", Usage: "send each line of stdin as a message, pipelined"},
		},
		Action: func(c *cli.Context) error {
			o := sendOptions{to: c.Args().Get(0), message: c.Args().Get(1), lines: c.Bool("lines")}
			switch {
			case o.lines && (c.NArg() < 1 || c.NArg() > 2 || c.NArg() == 2 && o.message != "-"):
				return usagef("send --lines takes AGENT (and reads the messages from stdin)")
			case !o.lines && c.NArg() != 2:
				return usagef("send takes AGENT and MESSAGE (or - for stdin)")
			}
			return runSend(c.Context, envOf(c), o)
		},
	}
}

func runSend(ctx context.Context, e *env, o sendOptions) error {
	arg, err := parseAgentArg(o.to)
	if err != nil {
		return err
	}
	var payload []byte
	switch {
	case o.lines:
	case o.message == "-":
		if payload, err = readLimited(e.stdin, "stdin", rpc.MaxPayload); err != nil {
			return err
		}
	default:
		payload = []byte(o.message)
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
	if o.lines {
		return messageRefused(e.sendLines(ctx, h, to))
	}
	resp, err := e.request(ctx, h, to, &rpc.Request{Kind: rpc.KindSend, Payload: payload})
	if err != nil {
		return messageRefused(err)
	}
	return e.printReply(resp)
}

// messageRefused gives a message the callee refused as unauthorized (it
// takes messages from its contacts or no one: serve --accept-messages) the
// hint for messages, not the one for calls.
func messageRefused(err error) error {
	var st *rpc.StatusError
	if errors.As(err, &st) && st.Status == rpc.StatusUnauthorized {
		return withHint(err, 0, "ask its owner to add you as a contact (n2n contacts add); it does not take messages from everyone")
	}
	return err
}

// sendLines sends each line of stdin as a message, up to sendWindow at once
// on the session with `to`, and prints the replies in the order of the
// lines. It stops at the first failure and returns it, after the replies of
// the lines before it, without waiting for more of stdin.
func (e *env) sendLines(ctx context.Context, h *netHome, to keys.PublicKey) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type reply struct {
		resp rpc.Response
		err  error
		size int
	}
	replies := make(chan chan reply, sendWindow) // in the order of the lines
	readErr := make(chan error, 1)
	inFlight := semaphore.NewWeighted(sendWindowBytes) // bytes awaiting their reply
	go func() {
		defer close(replies)
		lines := bufio.NewScanner(e.stdin)
		lines.Buffer(make([]byte, 0, 64<<10), rpc.MaxPayload+1)
		for lines.Scan() {
			r := make(chan reply, 1)
			size := len(lines.Bytes())
			if inFlight.Acquire(ctx, int64(size)) != nil {
				return // the replies stopped: send no more
			}
			select {
			case replies <- r:
			case <-ctx.Done():
				return
			}
			req := &rpc.Request{Kind: rpc.KindSend, Payload: append([]byte(nil), lines.Bytes()...)}
			wait := e.start(ctx, h, to, req) // sent in the order of the lines
			go func() {
				resp, err := wait()
				r <- reply{resp, err, size}
			}()
		}
		switch err := lines.Err(); {
		case errors.Is(err, bufio.ErrTooLong):
			readErr <- usagef("a line is over the %s limit", sizeText(rpc.MaxPayload))
		case err != nil:
			readErr <- fmt.Errorf("reading stdin: %w", err)
		}
	}()

	flush, end := e.io.Buffer()
	defer end()
	for r := range replies {
		if len(replies) == 0 {
			flush() // nothing is ready behind this one: show what is done
		}
		got := <-r
		inFlight.Release(int64(got.size))
		if got.err != nil {
			return got.err
		}
		if err := e.printReply(got.resp); err != nil {
			return err
		}
	}
	select {
	case err := <-readErr:
		return err
	default:
		return nil
	}
}
