package sealed

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SuiteP256 is the one suite of format v1: HPKE base mode with
// DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM to wrap the content
// key; HKDF-SHA256 and AES-256-GCM chunks for the content. A CA or SM2/SM4
// suite gets its own name here without a format change.
const SuiteP256 = "P256-HKDF-SHA256-AES256GCM-v1"

// Magic opens every envelope.
const Magic = "GGZYSEAL"

const (
	// DefaultChunkSize is the plaintext size of every content chunk but the last.
	DefaultChunkSize = 1 << 20
	// MinChunkSize and MaxChunkSize bound the header's chunk_size.
	MinChunkSize = 4 << 10
	MaxChunkSize = 16 << 20
	// MaxHeaderSize bounds the header JSON.
	MaxHeaderSize = 16 << 10
	// MaxManifestSize bounds chunk 0, the encrypted manifest.
	MaxManifestSize = 4 << 10

	tagSize        = 16
	keySize        = 32
	nonceSize      = 12
	commitSize     = 32
	encSize        = 65 // uncompressed P-256 point
	wrappedKeySize = keySize + tagSize

	flagMore  = 0x00
	flagFinal = 0x01

	hpkeInfoPrefix  = "ggzy-sealed/v1"
	labelPayload    = "ggzy-sealed/v1 payload"
	labelKeyCheck   = "ggzy-sealed/v1 key-check"
	maxBidRefLength = 128
	maxPart         = 999
)

// Errors of the envelope. Each says what is wrong; the opening hall shows
// them to the bidder and records them (EB6).
var (
	ErrNotEnvelope      = errors.New("sealed: not a sealed bid envelope (EB1: an unencrypted file is refused)")
	ErrMalformed        = errors.New("sealed: malformed envelope")
	ErrUnsupportedSuite = errors.New("sealed: unsupported suite (downgrade or unknown)")
	ErrTruncated        = errors.New("sealed: envelope is truncated")
	ErrTampered         = errors.New("sealed: chunk fails authentication (altered, reordered or dropped)")
	ErrWrongKey         = errors.New("sealed: wrong content key for this envelope")
	ErrKeyForOtherBid   = errors.New("sealed: content key belongs to another bid")
	ErrCommitment       = errors.New("sealed: plaintext does not match the commitment")
	ErrKeyFile          = errors.New("sealed: bad bid key file")
	ErrPassphrase       = errors.New("sealed: wrong passphrase for the bid key file")
	ErrReceipt          = errors.New("sealed: bad receipt")
	ErrSignature        = errors.New("sealed: receipt signature does not verify")
)

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}

// Header is an envelope's clear-text header. Its exact bytes are hashed into
// every chunk's additional data, so none of it can be changed undetected.
type Header struct {
	Version int `json:"v"`
	// Suite names the algorithms; only SuiteP256 is known.
	Suite string `json:"suite"`
	// Bid is the caller's reference of the bid (e.g. the upload's id),
	// bound into the HPKE info; the server checks it is the one it issued.
	Bid string `json:"bid"`
	// Part is the index of this part within the bid (0 = price form by
	// convention of the upload flow).
	Part int `json:"part"`
	// KeyFingerprint is the hex SHA-256 of the bidder's public key (SPKI DER).
	KeyFingerprint string `json:"key_fp"`
	// Enc is the HPKE encapsulated key (65 bytes, base64).
	Enc string `json:"enc"`
	// WrappedKey is the HPKE ciphertext of the 32-byte content key (base64).
	WrappedKey string `json:"wrapped_key"`
	// Salt (32 bytes, base64) makes this part's payload key unique.
	Salt string `json:"salt"`
	// KeyCheck (32 bytes, base64) tells a wrong content key from a
	// tampered chunk, and commits the envelope to one key.
	KeyCheck string `json:"key_check"`
	// ChunkSize is the plaintext size of every content chunk but the last.
	ChunkSize int `json:"chunk_size"`
}

// header is a parsed, validated header with its decoded fields.
type header struct {
	Header
	raw      []byte
	hash     [32]byte
	enc      []byte
	wrapped  []byte
	salt     []byte
	keyCheck []byte
}

func validBidRef(s string) bool {
	if s == "" || len(s) > maxBidRefLength {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("._:/-", c):
		default:
			return false
		}
	}
	return true
}

func decodeB64(field, s string, n int) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != n || len(s) != base64.StdEncoding.EncodedLen(n) {
		return nil, malformed("header field %s: want %d bytes of base64", field, n)
	}
	return b, nil
}

