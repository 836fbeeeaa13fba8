package cmd

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// Usage mistakes (an unknown option, a missing required one, an unknown
// subcommand, an argument too many or too few) take one path, whichever
// command they are made on: exit 3, one "n2n: error:" line naming the
// mistake, a hint with the command's usage, nothing on stdout. urfave/cli
// would print "Incorrect Usage" and the whole help on stdout instead, so its
// own help printing is switched off here and prepare checks what it would
// have checked.
func init() {
	cli.HelpFlag = nil                                // --help is n2n's global flag (helpFlag)
	cli.HelpPrinter = func(io.Writer, string, any) {} // help is printed by showHelp only
}

// prepare makes every command of the tree report usage mistakes itself:
// parent is the command path above cmds ("n2n", "n2n chain").
func prepare(parent string, cmds []*cli.Command) {
	for _, c := range cmds {
		c.HelpName = parent + " " + c.Name
		c.HideHelp = true // no urfave help subcommand or flag
		path := c.HelpName
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
			return withHint(flagError(err), exitUsage, usageHint(c))
		}
		required := takeRequired(c)
		arity := parseArity(c.ArgsUsage)
		action := c.Action
		c.Action = func(ctx *cli.Context) error {
			if len(c.Subcommands) > 0 && ctx.Args().Present() && (action == nil || arity.max == 0) {
				return withHint(fmt.Errorf("unknown subcommand %q", strings.TrimPrefix(path, "n2n ")+" "+ctx.Args().First()),
					exitUsage, "its subcommands: "+strings.Join(subcommandNames(c), ", "))
			}
			if action == nil { // "n2n chain": what chain can do
				return showHelp(ctx.App, ctx.App.Writer, strings.Fields(path)[1:])
			}
			for _, name := range required {
				if !ctx.IsSet(name) {
					return withHint(fmt.Errorf("%s needs --%s", strings.TrimPrefix(path, "n2n "), name), exitUsage, usageHint(c))
				}
			}
			if err := arity.check(strings.TrimPrefix(path, "n2n "), ctx.Args().Slice()); err != nil {
				return withHint(err, exitUsage, usageHint(c))
			}
			return action(ctx)
		}
		prepare(path, c.Subcommands)
	}
}

// usageHint is the one-line usage of c, as its help shows it.
func usageHint(c *cli.Command) string {
	u := c.HelpName
	if len(c.VisibleFlags()) > 0 {
		u += " [options]"
	}
	if c.ArgsUsage != "" {
		u += " " + c.ArgsUsage
	}
	return fmt.Sprintf("usage: %s (more: 'n2n help %s')", u, strings.TrimPrefix(c.HelpName, "n2n "))
}

func subcommandNames(c *cli.Command) []string {
	var names []string
	for _, s := range c.Subcommands {
		names = append(names, s.Name)
	}
	return names
}

// takeRequired returns the names of c's required flags and clears their
// Required mark, so that urfave/cli leaves the check (and its help on
// stdout) to prepare; their usage says "(required)" instead.
func takeRequired(c *cli.Command) []string {
	var names []string
	for _, f := range c.Flags {
		rf, ok := f.(cli.RequiredFlag)
		if !ok || !rf.IsRequired() {
			continue
		}
		switch f := f.(type) {
		case *cli.StringFlag:
			f.Required, f.Usage = false, f.Usage+" (required)"
		case *cli.StringSliceFlag:
			f.Required, f.Usage = false, f.Usage+" (required)"
		case *cli.IntFlag:
			f.Required, f.Usage = false, f.Usage+" (required)"
		case *cli.DurationFlag:
			f.Required, f.Usage = false, f.Usage+" (required)"
		default:
			panic(fmt.Sprintf("cmd: required flag of type %T: teach takeRequired about it", f))
		}
		names = append(names, f.Names()[0])
	}
	return names
}

