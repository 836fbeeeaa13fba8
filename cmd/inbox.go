package cmd

import (
	"context"
	"errors"
	"time"

	"github.com/n2n-dev/n2n/daemon"
	"github.com/n2n-dev/n2n/output"
	"github.com/urfave/cli/v2"
)

func inboxCommand() *cli.Command {
	return &cli.Command{
		Name:  "inbox",
		Usage: "list received messages (those no receive function answered)",
		Description: "Messages are kept in the home, not on the chain, one per line: time, sender,\n" +
			"the message (escaped: \\t, \\n, \\\\, \\xNN …; --json has it exactly). With --follow,\n" +
			"keeps printing messages as the daemon receives them. With --clear, removes the\n" +
			"messages it prints, which makes room in the inbox (serve's --inbox-max-*) and gives\n" +
			"their disk space back.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new messages (needs n2n serve)"},
			&cli.BoolFlag{Name: "clear", Usage: "remove the messages printed"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("follow") && c.Bool("clear") {
				return usagef("--clear removes what the inbox holds: it does not go with --follow")
			}
			return runInbox(c.Context, envOf(c), c.Bool("follow"), c.Bool("clear"))
		},
	}
}

var errFollowNoDaemon = errors.New("inbox --follow needs a running daemon to receive messages")

func runInbox(ctx context.Context, e *env, follow, clear bool) error {
	if follow && e.daemon == nil {
		return withHint(errFollowNoDaemon, exitError, "start it with 'n2n serve --detach'")
	}
	var events <-chan daemon.Event
	if follow { // subscribe before listing, so nothing falls in between
		ch, stop := e.daemon.Events.Subscribe()
		defer stop()
		events = ch
	}
	c, done, err := e.openHome(ctx, !clear)
	if err != nil {
		return err
	}
	box := daemon.HomeInbox(c)
	if e.daemon != nil {
		box = e.daemon.Inbox() // counts what --clear frees against its quotas
	}
	var last int64
	var printed [][]byte
	now := time.Now()
	n := 0
	err = box.List(func(m *daemon.Message) error {
		last = m.Time
		printed = append(printed, m.Key)
		n++
		return e.printMessage(m, now)
	})
	if err == nil && clear && len(printed) > 0 {
		err = box.Remove(printed)
		if errors.Is(err, daemon.ErrNotReclaimed) {
			e.io.Warn("%s", summary(err))
			err = nil
		}
	}
	done()
	if err != nil {
		return err
	}
	if n == 0 && !follow {
		e.io.Empty("no messages")
	}
	if !follow {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			if ev.Kind == "message" && ev.Message.Time > last {
				if err := e.printMessage(ev.Message, time.Now()); err != nil {
					return err
				}
			}
		}
	}
}

// printMessage prints one message on one line: its text escaped
// (output.Row), so that a message is one line whatever it holds.
func (e *env) printMessage(m *daemon.Message, now time.Time) error {
	t := time.UnixMicro(m.Time)
	if e.io.Mode == output.JSON {
		text, enc := output.Bytes(m.Body)
		v := map[string]any{"time": output.TimeText(t), "from": m.From.String(), "message": text}
		if enc != "" {
			v["encoding"] = enc
		}
		return e.io.JSONLine(v)
	}
	from := m.From.String()
	if e.io.Mode == output.Human {
		from = short(from)
	}
	e.io.Row(e.io.Time(t, now), from, string(m.Body))
	return nil
}
