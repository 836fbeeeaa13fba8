package cmd

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// flagDoc is what the documentation says of one flag.
type flagDoc struct {
	names       []string // "home", "h"
	placeholder string   // DIR, FILE, D…; empty for a switch
	usage       string   // without the backquotes that mark the placeholder
	defaultText string
	env         []string
}

func docOf(f cli.Flag) flagDoc {
	d := flagDoc{names: f.Names()}
	df, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return d
	}
	d.usage, d.env = df.GetUsage(), df.GetEnvVars()
	if i := strings.IndexByte(d.usage, '`'); i >= 0 {
		if j := strings.IndexByte(d.usage[i+1:], '`'); j >= 0 {
			d.placeholder = d.usage[i+1 : i+1+j]
			d.usage = d.usage[:i] + d.placeholder + d.usage[i+2+j:]
		}
	}
	if df.TakesValue() {
		if d.placeholder == "" {
			d.placeholder = "VALUE"
		}
		if v := df.GetValue(); v != "" && v != `""` && v != "[]" {
			d.defaultText = strings.Trim(v, `"`)
		}
	}
	return d
}

// dashed is a flag name as typed.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// ManPage is the man page n2n(1) from the command tree, in the markdown
// that go-md2man reads: every command with its arguments, description and
// options, then ManSections.
func ManPage(app *cli.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%% n2n 1\n\n# NAME\n\nn2n - %s\n\n", mdEscape(app.Usage))
	b.WriteString("# SYNOPSIS\n\n**n2n** \\[*global options*\\] *command* \\[*options*\\] \\[*arguments*\\]\n\n")
	b.WriteString("**n2n help** \\[*command* \\[*subcommand*\\]\\], **n2n** *command* **--help**\n\n")
	b.WriteString("# DESCRIPTION\n\n" + mdParagraphs(app.Description) + "\n")
	b.WriteString("# GLOBAL OPTIONS\n\n")
	for _, f := range app.Flags {
		b.WriteString(flagMD(docOf(f)))
	}
	b.WriteString("# COMMANDS\n\n")
	var walk func(cmds []*cli.Command)
	walk = func(cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			if len(c.Subcommands) == 0 || c.Action != nil {
				commandMD(&b, c)
			}
			walk(c.Subcommands)
		}
	}
	walk(app.Commands)
	for _, s := range ManSections() {
		fmt.Fprintf(&b, "# %s\n\n%s", s.Title, s.Body)
	}
	b.WriteString("# SEE ALSO\n\n**n2n help exit-codes**, **n2n completion** bash\\|zsh\\|fish, the README of the n2n repository\n")
	return b.String()
}

// commandMD writes one command's entry: its synopsis with its positional
// arguments, what it does, and its options.
func commandMD(b *strings.Builder, c *cli.Command) {
	fmt.Fprintf(b, "## %s\n\n", c.HelpName)
	fmt.Fprintf(b, "**%s**", c.HelpName)
	if len(c.VisibleFlags()) > 0 {
		b.WriteString(" \\[*options*\\]")
	}
	if c.ArgsUsage != "" {
		b.WriteString(" " + argsMD(c.ArgsUsage))
	}
	b.WriteString("\n\n" + mdEscape(sentence(c.Usage)) + "\n\n")
	desc := c.Description
	if d, ok := strings.CutSuffix(desc, "\n\n"+serveSections()); ok {
		desc = d + "\n\nHow functions are run, what other agents can make the daemon spend and whose writes it takes: FUNCTION HANDLERS, LIMITS and STRANGERS AND CONSENT below."
	}
	if desc != "" {
		b.WriteString(mdParagraphs(desc) + "\n")
	}
	for _, f := range c.VisibleFlags() {
		b.WriteString(flagMD(docOf(f)))
	}
}

var argWord = regexp.MustCompile(`[A-Z][A-Z_]*[A-Z](\\_[A-Z]+)*`)

// argsMD is an ArgsUsage with its argument names in italics.
func argsMD(usage string) string {
	return argWord.ReplaceAllString(mdEscape(usage), "*$0*")
}

func flagMD(d flagDoc) string {
	var names []string
	for _, n := range d.names {
		s := "**" + mdEscape(dashed(n)) + "**"
		if d.placeholder != "" {
			s += " *" + mdEscape(d.placeholder) + "*"
		}
		names = append(names, s)
	}
	text := mdEscape(d.usage)
	if d.defaultText != "" {
		text += " (default " + mdEscape(d.defaultText) + ")"
	}
	if len(d.env) > 0 {
		text += "; environment " + mdEscape(strings.Join(d.env, ", "))
	}
	return strings.Join(names, ", ") + "\n: " + text + "\n\n"
}

// sentence is a usage line as a sentence: capital first, full stop last.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// mdParagraphs turns help text (lines wrapped by hand, blank lines between
// paragraphs) into markdown paragraphs; indented lines stay lines.
func mdParagraphs(s string) string {
	var b strings.Builder
	for _, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
		lines := strings.Split(p, "\n")
		if strings.HasPrefix(lines[0], "  ") { // a table: one line each
			for _, l := range lines {
				b.WriteString(mdEscape(strings.TrimSpace(l)) + "\n")
				b.WriteString("\n")
			}
			continue
		}
		b.WriteString(mdEscape(strings.Join(lines, " ")) + "\n\n")
	}
	return b.String()
}

// mdEscape escapes what markdown would read as markup.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]<>#|", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
