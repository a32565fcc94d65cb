package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/certdesk/certdesk/codec"
)

// runKeys prints a new payload key for CERTDESK_PAYLOAD_KEYS:
//
//	certdesk keys new [--id ID]
//
// To rotate, put the new key first and keep the old ones after it: the
// first encrypts, all decrypt (histories written with an old key still read).
func runKeys(args []string, stdout io.Writer) error {
	fs := newCommand("keys new", "keys new [--id ID]", "Prints a new payload key for CERTDESK_PAYLOAD_KEYS. To rotate, put it first and keep the old keys after it.", stdout)
	id := fs.String("id", "k"+time.Now().UTC().Format("20060102"), "the key's id (it names the key in every payload)")
	switch {
	case len(args) > 0 && isHelp(args[0]):
		fs.printUsage()
		return flag.ErrHelp
	case len(args) == 0 || args[0] != "new":
		return usagef("keys: say `certdesk keys new [--id ID]`")
	}
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	fmt.Fprintln(stdout, codec.NewKey(*id))
	return nil
}
