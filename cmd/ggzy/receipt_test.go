package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ggzy/ggzy/bidding/sealed"
)

// A bidder checks its receipt offline with the published key; an edited
// receipt or another key fails with exit status 1 (EB3).
func TestReceiptVerifyCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ring := filepath.Join(dir, "receipt-keys.json")
	out, err := runCmd(t, "", "receipt", "keygen", "--keyring", ring)
	if err != nil {
		t.Fatalf("keygen: %v", err)
	}
	id, pubB64, ok := strings.Cut(strings.TrimSpace(out), " ")
	if !ok || !strings.HasPrefix(id, "ed25519:") {
		t.Fatalf("keygen printed %q", out)
	}
	if fi, err := os.Stat(ring); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring file: %v %v", fi, err)
	}
	k, err := sealed.LoadKeyring(ring)
	if err != nil {
		t.Fatal(err)
	}
	_, data, err := k.Sign(sealed.Receipt{BidID: 9, LotID: 3, Version: 1, KeyFingerprint: strings.Repeat("1", 64),
		ReceivedAt: sealed.ReceiptTime(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)),
		Parts:      []sealed.ReceiptPart{{Part: 0, CiphertextSHA256: strings.Repeat("2", 64), Commitment: strings.Repeat("3", 64), Size: 77}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "receipt.json")
	os.WriteFile(file, data, 0o644)
	keyFile := filepath.Join(dir, "platform.pub")
	os.WriteFile(keyFile, []byte(pubB64+"\n"), 0o644)

	for _, args := range [][]string{{"receipt", "verify", file, "--key", pubB64}, {"receipt", "verify", "--key", keyFile, file}} {
		out, err := runCmd(t, "", args...)
		if err != nil || !strings.Contains(out, "回执有效") || !strings.Contains(out, "bid 9, lot 3") || !strings.Contains(out, strings.Repeat("3", 64)) {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	edited := filepath.Join(dir, "edited.json")
	os.WriteFile(edited, []byte(strings.Replace(string(data), `"lot_id": 3`, `"lot_id": 4`, 1)), 0o644)
	if _, err := runCmd(t, "", "receipt", "verify", edited, "--key", pubB64); !errors.Is(err, sealed.ErrSignature) {
		t.Errorf("edited receipt: %v, want ErrSignature", err)
	}
	// After a rotation the new key is current; the old receipt names the old key.
	out, err = runCmd(t, "", "receipt", "keygen", "--keyring", ring)
	if err != nil {
		t.Fatal(err)
	}
	_, newPub, _ := strings.Cut(strings.TrimSpace(out), " ")
	if _, err := runCmd(t, "", "receipt", "verify", file, "--key", newPub); !errors.Is(err, sealed.ErrSignature) {
		t.Errorf("another key: %v, want ErrSignature", err)
	}
	var ue usageError
	if _, err := runCmd(t, "", "receipt", "verify", file); !errors.As(err, &ue) {
		t.Errorf("no --key: %v, want a usage error", err)
	}
}
