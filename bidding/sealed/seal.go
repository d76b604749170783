package sealed

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// ContentKey is a bid's random content key and the bid it was made for.
// Its text form ("ck1.<bid>.<base64url key>") is what the bidder's browser
// hands to the platform at the opening.
type ContentKey struct {
	Bid string
	Key [keySize]byte
}

// NewContentKey draws a content key for the bid reference.
func NewContentKey(bid string) (ContentKey, error) {
	if !validBidRef(bid) {
		return ContentKey{}, fmt.Errorf("sealed: bid reference %q: 1..%d of [A-Za-z0-9._:/-]", bid, maxBidRefLength)
	}
	ck := ContentKey{Bid: bid}
	rand.Read(ck.Key[:])
	return ck, nil
}

// String is the token form, "ck1.<bid>.<base64url key>".
func (k ContentKey) String() string {
	return "ck1." + k.Bid + "." + base64.RawURLEncoding.EncodeToString(k.Key[:])
}

// ParseContentKey reads the token form of a content key.
func ParseContentKey(s string) (ContentKey, error) {
	rest, ok := strings.CutPrefix(s, "ck1.")
	i := strings.LastIndexByte(rest, '.')
	if !ok || i < 0 {
		return ContentKey{}, fmt.Errorf("%w: content key token is not ck1.<bid>.<key>", ErrWrongKey)
	}
	ck := ContentKey{Bid: rest[:i]}
	enc := rest[i+1:]
	if len(enc) != base64.RawURLEncoding.EncodedLen(keySize) || strings.ContainsAny(enc, "\r\n") {
		return ContentKey{}, fmt.Errorf("%w: content key token is not ck1.<bid>.<key>", ErrWrongKey)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil || len(b) != keySize || !validBidRef(ck.Bid) {
		return ContentKey{}, fmt.Errorf("%w: content key token is not ck1.<bid>.<key>", ErrWrongKey)
	}
	copy(ck.Key[:], b)
	return ck, nil
}

// ParsePublicKey reads a bidder's P-256 public key (SPKI DER, as WebCrypto
// exports "spki").
func ParsePublicKey(spki []byte) (*ecdh.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, fmt.Errorf("sealed: public key: %w", err)
	}
	switch k := k.(type) {
	case *ecdh.PublicKey:
		if k.Curve() == ecdh.P256() {
			return k, nil
		}
	case interface {
		ECDH() (*ecdh.PublicKey, error)
	}:
		if p, err := k.ECDH(); err == nil && p.Curve() == ecdh.P256() {
			return p, nil
		}
	}
	return nil, errors.New("sealed: public key is not P-256")
}

// MarshalPublicKey is the SPKI DER of a public key.
func MarshalPublicKey(pub *ecdh.PublicKey) []byte {
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // a P-256 ecdh key always marshals
	}
	return b
}

// Fingerprint is the lower-case hex SHA-256 of the public key's SPKI DER.
func Fingerprint(pub *ecdh.PublicKey) string {
	s := sha256.Sum256(MarshalPublicKey(pub))
	return hex.EncodeToString(s[:])
}

func hpkeInfo(suite, bid string) []byte {
	return []byte(hpkeInfoPrefix + "\x00" + suite + "\x00" + bid)
}

// payloadCipher derives a part's AES-256-GCM key and base nonce from the
// content key and the part's salt (FORMAT.md, "Keys").
func payloadCipher(ck *[keySize]byte, salt []byte) (cipher.AEAD, []byte) {
	okm, err := hkdf.Key(sha256.New, ck[:], salt, labelPayload, keySize+nonceSize)
	if err != nil {
		panic(err)
	}
	block, _ := aes.NewCipher(okm[:keySize])
	aead, _ := cipher.NewGCM(block)
	return aead, okm[keySize:]
}

func keyCheck(ck *[keySize]byte) []byte {
	kc, err := hkdf.Key(sha256.New, ck[:], nil, labelKeyCheck, 32)
	if err != nil {
		panic(err)
	}
	return kc
}

func chunkNonce(dst, base []byte, i uint64) []byte {
	dst = append(dst[:0], base...)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], i)
	for j := range 8 {
		dst[nonceSize-8+j] ^= c[j]
	}
	return dst
}