// requiredFlags lists the flags of c that are marked required (before
// prepare takes the marks).
func requiredFlags(c *cli.Command) []string {
	var names []string
	for _, f := range c.Flags {
		if rf, ok := f.(cli.RequiredFlag); ok && rf.IsRequired() {
			names = append(names, f.Names()[0])
		}
	}
	return names
}

// arity is how many positional arguments a command takes; max < 0 is no
// upper bound. words names the required ones (when the usage has one form).
type arity struct {
	min, max int
	words    []string
}

// parseArity reads the argument counts from a command's ArgsUsage, so that
// what help shows is what is checked: WORD is required, [WORDS] optional,
// WORD... repeatable, --flag words are options (not counted), A|B is one
// argument, and ", or " separates alternative forms.
func parseArity(usage string) arity {
	forms := strings.Split(usage, ", or ")
	if len(forms) == 1 {
		return formArity(usage)
	}
	a := arity{min: -1, max: 0}
	for _, form := range forms {
		f := formArity(form)
		if a.min < 0 || f.min < a.min {
			a.min = f.min
		}
		if f.max < 0 || a.max >= 0 && f.max > a.max {
			a.max = f.max
		}
	}
	return a
}

func formArity(form string) arity {
	var a arity
	for _, w := range usageWords(form) {
		switch {
		case strings.HasPrefix(w, "-"):
		case strings.HasPrefix(w, "["):
			inner := formArity(strings.TrimSuffix(strings.TrimPrefix(w, "["), "]"))
			a.max = addMax(a.max, inner.max)
			if strings.HasSuffix(w, "...") {
				a.max = -1
			}
		case strings.HasSuffix(w, "..."):
			a.min++
			a.max = -1
			a.words = append(a.words, strings.TrimSuffix(w, "..."))
		default:
			a.min++
			a.max = addMax(a.max, 1)
			a.words = append(a.words, w)
		}
	}
	return a
}

func addMax(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

// usageWords splits an ArgsUsage form at the spaces outside brackets.
func usageWords(s string) []string {
	var words []string
	depth, start := 0, -1
	for i, r := range s + " " {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		}
		if r == ' ' && depth == 0 {
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return words
}

// check reports a wrong number of arguments for the command at path. (The
// messages never start with "path: ": that is how error layers below cmd
// start, which summary removes.)
func (a arity) check(path string, args []string) error {
	switch {
	case a.max == 0 && len(args) > 0:
		return fmt.Errorf("%s takes no arguments (got %q)", path, args[0])
	case a.max > 0 && len(args) > a.max && len(args[a.max]) > 1 && strings.HasPrefix(args[a.max], "-"):
		return fmt.Errorf("unexpected argument %q: a command's options go before its arguments", args[a.max])
	case a.max > 0 && len(args) > a.max:
		return fmt.Errorf("unexpected argument %q: %s takes %d at most", args[a.max], path, a.max)
	case len(args) < a.min && len(a.words) == a.min:
		return fmt.Errorf("%s needs %s", path, strings.Join(a.words[len(args):], " and "))
	case len(args) < a.min:
		return fmt.Errorf("%s needs more arguments", path)
	}
	return nil
}

// flagErrors rewrites the standard flag package's messages in n2n's words.
var flagErrors = []struct {
	re   *regexp.Regexp
	with func(m []string) string
}{
	{regexp.MustCompile(`^flag provided but not defined: -+(.+)$`), func(m []string) string {
		return "unknown option " + dashes(m[1])
	}},
	{regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for flag -+([^:]+): .*$`), func(m []string) string {
		return fmt.Sprintf("invalid value %q for %s", m[1], dashes(m[2]))
	}},
	{regexp.MustCompile(`^flag needs an argument: -+(.+)$`), func(m []string) string {
		return dashes(m[1]) + " needs a value"
	}},
}

// flagError turns a flag-parsing error into a usage error with a readable
// message.
func flagError(err error) error {
	msg := err.Error()
	for _, f := range flagErrors {
		if m := f.re.FindStringSubmatch(msg); m != nil {
			return errors.New(f.with(m))
		}
	}
	return err
}

func dashes(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}
