package cmd

import (
	"context"
	"errors"
	"os"

	"github.com/urfave/cli/v2"
)

var errNoDaemon = errors.New("no daemon is serving this home")

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:  "stop",
		Usage: "stop the daemon of this home",
		Description: "Asks 'n2n serve' to finish the calls in progress, close the home and remove its\n" +
			"socket, and returns once it has.",
		Action: func(c *cli.Context) error {
			return runStop(c.Context, envOf(c))
		},
	}
}

func runStop(ctx context.Context, e *env) error {
	if e.daemon == nil {
		return withHint(errNoDaemon, exitError, "nothing to stop")
	}
	e.stopDaemon()
	e.io.Confirm("stopped the daemon of %s (pid %d)", e.home, os.Getpid())
	return nil
}
