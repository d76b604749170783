package sealed

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

// A receipt that verifies re-encodes to the bytes that were signed; no
// input panics the parser.
func FuzzVerifyReceipt(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, data, err := SignReceipt(priv, Receipt{BidID: 1, LotID: 2, Version: 1, KeyFingerprint: strings.Repeat("a", 64),
		ReceivedAt: ReceiptTime(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)),
		Parts:      []ReceiptPart{{Part: 0, CiphertextSHA256: strings.Repeat("b", 64), Commitment: strings.Repeat("c", 64), Size: 9}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"receipt":{},"signature":""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := VerifyReceipt(data, pub)
		if err != nil {
			return
		}
		if r.Type != ReceiptType || r.KeyID != PlatformKeyID(pub) {
			t.Fatalf("verified %+v", r)
		}
	})
}

// Whatever ParseContentKey accepts prints back as itself.
func FuzzParseContentKey(f *testing.F) {
	ck, _ := NewContentKey("lot-1/bid-2")
	f.Add(ck.String())
	f.Add("ck1..")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseContentKey(s)
		if err == nil && k.String() != s {
			t.Fatalf("%q parses to %q", s, k.String())
		}
	})
}
