package cmd

import (
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// Version is set at build time with -ldflags "-X …/cmd.Version=v1.2.3".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version of n2n",
		Action: func(c *cli.Context) error {
			return runVersion(envOf(c))
		},
	}
}

// runVersion prints the version (also for n2n --version).
func runVersion(e *env) error {
	return e.io.Record(map[string]any{"version": version(), "go": runtime.Version()},
		[]string{"n2n", "go"}, []string{version(), runtime.Version()})
}
