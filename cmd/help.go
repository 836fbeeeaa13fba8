package cmd

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "show help for a command, or the exit statuses with 'help exit-codes'",
		ArgsUsage: "[COMMAND [SUBCOMMAND]]",
		Description: "Prints the help of n2n, of a command (n2n help call) or of a subcommand\n" +
			"(n2n help chain log); --help after any command does the same. 'n2n help\n" +
			"exit-codes' prints the exit statuses scripts can rely on.",
		Action: func(c *cli.Context) error {
			if c.NArg() == 1 && c.Args().First() == "exit-codes" {
				return runHelpExitCodes(envOf(c))
			}
			return showHelp(c.App, c.App.Writer, c.Args().Slice())
		},
	}
}

// showHelp prints the help of the command at path (of n2n itself for an
// empty path) on w.
func showHelp(app *cli.App, w io.Writer, path []string) error {
	if len(path) == 0 {
		cli.HelpPrinterCustom(w, cli.AppHelpTemplate, app, nil)
		return nil
	}
	c, err := findCommand(app, path)
	if err != nil {
		return err
	}
	templ := cli.CommandHelpTemplate
	if len(c.Subcommands) > 0 {
		templ = cli.SubcommandHelpTemplate
	}
	cli.HelpPrinterCustom(w, templ, c, nil)
	return nil
}

// findCommand finds the command at path ("chain", "log").
func findCommand(app *cli.App, path []string) (*cli.Command, error) {
	cmds := app.Commands
	var c *cli.Command
	for _, name := range path {
		c = nil
		for _, x := range cmds {
			if x.HasName(name) {
				c = x
			}
		}
		if c == nil {
			return nil, withHint(fmt.Errorf("no help for %q: not a command", strings.Join(path, " ")), exitUsage,
				"'n2n help' lists the commands")
		}
		cmds = c.Subcommands
	}
	return c, nil
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
