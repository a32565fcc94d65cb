package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageError is a mistake on the command line (exit status 2, as for the
// flag package's own errors); any other error is a failure of the work
// (exit status 1).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitStatus is the process's exit status after run.
func exitStatus(err error) int {
	var u usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		return 2
	}
	return 1
}

// command is a command's flags and its usage: a synopsis (what follows
// "certdesk ") and a few words on what it does.
type command struct {
	*flag.FlagSet
	synopsis, about string
	stdout          io.Writer
}

func newCommand(name, synopsis, about string, stdout io.Writer) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package's own messages would go to stderr beside ours: parse
	// returns them instead, and --help prints the usage to stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &command{FlagSet: fs, synopsis: synopsis, about: about, stdout: stdout}
}

// parse reads the flags of a command that takes no arguments.
func (c *command) parse(args []string) error {
	if err := c.parseWithArgs(args); err != nil {
		return err
	}
	if c.NArg() > 0 {
		return usagef("%s takes no arguments, only flags: %q (certdesk %s --help)", c.Name(), c.Args(), c.Name())
	}
	return nil
}

// parseWithArgs reads the flags; --help (-h) prints the usage and returns
// flag.ErrHelp, which run turns into success; a bad flag is a usage error.
func (c *command) parseWithArgs(args []string) error {
	err := c.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.printUsage()
		return flag.ErrHelp
	case err != nil:
		return usagef("%s: %v (certdesk %s --help)", c.Name(), err, c.Name())
	}
	return nil
}

func (c *command) printUsage() {
	fmt.Fprintf(c.stdout, "Usage: certdesk %s\n\n%s\n", c.synopsis, c.about)
	flags := 0
	c.VisitAll(func(*flag.Flag) { flags++ })
	if flags > 0 {
		fmt.Fprintln(c.stdout, "\nFlags:")
		c.SetOutput(c.stdout)
		c.PrintDefaults()
		c.SetOutput(io.Discard)
	}
}

// isHelp reports whether a command's first argument asks for its usage.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// subcommand picks a command's subcommand (its first argument, e.g. staff
// add) and that subcommand's flags: --help prints every subcommand's usage,
// none or an unknown one is a usage error naming them. lookup returns nil
// for an unknown name.
func subcommand[F any](name string, subs, args []string, stdout io.Writer, lookup func(string, io.Writer) (*command, F)) (string, *command, F, []string, error) {
	var none F
	if len(args) == 0 {
		return "", nil, none, nil, usagef("%s: say %s (certdesk %s --help)", name, strings.Join(subs, ", "), name)
	}
	sub := args[0]
	if isHelp(sub) {
		for _, s := range subs {
			cmd, _ := lookup(s, stdout)
			cmd.printUsage()
			fmt.Fprintln(stdout)
		}
		return "", nil, none, nil, flag.ErrHelp
	}
	cmd, f := lookup(sub, stdout)
	if cmd == nil {
		return "", nil, none, nil, usagef("%s: unknown subcommand %q (%s)", name, sub, strings.Join(subs, ", "))
	}
	return sub, cmd, f, args[1:], nil
}
