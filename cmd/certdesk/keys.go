package main

import (
	"errors"
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
	if len(args) == 0 || args[0] != "new" {
		return errors.New("keys: say `certdesk keys new [--id ID]`")
	}
	fs := flag.NewFlagSet("keys new", flag.ContinueOnError)
	id := fs.String("id", "k"+time.Now().UTC().Format("20060102"), "the key's id (it names the key in every payload)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	fmt.Fprintln(stdout, codec.NewKey(*id))
	return nil
}
