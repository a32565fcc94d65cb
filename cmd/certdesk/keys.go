package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/certdesk/certdesk/codec"
)

// runKeys prints a new payload key for CERTDESK_PAYLOAD_KEYS, or seals
// people's own keys again with the current one:
//
//	certdesk keys new [--id ID]
//	certdesk keys reseal
//
// To rotate, put the new key first and keep the old ones after it: the
// first encrypts, all decrypt (histories written with an old key still read).
func runKeys(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "reseal" {
		return runReseal(ctx, args[1:], stdout)
	}
	fs := newCommand("keys new", "keys new [--id ID]", "Prints a new payload key for CERTDESK_PAYLOAD_KEYS. To rotate, put it first and keep the old keys after it; then `certdesk keys reseal`.", stdout)
	id := fs.String("id", "k"+time.Now().UTC().Format("20060102"), "the key's id (it names the key in every payload)")
	switch {
	case len(args) > 0 && isHelp(args[0]):
		fs.printUsage()
		return flag.ErrHelp
	case len(args) == 0 || args[0] != "new":
		return usagef("keys: say `certdesk keys new [--id ID]` or `certdesk keys reseal`")
	}
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	fmt.Fprintln(stdout, codec.NewKey(*id))
	return nil
}

// runReseal seals every person's own key (codec/subject.go) with the
// current payload key, after a rotation.
func runReseal(ctx context.Context, args []string, stdout io.Writer) error {
	if err := newCommand("keys reseal", "keys reseal", "Seals every person's own key again with the current (first) payload key of CERTDESK_PAYLOAD_KEYS, after a rotation (CERTDESK_DATABASE_URL). An older payload key retires only when no history it encrypted is kept any more (the namespace's retention).", stdout).parse(args); err != nil {
		return err
	}
	cfg, err := databaseOnly()
	if err != nil {
		return err
	}
	cd, err := codec.Parse(cfg.PayloadKeys)
	if err != nil {
		return fmt.Errorf("CERTDESK_PAYLOAD_KEYS: %w", err)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	current := cd.KeyIDs()[0]
	n, err := st.ResealSubjectKeys(ctx, current, cd.Reseal)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "resealed %d keys with payload key %s\n", n, current)
	return nil
}