// chunkAAD is SHA-256(header) || counter || flag [|| commitment].
func chunkAAD(dst []byte, headerHash *[32]byte, i uint64, final bool, commitment []byte) []byte {
	dst = append(dst[:0], headerHash[:]...)
	dst = binary.BigEndian.AppendUint64(dst, i)
	if final {
		dst = append(dst, flagFinal)
		dst = append(dst, commitment...)
	} else {
		dst = append(dst, flagMore)
	}
	return dst
}

// Manifest is chunk 0 of an envelope, encrypted: the part's name and media
// type as the bidder gave them, and the commitment nonce.
type Manifest struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Nonce string `json:"nonce"` // 32 bytes, base64
}

// SealOptions describe the part being sealed.
type SealOptions struct {
	Part      int
	Name      string // file name, kept inside the envelope
	Type      string // media type, kept inside the envelope
	ChunkSize int    // 0 means DefaultChunkSize
}

// Sealed is what [Seal] reports: the header, and what the bidder keeps for
// the backup copy (EB14).
type Sealed struct {
	Header      Header
	ContentSize int64
	// Commitment is SHA-256(Nonce || plaintext).
	Commitment [32]byte
	// Nonce is the commitment nonce; the bidder keeps it with the backup.
	Nonce [32]byte
}

// Seal encrypts the plaintext read from r as one part of the bid ck was
// made for, to the bidder's public key, and writes the envelope to w. It
// streams: memory stays at about two chunks whatever the size.
func Seal(w io.Writer, r io.Reader, pub *ecdh.PublicKey, ck ContentKey, opts SealOptions) (*Sealed, error) {
	if !validBidRef(ck.Bid) {
		return nil, fmt.Errorf("sealed: bid reference %q", ck.Bid)
	}
	if opts.ChunkSize == 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.ChunkSize < MinChunkSize || opts.ChunkSize > MaxChunkSize {
		return nil, fmt.Errorf("sealed: chunk size %d outside %d..%d", opts.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	if opts.Part < 0 || opts.Part > maxPart {
		return nil, fmt.Errorf("sealed: part %d outside 0..%d", opts.Part, maxPart)
	}
	hpub, err := hpke.NewDHKEMPublicKey(pub)
	if err != nil {
		return nil, err
	}
	encCt, err := hpke.Seal(hpub, hpke.HKDFSHA256(), hpke.AES256GCM(), hpkeInfo(SuiteP256, ck.Bid), ck.Key[:])
	if err != nil {
		return nil, fmt.Errorf("sealed: wrap content key: %w", err)
	}
	salt := make([]byte, 32)
	rand.Read(salt)
	out := &Sealed{Header: Header{
		Version: 1, Suite: SuiteP256, Bid: ck.Bid, Part: opts.Part,
		KeyFingerprint: Fingerprint(pub),
		Enc:            base64.StdEncoding.EncodeToString(encCt[:encSize]),
		WrappedKey:     base64.StdEncoding.EncodeToString(encCt[encSize:]),
		Salt:           base64.StdEncoding.EncodeToString(salt),
		KeyCheck:       base64.StdEncoding.EncodeToString(keyCheck(&ck.Key)),
		ChunkSize:      opts.ChunkSize,
	}}
	raw, err := json.Marshal(out.Header)
	if err != nil {
		return nil, err
	}
	headerHash := sha256.Sum256(raw)
	rand.Read(out.Nonce[:])
	manifest, err := json.Marshal(Manifest{Name: opts.Name, Type: opts.Type, Nonce: base64.StdEncoding.EncodeToString(out.Nonce[:])})
	if err != nil {
		return nil, err
	}
	if len(manifest) > MaxManifestSize {
		return nil, fmt.Errorf("sealed: name and type too long for the manifest")
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(Magic)
	bw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(raw))))
	bw.Write(raw)

	aead, base := payloadCipher(&ck.Key, salt)
	var nonce, aad []byte
	buf := make([]byte, opts.ChunkSize, opts.ChunkSize+tagSize)
	writeRecord := func(i uint64, pt []byte, final bool, commitment []byte) {
		ct := aead.Seal(buf[:0], chunkNonce(nonce, base, i), pt, chunkAAD(aad, &headerHash, i, final, commitment))
		flag := byte(flagMore)
		if final {
			flag = flagFinal
		}
		bw.WriteByte(flag)
		bw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(ct))))
		if final {
			bw.Write(commitment)
		}
		bw.Write(ct)
	}
	nonce = make([]byte, 0, nonceSize)
	aad = make([]byte, 0, 32+8+1+commitSize)
	writeRecord(0, manifest, false, nil)

	commit := sha256.New()
	commit.Write(out.Nonce[:])
	br := bufio.NewReaderSize(r, 64<<10)
	pt := make([]byte, opts.ChunkSize)
	for i := uint64(1); ; i++ {
		n, err := io.ReadFull(br, pt)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("sealed: read plaintext: %w", err)
		}
		final := n < len(pt)
		if !final {
			if _, perr := br.Peek(1); errors.Is(perr, io.EOF) {
				final = true
			} else if perr != nil {
				return nil, fmt.Errorf("sealed: read plaintext: %w", perr)
			}
		}
		commit.Write(pt[:n])
		out.ContentSize += int64(n)
		if final {
			commit.Sum(out.Commitment[:0])
			writeRecord(i, pt[:n], true, out.Commitment[:])
			break
		}
		writeRecord(i, pt[:n], false, nil)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("sealed: write envelope: %w", err)
	}
	return out, nil
}

