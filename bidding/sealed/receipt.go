package sealed

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode"
)

// ReceiptType names the receipt format.
const ReceiptType = "ggzy-bid-receipt/v1"

// Receipt is the confirmation (确认回执) of a received bid (EB3). Its
// fields are declared in the order of their JSON names, all ASCII strings
// and integers, so encoding/json's output (HTML escaping off) is its RFC
// 8785 canonical form: the bytes that are signed.
type Receipt struct {
	BidID          int64         `json:"bid_id"`
	KeyFingerprint string        `json:"key_fingerprint"` // the bidder's bid key
	KeyID          string        `json:"key_id"`          // the platform key that signs
	LotID          int64         `json:"lot_id"`
	Parts          []ReceiptPart `json:"parts"`
	ReceivedAt     string        `json:"received_at"` // ReceiptTime of the database clock
	Type           string        `json:"type"`
	Version        int           `json:"version"`
}

// ReceiptPart is one sealed part of the bid.
type ReceiptPart struct {
	CiphertextSHA256 string `json:"ciphertext_sha256"`
	Commitment       string `json:"commitment"`
	Part             int    `json:"part"`
	Size             int64  `json:"size"`
}

// SignedReceipt is the receipt file the bidder downloads.
type SignedReceipt struct {
	Receipt   Receipt `json:"receipt"`
	Signature string  `json:"signature"` // Ed25519 over the canonical receipt, base64
}

// ReceiptTime formats a time for received_at: UTC, microseconds
// (PostgreSQL's precision).
func ReceiptTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// Canonical is the receipt's canonical JSON (RFC 8785 for this shape).
func (r Receipt) Canonical() ([]byte, error) {
	if r.Parts == nil {
		r.Parts = []ReceiptPart{}
	}
	for _, s := range []string{r.KeyFingerprint, r.KeyID, r.ReceivedAt, r.Type} {
		for _, c := range s {
			if c > unicode.MaxASCII || c < 0x20 || c == '"' || c == '\\' {
				return nil, fmt.Errorf("%w: field %q is not plain ASCII", ErrReceipt, s)
			}
		}
	}
	for _, p := range r.Parts {
		if !isHex32(p.CiphertextSHA256) || !isHex32(p.Commitment) {
			return nil, fmt.Errorf("%w: part %d hashes are not hex SHA-256", ErrReceipt, p.Part)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func isHex32(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32 && strings.ToLower(s) == s
}

// PlatformKeyID names an Ed25519 public key: "ed25519:" and the first 16
// hex digits of its SHA-256.
func PlatformKeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(s[:8])
}

// SignReceipt fills in the type and key id and signs the receipt.
func SignReceipt(priv ed25519.PrivateKey, r Receipt) (*SignedReceipt, []byte, error) {
	r.Type = ReceiptType
	r.KeyID = PlatformKeyID(priv.Public().(ed25519.PublicKey))
	msg, err := r.Canonical()
	if err != nil {
		return nil, nil, err
	}
	sr := &SignedReceipt{Receipt: r, Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg))}
	data, err := json.MarshalIndent(sr, "", "  ")
	return sr, data, err
}

// VerifyReceipt checks a receipt file against the platform's public key,
// without trusting anything else the platform says.
func VerifyReceipt(data []byte, pub ed25519.PublicKey) (*Receipt, error) {
	var sr SignedReceipt
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sr); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReceipt, err)
	}
	if sr.Receipt.Type != ReceiptType {
		return nil, fmt.Errorf("%w: type %q", ErrReceipt, sr.Receipt.Type)
	}
	if sr.Receipt.KeyID != PlatformKeyID(pub) {
		return nil, fmt.Errorf("%w: signed by key %s, not %s", ErrSignature, sr.Receipt.KeyID, PlatformKeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(sr.Signature)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64", ErrReceipt)
	}
	msg, err := sr.Receipt.Canonical()
	if err != nil {
		return nil, err
	}
	if !ed25519.Verify(pub, msg, sig) {
		return nil, ErrSignature
	}
	return &sr.Receipt, nil
}

