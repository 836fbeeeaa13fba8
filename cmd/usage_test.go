package cmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// usageCase is one command line that must be refused as a usage mistake.
type usageCase struct {
	what string
	args []string
}

// usageCases derives, from the command tree itself, the mistakes every
// command must refuse: an unknown option; an unknown subcommand where it has
// subcommands; a required option left out; an argument too few and one too
// many. A new command is covered without touching this test.
func usageCases() []usageCase {
	var cases []usageCase
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(append([]string{}, path...), c.Name)
			cases = append(cases, usageCase{"unknown option", append(p, "--no-such-option")})
			cases = append(cases, usageCase{"unknown short option", append(p, "-Q")})
			if len(c.Subcommands) > 0 {
				cases = append(cases, usageCase{"unknown subcommand", append(p, "no-such-subcommand")})
				walk(p, c.Subcommands)
				if c.Action == nil {
					continue
				}
			}
			var given []string // every required option, with a value
			for _, name := range requiredFlags(c) {
				given = append(given, "--"+name+"=x")
			}
			a := parseArity(c.ArgsUsage)
			for _, name := range requiredFlags(c) {
				var without []string
				for _, g := range given {
					if g != "--"+name+"=x" {
						without = append(without, g)
					}
				}
				cases = append(cases, usageCase{"required --" + name + " missing", append(append(p, without...), args(a.min)...)})
			}
			if a.min > 0 {
				cases = append(cases, usageCase{"an argument too few", append(append(p, given...), args(a.min-1)...)})
			}
			if a.max >= 0 {
				cases = append(cases, usageCase{"an argument too many", append(append(p, given...), args(a.max+1)...)})
			}
		}
	}
	walk(nil, commands())
	return cases
}

func args(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, "arg")
	}
	return out
}

// TestUsageMistakes: every usage mistake on every command exits 3 with
// exactly one "n2n: error:" line in lower case (and at most a hint after
// it), and prints nothing on stdout.
func TestUsageMistakes(t *testing.T) {
	home := t.TempDir()
	cases := usageCases()
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.what] = true
		line := append([]string{"n2n", "--home", home}, c.args...)
		var stdout, stderr bytes.Buffer
		code := Run(line, strings.NewReader(""), &stdout, &stderr)
		name := strings.Join(c.args, " ")
		if code != exitUsage {
			t.Errorf("%s (%s): exit %d, want %d\n%s", name, c.what, code, exitUsage, stderr.String())
		}
		if stdout.Len() > 0 {
			t.Errorf("%s (%s): stdout %q, want nothing", name, c.what, stdout.String())
		}
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		msg, ok := strings.CutPrefix(lines[0], "n2n: error: ")
		switch {
		case !ok || len(lines) > 2 || len(lines) == 2 && !strings.HasPrefix(lines[1], "n2n: hint: "):
			t.Errorf("%s (%s): stderr is not one error line and a hint:\n%s", name, c.what, stderr.String())
		case msg == "" || strings.ToLower(msg[:1]) != msg[:1]:
			t.Errorf("%s (%s): error does not start in lower case: %q", name, c.what, msg)
		}
	}
	for _, what := range []string{"unknown option", "unknown subcommand", "required --type missing", "an argument too few", "an argument too many"} {
		if !seen[what] {
			t.Errorf("no command gave a case of %q: is the tree walked?", what)
		}
	}
	if len(cases) < 60 {
		t.Errorf("only %d cases", len(cases))
	}
}

// TestHelpOfEveryCommand: "n2n help PATH" and "n2n PATH --help" print the
// help of that very command on stdout and exit 0.
func TestHelpOfEveryCommand(t *testing.T) {
	home := t.TempDir()
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(append([]string{}, path...), c.Name)
			want := "n2n " + strings.Join(p, " ") + " - " + c.Usage
			for _, line := range [][]string{append([]string{"help"}, p...), append(p, "--help"), append(p, "-h")} {
				var stdout, stderr bytes.Buffer
				code := Run(append([]string{"n2n", "--home", home}, line...), strings.NewReader(""), &stdout, &stderr)
				if code != 0 || stderr.Len() > 0 || !strings.Contains(stdout.String(), want) {
					t.Errorf("n2n %s: exit %d, stderr %q, stdout lacks %q:\n%s", strings.Join(line, " "), code, stderr.String(), want, stdout.String())
				}
			}
			walk(p, c.Subcommands)
		}
	}
	walk(nil, commands())
}

func TestParseArity(t *testing.T) {
	for _, c := range []struct {
		usage    string
		min, max int
	}{
		{"", 0, 0},
		{"HASH", 1, 1},
		{"DATA|-", 1, 1},
		{"AGENT MULTIADDR", 2, 2},
		{"FUNCTION [PAYLOAD|-]", 1, 2},
		{"FUNCTION...", 1, -1},
		{"[COMMAND [SUBCOMMAND]]", 0, 2},
		{"[FILE...]", 0, -1},
		{"AGENT MESSAGE|-, or --lines AGENT", 1, 2},
	} {
		if a := parseArity(c.usage); a.min != c.min || a.max != c.max {
			t.Errorf("parseArity(%q) = %d..%d, want %d..%d", c.usage, a.min, a.max, c.min, c.max)
		}
	}
}
