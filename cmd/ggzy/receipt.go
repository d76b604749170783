package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ggzy/ggzy/bidding/sealed"
)

// cmdReceipt checks a bid receipt offline (EB3), and makes or rotates the
// platform's receipt-signing keyring. Neither needs the database.
//
//	ggzy receipt verify FILE --key PUBKEY   PUBKEY: base64 or hex of the published key, or a file holding it
//	ggzy receipt keygen --keyring PATH      add a new current key (mode 0600) and print its public key
func cmdReceipt(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("receipt: want verify or keygen")
	}
	switch args[0] {
	case "verify":
		fs := flag.NewFlagSet("receipt verify", flag.ContinueOnError)
		key := fs.String("key", "", "the platform's published Ed25519 public key (base64 or hex), or a file holding it")
		// FILE may come before or after the flags.
		var file string
		rest := args[1:]
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			file, rest = rest[0], rest[1:]
		}
		if err := fs.Parse(rest); err != nil {
			return usageError(err.Error())
		}
		if file == "" && fs.NArg() == 1 {
			file = fs.Arg(0)
		}
		if file == "" || *key == "" {
			return usageError("receipt verify FILE --key PUBKEY")
		}
		keyText := *key
		if b, err := os.ReadFile(keyText); err == nil {
			keyText = string(b)
		}
		pub, err := sealed.ParsePlatformKey(keyText)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		r, err := sealed.VerifyReceipt(data, pub)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		fmt.Fprintf(stdout, "回执有效 (receipt valid): bid %d, lot %d, version %d, received %s, signed by %s\n", r.BidID, r.LotID, r.Version, r.ReceivedAt, r.KeyID)
		for _, p := range r.Parts {
			fmt.Fprintf(stdout, "  part %d: %d bytes, ciphertext sha256 %s, commitment %s\n", p.Part, p.Size, p.CiphertextSHA256, p.Commitment)
		}
		return nil
	case "keygen":
		fs := flag.NewFlagSet("receipt keygen", flag.ContinueOnError)
		path := fs.String("keyring", "", "the keyring file (created if missing)")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError(err.Error())
		}
		if *path == "" {
			return usageError("receipt keygen --keyring PATH")
		}
		ring, err := sealed.NewKeyringFile(*path, time.Now())
		if err != nil {
			return err
		}
		pk := ring.Published()
		cur := pk[len(pk)-1]
		fmt.Fprintf(stdout, "%s %s\n", cur.ID, cur.PublicKey)
		return nil
	}
	return usageError("receipt: unknown subcommand " + args[0])
}
