package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/webhook"
)

// runWebhooks manages the subscribers of domain events:
//
//	certdesk webhooks add --url U --events PATTERN[,PATTERN…]
//	certdesk webhooks list
//	certdesk webhooks rotate-secret ID [--keep-old 24h]
//	certdesk webhooks disable ID
//	certdesk webhooks enable ID
//	certdesk webhooks replay ID --since RFC3339 [--event-type T]
func runWebhooks(ctx context.Context, args []string, stdout io.Writer) error {
	subs := []string{"add", "list", "rotate-secret", "disable", "enable", "replay"}
	sub, cmd, f, args, err := subcommand("webhooks", subs, args, stdout, webhooksCommand)
	if err != nil {
		return err
	}
	// The subscriber's id comes first (`replay ID --since …`) or after
	// the flags.
	id := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := cmd.parseWithArgs(args); err != nil {
		return err
	}
	if id == "" && cmd.NArg() > 0 {
		id = cmd.Arg(0)
	}
	needsID := sub != "add" && sub != "list"
	switch {
	case needsID && id == "":
		return usagef("webhooks %s: name the subscriber: certdesk webhooks %s ID (webhooks list shows them)", sub, sub)
	case !needsID && (id != "" || cmd.NArg() > 0):
		return usagef("webhooks %s takes no arguments, only flags", sub)
	case cmd.NArg() > 1 || (id != "" && cmd.NArg() == 1 && cmd.Arg(0) != id):
		return usagef("webhooks %s: one subscriber at a time", sub)
	}
	cfg, err := storeConfig(f.dataDir)
	if err != nil {
		return err
	}
	var patterns []string
	var since time.Time
	switch sub {
	case "add":
		if err := webhook.CheckURL(f.url, cfg.Mode == config.ModeDev); err != nil {
			return usagef("webhooks add: --url: %v", err)
		}
		if patterns, err = certdesk.ParseEventPatterns(f.events); err != nil {
			return usagef("webhooks add: --events: %s", certdesk.ErrorMessage(err))
		}
	case "replay":
		if since, err = time.Parse(time.RFC3339, f.since); err != nil {
			return usagef("webhooks replay: --since %q: give a time such as 2026-12-01T00:00:00Z", f.since)
		}
		if f.eventType != "" && !isEventType(f.eventType) {
			return usagef("webhooks replay: --event-type %q is not an event type", f.eventType)
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "add":
		secret := webhook.NewSecret()
		s, err := st.CreateSubscriber(ctx, f.url, patterns, secret)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "subscriber %s\nurl        %s\nevents     %s\nsecret     %s\n\nThe secret is shown once: give it to the receiver (it verifies webhook-signature with it).\n",
			s.ID, s.URL, strings.Join(s.Events, ","), secret)
		return nil
	case "list":
		all, err := st.Subscribers(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tURL\tEVENTS\tSTATUS\tBACKLOG\tFAILED\tLAST SUCCESS\tFAILURES IN A ROW")
		for _, s := range all {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%d\n", s.ID, s.URL, strings.Join(s.Events, ","), subscriberStatus(s), s.Backlog, s.Failed,
				stampTime(s.LastSuccessAt), s.ConsecutiveFailures)
		}
		return w.Flush()
	case "rotate-secret":
		secret := webhook.NewSecret()
		if err := st.RotateSecret(ctx, id, secret, f.keepOld); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "subscriber %s\nsecret     %s\n\nDeliveries carry a signature with this secret and, until %s, one with the old secret too.\n",
			id, secret, time.Now().Add(f.keepOld).UTC().Format(time.RFC3339))
		return nil
	case "disable", "enable":
		status, reason := store.SubscriberDisabled, store.DisabledByStaff
		if sub == "enable" {
			status = store.SubscriberActive
		}
		if err := st.SetSubscriberStatus(ctx, id, status, reason); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "subscriber %s: %s\n", id, status)
		return nil
	case "replay":
		n, err := st.Replay(ctx, id, since, certdesk.DomainEventType(f.eventType))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "subscriber %s: %d events since %s queued again, in order, each with its own webhook-id\n", id, n, since.UTC().Format(time.RFC3339))
		return nil
	}
	return nil
}

func isEventType(t string) bool {
	return slices.Contains(certdesk.DomainEventTypes, certdesk.DomainEventType(t))
}

func subscriberStatus(s store.Subscriber) string {
	if s.Status == store.SubscriberActive {
		return s.Status
	}
	if s.DisabledReason == store.DisabledGone {
		return "disabled (the receiver answered 410 Gone)"
	}
	return "disabled"
}

type webhooksFlags struct {
	url, events, since, eventType, dataDir string
	keepOld                                time.Duration
}

// webhooksCommand is a webhooks subcommand's flags; nil for an unknown one.
func webhooksCommand(sub string, stdout io.Writer) (*command, *webhooksFlags) {
	var cmd *command
	f := &webhooksFlags{}
	switch sub {
	case "add":
		cmd = newCommand("webhooks add", "webhooks add --url URL --events PATTERN[,PATTERN…] [--data-dir DIR]",
			"Adds a subscriber: it receives every domain event written from now on whose type a pattern takes (a type, group.* or *), signed as Standard Webhooks. Prints its id and its secret (whsec_…), once. The URL is https, never this machine or a link-local address (dev mode may post to itself).", stdout)
		cmd.StringVar(&f.url, "url", "", "where to POST the events (required)")
		cmd.StringVar(&f.events, "events", "", "which events, e.g. 'certification_profile.*,case.ended' or '*' (required)")
	case "list":
		cmd = newCommand("webhooks list", "webhooks list [--data-dir DIR]", "Lists the subscribers and their health: backlog, events given up, last success, failures in a row.", stdout)
	case "rotate-secret":
		cmd = newCommand("webhooks rotate-secret", "webhooks rotate-secret ID [--keep-old 24h] [--data-dir DIR]",
			"Makes a new secret and prints it; deliveries carry signatures with both the new and the old one until --keep-old has passed.", stdout)
		cmd.DurationVar(&f.keepOld, "keep-old", 24*time.Hour, "how long the old secret keeps signing")
	case "disable":
		cmd = newCommand("webhooks disable", "webhooks disable ID [--data-dir DIR]",
			"Stops deliveries to a subscriber. What was queued stays (enable sends it, in order); events written while it is disabled are not queued for it: replay --since sends them.", stdout)
	case "enable":
		cmd = newCommand("webhooks enable", "webhooks enable ID [--data-dir DIR]", "Starts deliveries again: what was queued before the subscriber was disabled goes first; replay --since sends what was written meanwhile.", stdout)
	case "replay":
		cmd = newCommand("webhooks replay", "webhooks replay ID --since RFC3339 [--event-type TYPE] [--data-dir DIR]",
			"Sends again every event since a time (of one type) that the subscriber takes, delivered or not, in order, with their own webhook-ids.", stdout)
		cmd.StringVar(&f.since, "since", "", "the oldest event's time, e.g. 2026-12-01T00:00:00Z (required)")
		cmd.StringVar(&f.eventType, "event-type", "", "only events of this type")
	default:
		return nil, nil
	}
	cmd.StringVar(&f.dataDir, "data-dir", "", "use the store of `certdesk dev` in this folder")
	return cmd, f
}
