package cmd

import (
	"strconv"

	"github.com/urfave/cli/v2"
)

func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "show help for a command, or the exit statuses with 'help exit-codes'",
		ArgsUsage: "[COMMAND | exit-codes]",
		Action: func(c *cli.Context) error {
			switch {
			case c.Args().First() == "exit-codes":
				return runHelpExitCodes(envOf(c))
			case c.Args().Present():
				if c.App.Command(c.Args().First()) == nil {
					return usagef("no help for %q: not a command", c.Args().First())
				}
				return cli.ShowCommandHelp(c.Lineage()[1], c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
}

func runHelpExitCodes(e *env) error {
	var rows [][]string
	var objs []any
	for _, x := range exitCodeTable {
		rows = append(rows, []string{strconv.Itoa(x.code), x.meaning})
		objs = append(objs, map[string]any{"code": x.code, "meaning": x.meaning})
	}
	return e.io.Table([]string{"CODE", "MEANING"}, rows, objs)
}
