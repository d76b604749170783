package sealed

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeyFile(t *testing.T) {
	key, file := bidKey(t)
	got, err := ReadKeyFile(file, "正确的口令 correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Private.Equal(key.Private) || got.Fingerprint != key.Fingerprint || !got.Created.Equal(key.Created) {
		t.Fatalf("read back %+v, want %+v", got, key)
	}
	// An envelope sealed to this key does not unwrap with another.
	ck, _ := NewContentKey("lot-1/bid-1")
	env, _ := seal(t, key.Public, ck, []byte("报价"), MinChunkSize)
	h, _ := ReadHeader(bytes.NewReader(env))
	other, _ := ecdh.P256().GenerateKey(rand.Reader)
	if _, err := UnwrapKey(h, other); !errors.Is(err, ErrWrongKey) {
		t.Errorf("unwrap with another key: %v", err)
	}
	if _, err := ReadKeyFile(file, "wrong"); !errors.Is(err, ErrPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	var kf map[string]any
	json.Unmarshal(file, &kf)
	kf["kdf"].(map[string]any)["iterations"] = 1000
	weak, _ := json.Marshal(kf)
	if _, err := ReadKeyFile(weak, "正确的口令 correct horse"); !errors.Is(err, ErrKeyFile) {
		t.Errorf("1000 iterations: %v", err)
	}
	// A fingerprint that is not the public key's: refused.
	json.Unmarshal(file, &kf)
	kf["fingerprint"] = strings.Repeat("0", 64)
	swapped, _ := json.Marshal(kf)
	if _, err := ReadKeyFile(swapped, "正确的口令 correct horse"); !errors.Is(err, ErrKeyFile) {
		t.Errorf("swapped fingerprint: %v", err)
	}
}

func TestReceipt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "receipt-keys.json")
	ring, err := NewKeyringFile(path, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	part := ReceiptPart{Part: 1, CiphertextSHA256: strings.Repeat("ab", 32), Commitment: strings.Repeat("cd", 32), Size: 1234}
	r := Receipt{BidID: 42, LotID: 7, Version: 2, KeyFingerprint: strings.Repeat("ef", 32), ReceivedAt: ReceiptTime(time.Date(2026, 12, 2, 9, 30, 0, 123456000, time.UTC)), Parts: []ReceiptPart{part}}
	_, data, err := ring.Sign(r)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePlatformKey(ring.Published()[0].PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := VerifyReceipt(data, pub)
	if err != nil {
		t.Fatal(err)
	}
	if got.BidID != 42 || got.ReceivedAt != "2026-12-02T09:30:00.123456Z" || got.Parts[0] != part {
		t.Fatalf("verified %+v", got)
	}
	canon, _ := got.Canonical()
	want := `{"bid_id":42,"key_fingerprint":"` + strings.Repeat("ef", 32) + `","key_id":"` + PlatformKeyID(pub) +
		`","lot_id":7,"parts":[{"ciphertext_sha256":"` + strings.Repeat("ab", 32) + `","commitment":"` + strings.Repeat("cd", 32) +
		`","part":1,"size":1234}],"received_at":"2026-12-02T09:30:00.123456Z","type":"ggzy-bid-receipt/v1","version":2}`
	if string(canon) != want {
		t.Errorf("canonical form\n%s\nwant\n%s", canon, want)
	}
	// Reformatting the file keeps it valid; changing any value does not.
	var v any
	json.Unmarshal(data, &v)
	compact, _ := json.Marshal(v)
	if _, err := VerifyReceipt(compact, pub); err != nil {
		t.Errorf("reformatted: %v", err)
	}
	for _, edit := range [][2]string{{`"version": 2`, `"version": 3`}, {`"bid_id": 42`, `"bid_id": 43`}, {"09:30:00.123456Z", "09:29:00.123456Z"}, {strings.Repeat("cd", 32), strings.Repeat("ce", 32)}} {
		bad := bytes.Replace(data, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(bad, data) {
			t.Fatalf("no %q in %s", edit[0], data)
		}
		if _, err := VerifyReceipt(bad, pub); !errors.Is(err, ErrSignature) {
			t.Errorf("%s → %s: %v, want ErrSignature", edit[0], edit[1], err)
		}
	}
	// Another platform key does not verify it; a rotated keyring still does.
	otherPub, _, _ := ed25519.GenerateKey(nil)
	if _, err := VerifyReceipt(data, otherPub); !errors.Is(err, ErrSignature) {
		t.Errorf("other key: %v", err)
	}
	ring2, err := NewKeyringFile(path, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if pk := ring2.Published(); len(pk) != 2 || pk[0].Current || !pk[1].Current {
		t.Fatalf("published after rotation: %+v", pk)
	}
	if _, err := ring2.Verify(data); err != nil {
		t.Errorf("old receipt after rotation: %v", err)
	}
	loaded, err := LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	_, data2, _ := loaded.Sign(r)
	if _, err := VerifyReceipt(data2, pub); !errors.Is(err, ErrSignature) {
		t.Errorf("new receipt checked against the retired key: %v", err)
	}
}