func parseHeader(raw []byte) (*header, error) {
	var h header
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h.Header); err != nil {
		return nil, malformed("header is not the v1 JSON object: %v", err)
	}
	if dec.More() {
		return nil, malformed("data after the header object")
	}
	if h.Version != 1 {
		return nil, malformed("version %d, want 1", h.Version)
	}
	if h.Suite != SuiteP256 {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedSuite, h.Suite)
	}
	if !validBidRef(h.Bid) {
		return nil, malformed("bid reference %q", h.Bid)
	}
	if h.Part < 0 || h.Part > maxPart {
		return nil, malformed("part %d", h.Part)
	}
	if fp, err := hex.DecodeString(h.KeyFingerprint); err != nil || len(fp) != 32 || strings.ToLower(h.KeyFingerprint) != h.KeyFingerprint {
		return nil, malformed("key_fp is not a lower-case hex SHA-256")
	}
	var err error
	if h.enc, err = decodeB64("enc", h.Enc, encSize); err != nil {
		return nil, err
	}
	if _, err := ecdh.P256().NewPublicKey(h.enc); err != nil {
		return nil, malformed("enc is not a P-256 point")
	}
	if h.wrapped, err = decodeB64("wrapped_key", h.WrappedKey, wrappedKeySize); err != nil {
		return nil, err
	}
	if h.salt, err = decodeB64("salt", h.Salt, 32); err != nil {
		return nil, err
	}
	if h.keyCheck, err = decodeB64("key_check", h.KeyCheck, 32); err != nil {
		return nil, err
	}
	if h.ChunkSize < MinChunkSize || h.ChunkSize > MaxChunkSize {
		return nil, malformed("chunk_size %d outside %d..%d", h.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	// One header, one encoding: the fields in order, no spaces, no
	// duplicate or differently cased keys (the browser's JSON.stringify of
	// the same object gives these bytes too).
	if canon, err := json.Marshal(h.Header); err != nil || !bytes.Equal(canon, raw) {
		return nil, malformed("header is not in canonical form")
	}
	h.raw = raw
	h.hash = sha256.Sum256(raw)
	return &h, nil
}

// headerLength checks the magic and reads the header's length.
func headerLength(pre [len(Magic) + 4]byte) (int, error) {
	if string(pre[:len(Magic)]) != Magic {
		return 0, ErrNotEnvelope
	}
	n := binary.BigEndian.Uint32(pre[len(Magic):])
	if n == 0 || n > MaxHeaderSize {
		return 0, malformed("header length %d", n)
	}
	return int(n), nil
}

// readHeader reads the magic, the header length and the header.
func readHeader(r io.Reader) (*header, error) {
	var pre [len(Magic) + 4]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrNotEnvelope
		}
		return nil, err
	}
	n, err := headerLength(pre)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, truncated(err, "in the header")
	}
	return parseHeader(raw)
}

func truncated(err error, where string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s", ErrTruncated, where)
	}
	return err
}

// checkRecord reads a record's flag and length (pre) and checks them
// against the framing rules of FORMAT.md for the record at index.
func checkRecord(index uint64, pre [5]byte, chunkSize int) (final bool, n int, err error) {
	switch pre[0] {
	case flagMore:
	case flagFinal:
		final = true
	default:
		return false, 0, malformed("chunk %d: flag %#x", index, pre[0])
	}
	n = int(binary.BigEndian.Uint32(pre[1:]))
	switch {
	case index == 0 && final:
		return false, 0, malformed("chunk 0 (the manifest) cannot be final")
	case index == 0 && (n <= tagSize || n > MaxManifestSize+tagSize):
		return false, 0, malformed("manifest chunk of %d bytes", n)
	case index > 0 && !final && n != chunkSize+tagSize:
		return false, 0, malformed("chunk %d: %d bytes, a non-final chunk has %d", index, n, chunkSize+tagSize)
	case index > 0 && final && (n < tagSize || n > chunkSize+tagSize):
		return false, 0, malformed("final chunk %d: %d bytes", index, n)
	}
	return final, n, nil
}

// record is one chunk as framed on the wire.
type record struct {
	index      uint64
	final      bool
	commitment [commitSize]byte // final record only
	ct         []byte
}

// chunkReader reads chunk records, checking the framing rules of FORMAT.md.
type chunkReader struct {
	r         io.Reader
	chunkSize int
	next      uint64
	done      bool
	buf       []byte
}

func newChunkReader(r io.Reader, chunkSize int) *chunkReader {
	return &chunkReader{r: r, chunkSize: chunkSize, buf: make([]byte, chunkSize+tagSize)}
}

// read returns the next record; its ct aliases an internal buffer valid
// until the next call. After the final record it checks the stream ends.
func (c *chunkReader) read() (*record, error) { return c.readInto(c.buf) }