// UnwrapKey recovers the content key from an envelope's header with the
// bidder's private key. At the opening the bidder's browser does this
// (sealed.js); the Go version serves tests and tools.
func UnwrapKey(h Header, priv *ecdh.PrivateKey) (ContentKey, error) {
	raw, err := json.Marshal(h)
	if err != nil {
		return ContentKey{}, err
	}
	ph, err := parseHeader(raw)
	if err != nil {
		return ContentKey{}, err
	}
	if Fingerprint(priv.PublicKey()) != h.KeyFingerprint {
		return ContentKey{}, fmt.Errorf("%w: the envelope is sealed to key %s", ErrWrongKey, h.KeyFingerprint)
	}
	hpriv, err := hpke.NewDHKEMPrivateKey(priv)
	if err != nil {
		return ContentKey{}, err
	}
	pt, err := hpke.Open(hpriv, hpke.HKDFSHA256(), hpke.AES256GCM(), hpkeInfo(h.Suite, h.Bid), append(ph.enc, ph.wrapped...))
	if err != nil || len(pt) != keySize {
		return ContentKey{}, fmt.Errorf("%w: the wrapped key does not open", ErrWrongKey)
	}
	ck := ContentKey{Bid: h.Bid}
	copy(ck.Key[:], pt)
	return ck, nil
}

// ReadHeader reads just the header of an envelope (for unwrapping).
func ReadHeader(r io.Reader) (Header, error) {
	h, err := readHeader(r)
	if err != nil {
		return Header{}, err
	}
	return h.Header, nil
}

// Opened is what [Open] reports of a good envelope.
type Opened struct {
	Header      Header
	Name, Type  string
	ContentSize int64
	Commitment  [32]byte
	Nonce       [32]byte
	// SHA256 is the plain SHA-256 of the plaintext, from [OpenHashing] only.
	SHA256 [32]byte
}

// Open decrypts an envelope with the content key the bidder handed in,
// writing the plaintext to w chunk by chunk after each chunk authenticates,
// and checks the commitment at the end. Memory stays flat. Any error means
// the output is not the bid: the caller discards what w received.
func Open(r io.Reader, ck ContentKey, w io.Writer) (*Opened, error) { return open(r, ck, w, false) }

// OpenHashing is [Open] that also takes the plain SHA-256 of the
// plaintext (Opened.SHA256: what the hall stores and compares between
// bids, K3). It runs beside the decryption, on its goroutine, while the
// commitment is hashed on the next stage's: the two hashes in parallel.
func OpenHashing(r io.Reader, ck ContentKey, w io.Writer) (*Opened, error) {
	return open(r, ck, w, true)
}