// ParsePlatformKey reads a published platform public key: base64 (as
// [Keyring.Published] gives it) or hex of the 32 raw bytes.
func ParsePlatformKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == ed25519.PublicKeySize {
		return b, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == ed25519.PublicKeySize {
		return b, nil
	}
	return nil, fmt.Errorf("sealed: platform key is not 32 bytes of base64 or hex")
}

// Keyring holds the platform's receipt-signing keys: the current one signs,
// retired ones still verify old receipts. It lives in a JSON file readable
// only by the service (mode 0600), generated once with [NewKeyringFile];
// the public keys are published on the rules page and in the API.
type Keyring struct {
	current ed25519.PrivateKey
	keys    map[string]ed25519.PublicKey
	order   []string
}

type keyringFile struct {
	Keys []keyringEntry `json:"keys"` // the last is the current key
}

type keyringEntry struct {
	ID      string    `json:"id"`
	Seed    string    `json:"seed"` // 32 bytes, base64
	Created time.Time `json:"created"`
}

// PublishedKey is a platform public key as published.
type PublishedKey struct {
	ID        string `json:"id"`
	PublicKey string `json:"public_key"` // base64 of 32 bytes
	Current   bool   `json:"current"`
}

// NewKeyringFile adds a fresh signing key to the keyring file at path
// (creating it, mode 0600); the new key becomes the current one.
func NewKeyringFile(path string, now time.Time) (*Keyring, error) {
	var f keyringFile
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("sealed: keyring %s: %w", path, err)
		}
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	priv := ed25519.NewKeyFromSeed(seed)
	f.Keys = append(f.Keys, keyringEntry{ID: PlatformKeyID(priv.Public().(ed25519.PublicKey)), Seed: base64.StdEncoding.EncodeToString(seed), Created: now.UTC()})
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, err
	}
	return ParseKeyring(data)
}

// LoadKeyring reads the keyring file.
func LoadKeyring(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseKeyring(data)
}

// ParseKeyring reads a keyring from its JSON (a file or a database row).
func ParseKeyring(data []byte) (*Keyring, error) {
	var f keyringFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("sealed: keyring: %w", err)
	}
	if len(f.Keys) == 0 {
		return nil, fmt.Errorf("sealed: keyring has no key")
	}
	k := &Keyring{keys: map[string]ed25519.PublicKey{}}
	for _, e := range f.Keys {
		seed, err := base64.StdEncoding.DecodeString(e.Seed)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("sealed: keyring key %s: bad seed", e.ID)
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := priv.Public().(ed25519.PublicKey)
		if PlatformKeyID(pub) != e.ID {
			return nil, fmt.Errorf("sealed: keyring key %s: id does not match the key", e.ID)
		}
		k.keys[e.ID] = pub
		k.order = append(k.order, e.ID)
		k.current = priv
	}
	return k, nil
}

// Sign signs a receipt with the current key.
func (k *Keyring) Sign(r Receipt) (*SignedReceipt, []byte, error) { return SignReceipt(k.current, r) }

// Verify checks a receipt with whichever of the keyring's keys signed it.
func (k *Keyring) Verify(data []byte) (*Receipt, error) {
	var sr SignedReceipt
	if err := json.Unmarshal(data, &sr); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReceipt, err)
	}
	pub, ok := k.keys[sr.Receipt.KeyID]
	if !ok {
		return nil, fmt.Errorf("%w: unknown key %s", ErrSignature, sr.Receipt.KeyID)
	}
	return VerifyReceipt(data, pub)
}

// Published lists the public keys to publish, the current one last.
func (k *Keyring) Published() []PublishedKey {
	cur := PlatformKeyID(k.current.Public().(ed25519.PublicKey))
	out := make([]PublishedKey, 0, len(k.order))
	for _, id := range k.order {
		out = append(out, PublishedKey{ID: id, PublicKey: base64.StdEncoding.EncodeToString(k.keys[id]), Current: id == cur})
	}
	return out
}
