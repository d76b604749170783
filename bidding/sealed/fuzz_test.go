package sealed

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
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

// fuzzEnvelopes are the well-formed envelopes FuzzJoinPieces alters: every
// plaintext length class (empty, under, at and over a chunk, several
// pieces), at two chunk sizes. bidKey must have run.
var fuzzEnvelopes = sync.OnceValue(func() [][]byte {
	key := testKey
	ck, _ := NewContentKey("lot-1/bid-1")
	var out [][]byte
	for _, chunk := range []int{MinChunkSize, MinChunkSize + 1000} {
		for _, size := range []int{0, 1, chunk - 1, chunk, chunk + 1, 20000, 3*257*64 + 17, 70000} {
			pt := make([]byte, size)
			for i := range pt {
				pt[i] = byte(i * 7)
			}
			var env bytes.Buffer
			if _, err := Seal(&env, bytes.NewReader(pt), key.Public, ck, SealOptions{Part: 1, ChunkSize: chunk}); err != nil {
				panic(err)
			}
			out = append(out, env.Bytes())
		}
	}
	return out
})

// EB1 and EB3 without the bytes in one place, differentially: whatever
// the envelope (a well-formed one with bytes set, cut off or appended,
// mostly at record prefixes), whatever the piece size (a multiple of 64,
// cutting records anywhere), whatever order the pieces are scanned in
// (rotated; those before piece 1 with the sender's claimed layout), and
// whether the sender's chaining values are true, JoinPieces agrees with
// Inspect: the same figures and SHA-256, or the same refusal, or
// undecided only where the upload then reads the envelope back because
// a claim did not hold or piece 1 itself is not an envelope's start.
//
// ops is read four bytes at a time: kind, position (two bytes, scaled to
// the envelope) and value.
func FuzzJoinPieces(f *testing.F) {
	bidKey(f)
	f.Add(uint8(0), uint8(0), uint8(0), false, []byte{})
	f.Add(uint8(5), uint8(3), uint8(1), false, []byte{})
	f.Add(uint8(7), uint8(64), uint8(2), false, []byte{})
	f.Add(uint8(15), uint8(17), uint8(3), false, []byte{1, 0x80, 0, 0})              // truncated in the middle
	f.Add(uint8(6), uint8(0), uint8(1), false, []byte{2, 0, 0, 200})                 // extended
	f.Add(uint8(14), uint8(1), uint8(2), false, []byte{3, 0x40, 0, 1})               // a record's flag changed
	f.Add(uint8(7), uint8(9), uint8(1), false, []byte{3, 0x70, 0x03, 2, 0, 9, 9, 9}) // a length byte, then a header byte
	f.Add(uint8(14), uint8(2), uint8(1), true, []byte{0, 0xc0, 0, 'x'})              // a ciphertext byte set, chaining values of the unaltered envelope
	f.Add(uint8(13), uint8(5), uint8(2), false, []byte{0, 0, 20, 'x'})               // the magic broken: piece 1 is no envelope's start
	f.Fuzz(func(t *testing.T, which, pieceSel, rot uint8, staleChain bool, ops []byte) {
		envs := fuzzEnvelopes()
		orig := envs[int(which)%len(envs)]
		env := bytes.Clone(orig)
		origLayout, err := ReadLayout(orig)
		if err != nil {
			t.Fatal(err)
		}
		for len(ops) >= 4 && len(env) > 0 {
			pos := int(binary.BigEndian.Uint16(ops[1:3])) * len(env) >> 16
			switch ops[0] % 4 {
			case 0: // a byte set
				env[pos] = ops[3]
			case 1: // cut off
				env = env[:pos]
			case 2: // appended
				env = append(env, bytes.Repeat([]byte{ops[3]}, 1+int(ops[3]))...)
			case 3: // a record prefix byte set
				recs := (int64(len(env)) - origLayout.Base) / origLayout.stride()
				if recs >= 0 {
					r := origLayout.recordAt(uint64(int64(ops[1])%(recs+1)) + 1)
					if i := r + int64(ops[2])%5; i < int64(len(env)) {
						env[i] = ops[3] % 3
					}
				}
			}
			ops = ops[4:]
		}
		pieceSize := 257*64 + 64*int(pieceSel)
		chainOf := env
		if staleChain {
			chainOf = orig
		}
		chain := ChainValues(chainOf, pieceSize)
		n := max(1, (len(env)+pieceSize-1)/pieceSize)
		// Scanned in rotated order: those before piece 1 with the layout
		// the sender claims (the unaltered envelope's), the others with
		// piece 1's, as the upload does.
		claimed := ClaimedLayout(origLayout.Base, origLayout.Header.ChunkSize)
		scans := make([]PieceScan, n)
		var layout *Layout
		early := false
		for k := range n {
			j := (k + int(rot)) % n
			off := j * pieceSize
			l := layout
			if l == nil && j > 0 {
				l, early = claimed, true
			}
			var before []byte
			if j < len(chain) {
				before = chain[j]
			}
			ps := NewPieceScanner(int64(off), l, before)
			ps.Write(env[min(off, len(env)):min(off+pieceSize, len(env))])
			scans[j] = ps.Scan()
			if j == 0 {
				layout = scans[0].Layout
			}
		}
		want, werr := Inspect(bytes.NewReader(env))
		got, gerr := JoinPieces(scans)
		if errors.Is(gerr, ErrPiecesIncomplete) {
			own, lerr := ReadLayout(env[:min(len(env), LayoutBytes)])
			switch {
			case lerr != nil && werr != nil: // piece 1's own fault: read back for Inspect's words
			case staleChain && !bytes.Equal(chainOf, env): // a false chaining value
			case early && (lerr != nil || own.Base != claimed.Base || own.Header.ChunkSize != claimed.Header.ChunkSize): // a false layout
			default:
				t.Fatalf("undecided (%v) where Inspect says %+v, %v", gerr, want, werr)
			}
			return
		}
		if sentinel(gerr) != sentinel(werr) {
			t.Fatalf("JoinPieces %v, Inspect %v", gerr, werr)
		}
		if werr == nil && *got != *want {
			t.Fatalf("JoinPieces %+v, Inspect %+v", got, want)
		}
	})
}