// readInto is read into buf (chunkSize+tagSize bytes).
func (c *chunkReader) readInto(buf []byte) (*record, error) {
	if c.done {
		return nil, io.EOF
	}
	var pre [5]byte
	if _, err := io.ReadFull(c.r, pre[:]); err != nil {
		return nil, truncated(err, fmt.Sprintf("chunk %d missing (no final chunk)", c.next))
	}
	rec := &record{index: c.next}
	final, n, err := checkRecord(c.next, pre, c.chunkSize)
	if err != nil {
		return nil, err
	}
	rec.final = final
	if rec.final {
		if _, err := io.ReadFull(c.r, rec.commitment[:]); err != nil {
			return nil, truncated(err, fmt.Sprintf("in final chunk %d", c.next))
		}
	}
	rec.ct = buf[:n]
	if _, err := io.ReadFull(c.r, rec.ct); err != nil {
		return nil, truncated(err, fmt.Sprintf("in chunk %d", c.next))
	}
	c.next++
	if rec.final {
		c.done = true
		var one [1]byte
		if k, err := io.ReadFull(c.r, one[:]); k > 0 {
			return nil, malformed("data after the final chunk")
		} else if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	return rec, nil
}

// aheadBuffers is how many records a readAhead holds: one being
// decrypted, one being hashed and written, the others being read.
const aheadBuffers = 4

// readAhead reads records on a goroutine of its own, so that reading from
// the store (the network, MinIO's own work) overlaps decrypting and
// hashing on the other core. Memory stays at aheadBuffers records.
type readAhead struct {
	recs chan aheadRecord
	free chan []byte
	stop chan struct{}
	done chan struct{}
}

type aheadRecord struct {
	rec *record
	err error
}

func newReadAhead(c *chunkReader) *readAhead {
	ra := &readAhead{recs: make(chan aheadRecord, aheadBuffers), free: make(chan []byte, aheadBuffers),
		stop: make(chan struct{}), done: make(chan struct{})}
	ra.free <- c.buf
	for range aheadBuffers - 1 {
		ra.free <- make([]byte, len(c.buf))
	}
	go func() {
		defer close(ra.done)
		for {
			var buf []byte
			select {
			case buf = <-ra.free:
			case <-ra.stop:
				return
			}
			rec, err := c.readInto(buf)
			ra.recs <- aheadRecord{rec, err} // never blocks: one slot per buffer
			if err != nil || rec.final {
				return
			}
		}
	}()
	return ra
}

// next is the next record; release its buffer with done when finished.
func (ra *readAhead) next() (*record, error) {
	r := <-ra.recs
	return r.rec, r.err
}

// release gives a record's buffer back for reading.
func (ra *readAhead) release(rec *record) { ra.free <- rec.ct[:cap(rec.ct)] }

// close stops reading and waits until the goroutine has left the reader
// alone, so the caller may close it.
func (ra *readAhead) close() {
	close(ra.stop)
	<-ra.done
}

// Info is what [Inspect] learns of an envelope without a key.
type Info struct {
	Header Header
	// Chunks counts the records, the manifest chunk included.
	Chunks uint64
	// ContentSize is the plaintext size of the content (from the framing).
	ContentSize int64
	// Size is the envelope's size in bytes.
	Size int64
	// SHA256 is the hex SHA-256 of the whole envelope (the ciphertext hash
	// of the receipt).
	SHA256 string
	// Commitment is the hex SHA-256(nonce || plaintext) the sealer committed to.
	Commitment string
}

// ReceiptPart is the receipt line for this envelope.
func (i *Info) ReceiptPart() ReceiptPart {
	return ReceiptPart{Part: i.Header.Part, CiphertextSHA256: i.SHA256, Commitment: i.Commitment, Size: i.Size}
}

type countingHash struct {
	r io.Reader
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func (c *countingHash) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	return n, err
}

// Inspect reads a whole envelope without a key and reports whether it is
// well-formed: magic, header, suite, and the framing of every chunk up to
// the final one and the end of the stream (EB1). It reads the ciphertext
// only, in constant memory, and computes the envelope's SHA-256.
func Inspect(r io.Reader) (*Info, error) {
	cr := &countingHash{r: r, h: sha256.New()}
	h, err := readHeader(cr)
	if err != nil {
		return nil, err
	}
	info := &Info{Header: h.Header}
	chunks := newChunkReader(cr, h.ChunkSize)
	for {
		rec, err := chunks.read()
		if err != nil {
			return nil, err
		}
		info.Chunks++
		if rec.index > 0 {
			info.ContentSize += int64(len(rec.ct) - tagSize)
		}
		if rec.final {
			info.Commitment = hex.EncodeToString(rec.commitment[:])
			break
		}
	}
	info.Size = cr.n
	info.SHA256 = hex.EncodeToString(cr.h.Sum(nil))
	return info, nil
}
