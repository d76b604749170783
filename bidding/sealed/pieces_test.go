package sealed

import (
	"bytes"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"testing"
)

// scanPieces summarises env's pieces the way the upload does: the first
// piece fixes the layout, every other piece is scanned on its own, in the
// order given, from the chaining value its sender states.
func scanPieces(env []byte, pieceSize int, order []int) []PieceScan {
	chain := ChainValues(env, pieceSize)
	n := len(chain)
	scans := make([]PieceScan, n)
	var layout *Layout
	for _, j := range order {
		off := j * pieceSize
		ps := NewPieceScanner(int64(off), layout, chain[j])
		piece := env[off:min(off+pieceSize, len(env))]
		// in uneven writes, as a request body arrives
		for len(piece) > 0 {
			k := min(len(piece), 1+mrand.IntN(3000))
			ps.Write(piece[:k])
			piece = piece[k:]
		}
		scans[j] = ps.Scan()
		if j == 0 {
			layout = scans[0].Layout
		}
	}
	return scans
}

func pieceOrder(n int, shuffle bool) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if shuffle && n > 2 {
		rest := order[1:]
		mrand.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	}
	return order
}

func sentinel(err error) error {
	for _, e := range []error{ErrNotEnvelope, ErrUnsupportedSuite, ErrMalformed, ErrTruncated} {
		if errors.Is(err, e) {
			return e
		}
	}
	return err
}

// EB1 without the bytes in one place: the verdict JoinPieces draws from
// the pieces' summaries (pieces arriving in any order) is Inspect's over
// the joined envelope: the same figures and SHA-256 for a well-formed
// envelope, the same refusal for a truncated, extended or re-framed one:
// a prefix cut by a piece boundary, a final flag too early, a wrong
// length, data after the final chunk.
func TestJoinPiecesAgreesWithInspect(t *testing.T) {
	key, _ := bidKey(t)
	const pieceSize = 257 * 64 // ≥ LayoutBytes, a multiple of 64, cuts records anywhere
	var envs [][]byte
	for _, size := range []int{0, 1, 4096, 4097, 40000, 3*pieceSize + 17, 100000} {
		pt := make([]byte, size)
		rand.Read(pt)
		var env bytes.Buffer
		ck, _ := NewContentKey("lot-1/bid-1")
		if _, err := Seal(&env, bytes.NewReader(pt), key.Public, ck, SealOptions{Part: 1, ChunkSize: 4096}); err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env.Bytes())
	}
	check := func(name string, env []byte, shuffle bool) {
		t.Helper()
		want, werr := Inspect(bytes.NewReader(env))
		n := max(1, (len(env)+pieceSize-1)/pieceSize)
		got, gerr := JoinPieces(scanPieces(env, pieceSize, pieceOrder(n, shuffle)))
		if errors.Is(gerr, ErrPiecesIncomplete) {
			if _, lerr := ReadLayout(env[:min(len(env), LayoutBytes)]); lerr == nil || werr == nil {
				t.Fatalf("%s: undecided (%v) where Inspect says %v", name, gerr, werr)
			}
			return // the first piece's own fault: the upload reads it back for Inspect's words
		}
		if sentinel(gerr) != sentinel(werr) {
			t.Fatalf("%s: JoinPieces %v, Inspect %v", name, gerr, werr)
		}
		if werr == nil && *got != *want {
			t.Fatalf("%s: JoinPieces %+v, Inspect %+v", name, got, want)
		}
	}
	refused := 0
	for _, env := range envs {
		for _, shuffle := range []bool{false, true} {
			check("well-formed", env, shuffle)
			for range 40 {
				bad := bytes.Clone(env)
				switch mrand.IntN(5) {
				case 0: // truncated
					bad = bad[:mrand.IntN(len(bad))]
				case 1: // extended
					bad = append(bad, make([]byte, 1+mrand.IntN(5000))...)
				case 2, 3: // a record prefix or commitment byte changed
					l, err := ReadLayout(bad)
					if err != nil {
						t.Fatal(err)
					}
					recs := (int64(len(bad)) - l.Base) / l.stride()
					r := l.recordAt(uint64(mrand.Int64N(recs+1) + 1))
					if r >= int64(len(bad)) {
						continue
					}
					i := r + mrand.Int64N(min(int64(edgeSize), int64(len(bad))-r))
					bad[i] = byte(mrand.IntN(4))
				case 4: // a final record made of the first content record
					l, _ := ReadLayout(bad)
					if r := l.recordAt(1); r < int64(len(bad)) {
						bad[r] = flagFinal
					}
				}
				if _, err := Inspect(bytes.NewReader(bad)); err != nil {
					refused++
				}
				check("altered", bad, shuffle)
			}
		}
	}
	t.Logf("%d altered envelopes refused", refused)
	if refused < 100 {
		t.Fatalf("only %d altered envelopes refused: the alterations test little", refused)
	}
}

// The hash chain: a sender stating a wrong chaining value for a piece, or
// none, leaves the verdict undecided (the upload reads the envelope back);
// it never gets a wrong SHA-256 into a receipt.
func TestJoinPiecesHashChain(t *testing.T) {
	key, _ := bidKey(t)
	pt := make([]byte, 100000)
	rand.Read(pt)
	var env bytes.Buffer
	ck, _ := NewContentKey("lot-1/bid-1")
	if _, err := Seal(&env, bytes.NewReader(pt), key.Public, ck, SealOptions{Part: 1, ChunkSize: 4096}); err != nil {
		t.Fatal(err)
	}
	const pieceSize = 257 * 64
	scans := scanPieces(env.Bytes(), pieceSize, pieceOrder(7, true))
	if info, err := JoinPieces(scans); err != nil || info.Size != int64(env.Len()) {
		t.Fatalf("%+v %v", info, err)
	}
	lied := bytes.Clone(scans[3].Before)
	lied[0] ^= 1
	ps := NewPieceScanner(scans[3].Offset, scans[0].Layout, lied)
	ps.Write(env.Bytes()[scans[3].Offset : scans[3].Offset+scans[3].Size])
	scans[3] = ps.Scan()
	if _, err := JoinPieces(scans); !errors.Is(err, ErrPiecesIncomplete) {
		t.Fatalf("a wrong chaining value: %v", err)
	}
	ps = NewPieceScanner(scans[3].Offset, scans[0].Layout, nil)
	ps.Write(env.Bytes()[scans[3].Offset : scans[3].Offset+scans[3].Size])
	scans[3] = ps.Scan()
	if _, err := JoinPieces(scans); !errors.Is(err, ErrPiecesIncomplete) {
		t.Fatalf("no chaining value: %v", err)
	}
	// A later piece scanned before the first piece's layout was known.
	scans = scanPieces(env.Bytes(), pieceSize, pieceOrder(7, false))
	ps = NewPieceScanner(scans[2].Offset, nil, scans[2].Before)
	ps.Write(env.Bytes()[scans[2].Offset : scans[2].Offset+scans[2].Size])
	scans[2] = ps.Scan()
	if _, err := JoinPieces(scans); !errors.Is(err, ErrPiecesIncomplete) {
		t.Fatalf("a piece scanned without the layout: %v", err)
	}
}
