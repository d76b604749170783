package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// Key file parameters. PBKDF2 is the KDF WebCrypto has natively; 600,000
// iterations of SHA-256 is OWASP's 2023 floor.
const (
	KeyFileType          = "ggzy-bid-key"
	MinKeyFileIterations = 600_000
	maxKeyFileIterations = 10_000_000
	keyFileAADPrefix     = "ggzy-bid-key/v1\x00"
)

// KeyFile is the bidder's passphrase-protected key file (JSON). The private
// key is the 32-byte P-256 scalar, encrypted with AES-256-GCM under a key
// PBKDF2-SHA256 derives from the passphrase; the fingerprint is the
// additional data, so the public half cannot be swapped.
type KeyFile struct {
	Type        string    `json:"type"`
	Version     int       `json:"v"`
	Suite       string    `json:"suite"`
	Created     time.Time `json:"created"`
	PublicKey   string    `json:"public_key"` // SPKI DER, base64
	Fingerprint string    `json:"fingerprint"`
	KDF         struct {
		Name       string `json:"name"` // "PBKDF2-SHA256"
		Iterations int    `json:"iterations"`
		Salt       string `json:"salt"` // 16 bytes, base64
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`  // "AES-256-GCM"
		Nonce string `json:"nonce"` // 12 bytes, base64
	} `json:"cipher"`
	PrivateKey string `json:"private_key"` // AES-GCM(scalar), base64
}

// BidKey is an unlocked bid key.
type BidKey struct {
	Private     *ecdh.PrivateKey
	Public      *ecdh.PublicKey
	Fingerprint string
	Created     time.Time
}

func keyFileCipher(passphrase string, salt []byte, iter int) (cipher.AEAD, error) {
	k, err := pbkdf2.Key(sha256.New, passphrase, salt, iter, 32)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// NewKeyFile makes a key pair and its key file (tests and tools; bidders
// make theirs in the browser with sealed.js).
func NewKeyFile(passphrase string, created time.Time) (*BidKey, []byte, error) {
	if passphrase == "" {
		return nil, nil, fmt.Errorf("%w: empty passphrase", ErrKeyFile)
	}
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	bk := &BidKey{Private: priv, Public: priv.PublicKey(), Fingerprint: Fingerprint(priv.PublicKey()), Created: created.UTC().Truncate(time.Millisecond)}
	var kf KeyFile
	kf.Type, kf.Version, kf.Suite, kf.Created = KeyFileType, 1, SuiteP256, bk.Created
	kf.PublicKey = base64.StdEncoding.EncodeToString(MarshalPublicKey(bk.Public))
	kf.Fingerprint = bk.Fingerprint
	salt, nonce := make([]byte, 16), make([]byte, 12)
	rand.Read(salt)
	rand.Read(nonce)
	kf.KDF.Name, kf.KDF.Iterations, kf.KDF.Salt = "PBKDF2-SHA256", MinKeyFileIterations, base64.StdEncoding.EncodeToString(salt)
	kf.Cipher.Name, kf.Cipher.Nonce = "AES-256-GCM", base64.StdEncoding.EncodeToString(nonce)
	aead, err := keyFileCipher(passphrase, salt, kf.KDF.Iterations)
	if err != nil {
		return nil, nil, err
	}
	kf.PrivateKey = base64.StdEncoding.EncodeToString(aead.Seal(nil, nonce, priv.Bytes(), []byte(keyFileAADPrefix+kf.Fingerprint)))
	data, err := json.MarshalIndent(kf, "", "  ")
	return bk, data, err
}

// ReadKeyFile unlocks a key file with its passphrase.
func ReadKeyFile(data []byte, passphrase string) (*BidKey, error) {
	var kf KeyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	if kf.Type != KeyFileType || kf.Version != 1 {
		return nil, fmt.Errorf("%w: not a v1 %s file", ErrKeyFile, KeyFileType)
	}
	if kf.Suite != SuiteP256 {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedSuite, kf.Suite)
	}
	if kf.KDF.Name != "PBKDF2-SHA256" || kf.Cipher.Name != "AES-256-GCM" {
		return nil, fmt.Errorf("%w: kdf %q, cipher %q", ErrKeyFile, kf.KDF.Name, kf.Cipher.Name)
	}
	if kf.KDF.Iterations < MinKeyFileIterations || kf.KDF.Iterations > maxKeyFileIterations {
		return nil, fmt.Errorf("%w: %d PBKDF2 iterations, want %d..%d", ErrKeyFile, kf.KDF.Iterations, MinKeyFileIterations, maxKeyFileIterations)
	}
	spki, err1 := base64.StdEncoding.DecodeString(kf.PublicKey)
	salt, err2 := base64.StdEncoding.DecodeString(kf.KDF.Salt)
	nonce, err3 := base64.StdEncoding.DecodeString(kf.Cipher.Nonce)
	ct, err4 := base64.StdEncoding.DecodeString(kf.PrivateKey)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || len(salt) < 16 || len(nonce) != 12 {
		return nil, fmt.Errorf("%w: bad base64 field", ErrKeyFile)
	}
	pub, err := ParsePublicKey(spki)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	if Fingerprint(pub) != kf.Fingerprint {
		return nil, fmt.Errorf("%w: fingerprint does not match the public key", ErrKeyFile)
	}
	aead, err := keyFileCipher(passphrase, salt, kf.KDF.Iterations)
	if err != nil {
		return nil, err
	}
	scalar, err := aead.Open(nil, nonce, ct, []byte(keyFileAADPrefix+kf.Fingerprint))
	if err != nil {
		return nil, ErrPassphrase
	}
	priv, err := ecdh.P256().NewPrivateKey(scalar)
	if err != nil || !priv.PublicKey().Equal(pub) {
		return nil, fmt.Errorf("%w: private key does not match the public key", ErrKeyFile)
	}
	return &BidKey{Private: priv, Public: pub, Fingerprint: kf.Fingerprint, Created: kf.Created}, nil
}