func open(r io.Reader, ck ContentKey, w io.Writer, plainHash bool) (*Opened, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	if ck.Bid != h.Bid {
		return nil, fmt.Errorf("%w: the key is for bid %q, the envelope is bid %q", ErrKeyForOtherBid, ck.Bid, h.Bid)
	}
	if subtle.ConstantTimeCompare(keyCheck(&ck.Key), h.keyCheck) != 1 {
		return nil, ErrWrongKey
	}
	aead, base := payloadCipher(&ck.Key, h.salt)
	// Three stages, each on its own goroutine, a chunk apart: reading
	// (readAhead), decrypting (here), hashing and writing (sink). Each
	// chunk is written only after it authenticated.
	chunks := newReadAhead(newChunkReader(r, h.ChunkSize))
	defer chunks.close()
	nonce := make([]byte, 0, nonceSize)
	aad := make([]byte, 0, 32+8+1+commitSize)
	out := &Opened{Header: h.Header}
	var plain hash.Hash
	if plainHash {
		plain = sha256.New()
	}
	var snk *sink
	defer func() {
		if snk != nil {
			snk.finish()
		}
	}()
	for {
		rec, err := chunks.next()
		if err != nil {
			return nil, err
		}
		var commitment []byte
		if rec.final {
			commitment = rec.commitment[:]
		}
		pt, err := aead.Open(rec.ct[:0], chunkNonce(nonce, base, rec.index), rec.ct, chunkAAD(aad, &h.hash, rec.index, rec.final, commitment))
		if err != nil {
			return nil, fmt.Errorf("%w: chunk %d", ErrTampered, rec.index)
		}
		if rec.index == 0 {
			var m Manifest
			dec := json.NewDecoder(strings.NewReader(string(pt)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&m); err != nil {
				return nil, malformed("manifest: %v", err)
			}
			nb, err := base64.StdEncoding.Strict().DecodeString(m.Nonce)
			if err != nil || len(nb) != 32 {
				return nil, malformed("manifest nonce")
			}
			out.Name, out.Type = m.Name, m.Type
			copy(out.Nonce[:], nb)
			chunks.release(rec)
			snk = newSink(nb, w, chunks)
			continue
		}
		out.ContentSize += int64(len(pt))
		if plain != nil {
			plain.Write(pt)
		}
		snk.recs <- sinkRecord{rec, pt}
		if rec.final {
			commit, err := snk.finish()
			snk = nil
			if err != nil {
				return nil, err
			}
			copy(out.Commitment[:], commit)
			if plain != nil {
				plain.Sum(out.SHA256[:0])
			}
			if subtle.ConstantTimeCompare(out.Commitment[:], rec.commitment[:]) != 1 {
				return nil, ErrCommitment
			}
			return out, nil
		}
	}
}

// sink hashes the plaintext into the commitment and writes it out, on a
// goroutine of its own, giving each record's buffer back to the reader.
type sink struct {
	recs   chan sinkRecord
	done   chan struct{}
	commit hash.Hash
	err    error
}

type sinkRecord struct {
	rec *record
	pt  []byte
}

func newSink(nonce []byte, w io.Writer, chunks *readAhead) *sink {
	s := &sink{recs: make(chan sinkRecord, aheadBuffers), done: make(chan struct{}), commit: sha256.New()}
	s.commit.Write(nonce)
	go func() {
		defer close(s.done)
		for x := range s.recs {
			if s.err == nil {
				s.commit.Write(x.pt)
				if _, err := w.Write(x.pt); err != nil {
					s.err = fmt.Errorf("sealed: write plaintext: %w", err)
				}
			}
			chunks.release(x.rec)
		}
	}()
	return s
}

// finish waits for the sink to drain: the commitment of what it hashed,
// or why writing failed.
func (s *sink) finish() ([]byte, error) {
	close(s.recs)
	<-s.done
	return s.commit.Sum(nil), s.err
}

// Commit is SHA-256(nonce || plaintext) of a plaintext read from r, hex.
func Commit(r io.Reader, nonce []byte) (string, error) {
	h := sha256.New()
	h.Write(nonce)
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// VerifyBackup checks a backup plaintext (EB14) against the commitment of
// the receipt, given the nonce the bidder kept; commitment is hex and nonce
// base64 or hex, as sealed.js hands them out. It streams.
func VerifyBackup(plaintext io.Reader, nonce, commitment string) error {
	nb, err := base64.StdEncoding.Strict().DecodeString(nonce)
	if err != nil || len(nb) != 32 {
		if nb, err = hex.DecodeString(nonce); err != nil || len(nb) != 32 {
			return fmt.Errorf("%w: the nonce is not 32 bytes of base64 or hex", ErrCommitment)
		}
	}
	got, err := Commit(plaintext, nb)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(commitment))) != 1 {
		return ErrCommitment
	}
	return nil
}
