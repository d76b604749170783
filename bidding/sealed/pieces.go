package sealed

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
)

// Inspecting an envelope whose pieces arrive in any order (EB1), each piece
// on its own, with no piece kept and none read back.
//
// The framing allows it: after the header and the manifest (both in the
// first 20.5 KiB), every content record but the final one is exactly
// chunk_size + 21 bytes, so where record i starts is known from the first
// piece alone (Layout). A piece is scanned for the record prefixes that
// fall in it; a well-formed envelope has only full, non-final records
// until the final one, so a piece keeps just its first prefix that is not
// such a record (Mark), and its first and last 37 bytes for prefixes and a
// commitment cut by a piece boundary. JoinPieces walks the records over
// these summaries as Inspect walks the bytes, and refuses what Inspect
// refuses, with the same errors.
//
// The envelope's SHA-256 (the receipt's ciphertext hash) is one serial
// stream; a piece is hashed from the SHA-256 chaining value of everything
// before it, as the sender states it (the sender hashed the envelope in
// order when sealing it). JoinPieces accepts the hash only when every
// piece's starting value is the one the piece before it ended with, and
// the first starts from SHA-256's initial value: then the result is the
// SHA-256 of the joined bytes, whatever the sender stated.

// ErrPiecesIncomplete says the pieces' summaries cannot decide: a piece
// was not scanned (it came before the first piece), the summaries do not
// chain, or the hash chain is broken. The caller inspects the joined
// envelope instead; it is never a verdict on the envelope.
var ErrPiecesIncomplete = errors.New("sealed: pieces not all inspected in place")

// LayoutBytes is how many of an envelope's first bytes fix its layout:
// magic, header length, the largest header, the manifest record's prefix.
const LayoutBytes = len(Magic) + 4 + MaxHeaderSize + 5

// edgeSize is how many bytes at each end of a piece, and from a marked
// prefix, a summary keeps: a record prefix and the final commitment.
const edgeSize = 5 + commitSize

// Layout is what the first piece fixes for all others.
type Layout struct {
	Header Header `json:"header"`
	// Base is the offset of content record 1 (after the manifest).
	Base int64 `json:"base"`
}

// stride is the size of a full content record on the wire.
func (l *Layout) stride() int64 { return int64(l.Header.ChunkSize) + tagSize + 5 }

// recordAt is the offset of content record i ≥ 1.
func (l *Layout) recordAt(i uint64) int64 { return l.Base + int64(i-1)*l.stride() }

// ReadLayout reads the layout from the envelope's first bytes (at least
// LayoutBytes of them, or the whole envelope when it is shorter), with
// Inspect's errors for what is wrong there.
func ReadLayout(first []byte) (*Layout, error) {
	if len(first) < len(Magic)+4 {
		return nil, ErrNotEnvelope
	}
	n, err := headerLength([len(Magic) + 4]byte(first))
	if err != nil {
		return nil, err
	}
	off := len(Magic) + 4
	if len(first) < off+n {
		return nil, fmt.Errorf("%w: in the header", ErrTruncated)
	}
	h, err := parseHeader(bytes.Clone(first[off : off+n]))
	if err != nil {
		return nil, err
	}
	off += n
	if len(first) < off+5 {
		return nil, fmt.Errorf("%w: chunk 0 missing (no final chunk)", ErrTruncated)
	}
	_, m, err := checkRecord(0, [5]byte(first[off:off+5]), h.ChunkSize)
	if err != nil {
		return nil, err
	}
	return &Layout{Header: h.Header, Base: int64(off + 5 + m)}, nil
}

// ClaimedLayout is the layout a sender states (its content record 1's
// offset and its chunk size), for pieces that arrive before the first
// piece: they are scanned with it, and JoinPieces uses their summaries only
// if the first piece's own layout turns out the same. Nil when out of range.
func ClaimedLayout(base int64, chunkSize int) *Layout {
	if chunkSize < MinChunkSize || chunkSize > MaxChunkSize || base < int64(len(Magic)+4+1+5+tagSize+1) ||
		base > int64(LayoutBytes+MaxManifestSize+tagSize) {
		return nil
	}
	return &Layout{Header: Header{ChunkSize: chunkSize}, Base: base}
}

// PieceScan is the summary of one piece, small enough for a database row.
type PieceScan struct {
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
	// Base and ChunkSize are the layout the piece was scanned with.
	Base      int64 `json:"base"`
	ChunkSize int   `json:"chunk_size"`
	// Layout is set on the first piece only.
	Layout *Layout `json:"layout,omitempty"`
	// Head and Tail are the piece's first and last bytes (≤ 37 each).
	Head []byte `json:"head"`
	Tail []byte `json:"tail"`
	// Mark is the first record prefix in the piece that is not a full,
	// non-final content record's.
	Mark *Mark `json:"mark,omitempty"`
	// Before is the SHA-256 chaining value of the envelope before the
	// piece (empty: not hashed); After the hash state after it.
	Before []byte `json:"before,omitempty"`
	After  []byte `json:"after,omitempty"`
}

// Mark is a record prefix kept by a piece: the record's index and the
// bytes from its first (the prefix and, for a final record, the start of
// its commitment), cut at the piece's end.
type Mark struct {
	Index uint64 `json:"index"`
	Bytes []byte `json:"bytes"`
}

// PieceScanner scans one piece as it streams by (an io.Writer that never
// fails, for an io.TeeReader). It keeps at most LayoutBytes.
type PieceScanner struct {
	s       PieceScan
	layout  *Layout
	pending []byte // the first piece's bytes until its layout is read
	next    uint64 // the next record whose prefix is looked for
	prefix  []byte // bytes of record next's prefix seen so far
	h       hash.Hash
	done    bool // a mark is taken: nothing more to look for
}

// NewPieceScanner scans the piece at offset. layout is the first piece's
// (nil for the first piece itself, which reads its own; nil for a later
// piece whose first piece is not known yet: it is then only hashed).
// before is the SHA-256 chaining value of the envelope's first offset
// bytes (nil: do not hash); offset must be a multiple of 64.
func NewPieceScanner(offset int64, layout *Layout, before []byte) *PieceScanner {
	ps := &PieceScanner{s: PieceScan{Offset: offset}, layout: layout}
	if offset == 0 {
		ps.layout, ps.pending = nil, make([]byte, 0, LayoutBytes)
		before = chainValue(sha256.New())
	}
	if layout != nil && offset > 0 {
		ps.start()
	}
	if len(before) == sha256.Size && offset%64 == 0 {
		h := sha256.New()
		st := make([]byte, 0, 108)
		st = append(st, "sha\x03"...)
		st = append(st, before...)
		st = append(st, make([]byte, 64)...)
		st = binary.BigEndian.AppendUint64(st, uint64(offset))
		if h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st) == nil {
			ps.h, ps.s.Before = h, bytes.Clone(before)
		}
	}
	return ps
}

// chainValue is the SHA-256 chaining value of a hash at a block boundary.
func chainValue(h hash.Hash) []byte {
	st, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	return st[4 : 4+sha256.Size]
}

// ChainValues are the SHA-256 chaining values of env before each piece of
// pieceSize bytes (a multiple of 64): what a sender states with piece n
// (1-based) is ChainValues(…)[n-1]. For senders written in Go (tests,
// benchmarks); the browser computes the same in sealed.js.
func ChainValues(env []byte, pieceSize int) [][]byte {
	h := sha256.New()
	var out [][]byte
	for off := 0; off == 0 || off < len(env); off += pieceSize {
		out = append(out, chainValue(h))
		h.Write(env[off:min(off+pieceSize, len(env))])
	}
	return out
}

// start sets the scan's layout and the first record to look for.
func (ps *PieceScanner) start() {
	l := ps.layout
	ps.s.Base, ps.s.ChunkSize = l.Base, l.Header.ChunkSize
	ps.next = 1
	if ps.s.Offset > l.Base {
		ps.next = uint64((ps.s.Offset-l.Base+l.stride()-1)/l.stride()) + 1
	}
}

// Write scans the next bytes of the piece.
func (ps *PieceScanner) Write(p []byte) (int, error) {
	if ps.h != nil {
		ps.h.Write(p)
	}
	if need := edgeSize - len(ps.s.Head); need > 0 {
		ps.s.Head = append(ps.s.Head, p[:min(need, len(p))]...)
	}
	if len(p) >= edgeSize {
		ps.s.Tail = append(ps.s.Tail[:0], p[len(p)-edgeSize:]...)
	} else {
		ps.s.Tail = append(ps.s.Tail, p...)
		ps.s.Tail = ps.s.Tail[max(0, len(ps.s.Tail)-edgeSize):]
	}
	pos, q := ps.s.Offset+ps.s.Size, p
	if ps.pending != nil {
		k := min(len(q), LayoutBytes-len(ps.pending))
		ps.pending = append(ps.pending, q[:k]...)
		pos, q = pos+int64(k), q[k:]
		if len(ps.pending) == LayoutBytes {
			ps.takeLayout()
		}
	}
	if ps.layout != nil && len(q) > 0 {
		ps.scan(pos, q)
	}
	ps.s.Size += int64(len(p))
	return len(p), nil
}

// takeLayout reads the first piece's layout from its first bytes, and
// scans them.
func (ps *PieceScanner) takeLayout() {
	l, err := ReadLayout(ps.pending)
	pending := ps.pending
	ps.pending = nil
	if err != nil {
		return // JoinPieces finds no layout; the caller reads the envelope for Inspect's words
	}
	ps.layout, ps.s.Layout = l, l
	ps.start()
	ps.scan(0, pending)
}

// scan looks at bytes p at offset pos for record prefixes.
func (ps *PieceScanner) scan(pos int64, p []byte) {
	for !ps.done {
		r := ps.layout.recordAt(ps.next) + int64(len(ps.prefix))
		if r >= pos+int64(len(p)) {
			return
		}
		k := min(int64(len(p))-(r-pos), int64(edgeSize-len(ps.prefix)))
		ps.prefix = append(ps.prefix, p[r-pos:r-pos+k]...)
		if len(ps.prefix) < 5 {
			return
		}
		if ps.prefix[0] == flagMore && binary.BigEndian.Uint32(ps.prefix[1:5]) == uint32(ps.layout.Header.ChunkSize+tagSize) {
			ps.prefix, ps.next = ps.prefix[:0], ps.next+1
			continue
		}
		ps.s.Mark = &Mark{Index: ps.next, Bytes: ps.prefix}
		if len(ps.prefix) == edgeSize {
			ps.done = true
		}
		return
	}
}

// Scan is the piece's summary, once all its bytes are written.
func (ps *PieceScanner) Scan() PieceScan {
	if ps.pending != nil {
		ps.takeLayout() // a first piece shorter than LayoutBytes: the whole envelope
	}
	if ps.s.Mark != nil && ps.prefix != nil {
		ps.s.Mark.Bytes = bytes.Clone(ps.prefix)
	}
	s := ps.s
	s.Head, s.Tail = bytes.Clone(s.Head), bytes.Clone(s.Tail)
	if ps.h != nil {
		s.After, _ = ps.h.(encoding.BinaryMarshaler).MarshalBinary()
	}
	return s
}

// JoinPieces is the verdict of Inspect over the envelope the pieces make,
// from their summaries, in order of offset. ErrPiecesIncomplete means the
// summaries cannot decide (then inspect the joined envelope); any other
// error is Inspect's refusal.
func JoinPieces(scans []PieceScan) (*Info, error) {
	if len(scans) == 0 || scans[0].Offset != 0 {
		return nil, ErrPiecesIncomplete
	}
	l := scans[0].Layout
	var size int64
	for _, s := range scans {
		if s.Offset != size || s.Size <= 0 {
			return nil, ErrPiecesIncomplete
		}
		size += s.Size
	}
	sum, err := joinHash(scans)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, ErrPiecesIncomplete // the first piece's own words are Inspect's: read them there
	}
	for _, s := range scans {
		if s.Base != l.Base || s.ChunkSize != l.Header.ChunkSize {
			return nil, ErrPiecesIncomplete // scanned before the first piece was (sent again)
		}
	}
	w := &walk{scans: scans, size: size}
	if l.Base > size {
		return nil, fmt.Errorf("%w: in chunk 0", ErrTruncated)
	}
	c := int64(l.Header.ChunkSize)
	for i := uint64(1); ; i++ {
		r := l.recordAt(i)
		if r+5 > size {
			return nil, fmt.Errorf("%w: chunk %d missing (no final chunk)", ErrTruncated, i)
		}
		pre, marked, err := w.prefix(i, r)
		if err != nil {
			return nil, err
		}
		final, n := false, int(c)+tagSize
		if marked {
			if final, n, err = checkRecord(i, [5]byte(pre), int(c)); err != nil {
				return nil, err
			}
		}
		if !final {
			if r+5+int64(n) > size {
				return nil, fmt.Errorf("%w: in chunk %d", ErrTruncated, i)
			}
			continue
		}
		if r+5+commitSize > size {
			return nil, fmt.Errorf("%w: in final chunk %d", ErrTruncated, i)
		}
		commitment, err := w.bytesAt(r+5, commitSize)
		if err != nil {
			return nil, err
		}
		switch end := r + 5 + commitSize + int64(n); {
		case end > size:
			return nil, fmt.Errorf("%w: in chunk %d", ErrTruncated, i)
		case end < size:
			return nil, malformed("data after the final chunk")
		}
		return &Info{Header: l.Header, Chunks: i + 1, ContentSize: int64(i-1)*c + int64(n-tagSize), Size: size,
			SHA256: hex.EncodeToString(sum), Commitment: hex.EncodeToString(commitment)}, nil
	}
}

// joinHash checks the pieces' hash chain and finishes the SHA-256.
func joinHash(scans []PieceScan) ([]byte, error) {
	for i, s := range scans {
		if len(s.Before) != sha256.Size || len(s.After) == 0 {
			return nil, ErrPiecesIncomplete
		}
		if i > 0 && (len(scans[i-1].After) < 4+sha256.Size || !bytes.Equal(s.Before, scans[i-1].After[4:4+sha256.Size])) {
			return nil, ErrPiecesIncomplete
		}
	}
	if !bytes.Equal(scans[0].Before, chainValue(sha256.New())) {
		return nil, ErrPiecesIncomplete
	}
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(scans[len(scans)-1].After); err != nil {
		return nil, ErrPiecesIncomplete
	}
	return h.Sum(nil), nil
}

// walk reads record prefixes and commitments from the pieces' summaries.
type walk struct {
	scans []PieceScan
	size  int64
}

// piece is the index of the piece holding byte pos.
func (w *walk) piece(pos int64) int {
	for j, s := range w.scans {
		if pos < s.Offset+s.Size {
			return j
		}
	}
	return len(w.scans) - 1
}

// prefix is record i's prefix at r, and whether it may be anything but a
// full non-final record's: a prefix inside one piece that the piece did
// not mark is one (the piece checked it).
func (w *walk) prefix(i uint64, r int64) ([]byte, bool, error) {
	s := w.scans[w.piece(r)]
	if r+5 <= s.Offset+s.Size && (s.Mark == nil || s.Mark.Index > i) {
		return nil, false, nil
	}
	if s.Mark != nil && s.Mark.Index < i {
		return nil, false, ErrPiecesIncomplete // the walk never passes a mark
	}
	b, err := w.bytesAt(r, 5)
	return b, true, err
}

// bytesAt gathers n ≤ 37 bytes at pos from marks, heads and tails.
func (w *walk) bytesAt(pos int64, n int) ([]byte, error) {
	var out []byte
	for q := pos; q < pos+int64(n); {
		s := w.scans[w.piece(q)]
		a, b := q-s.Offset, min(pos+int64(n), s.Offset+s.Size)-s.Offset
		switch {
		case s.Mark != nil && s.Base+int64(s.Mark.Index-1)*(int64(s.ChunkSize)+tagSize+5) <= q &&
			q+(b-a) <= s.Base+int64(s.Mark.Index-1)*(int64(s.ChunkSize)+tagSize+5)+int64(len(s.Mark.Bytes)):
			m := s.Base + int64(s.Mark.Index-1)*(int64(s.ChunkSize)+tagSize+5)
			out = append(out, s.Mark.Bytes[q-m:q-m+(b-a)]...)
		case b <= int64(len(s.Head)):
			out = append(out, s.Head[a:b]...)
		case a >= s.Size-int64(len(s.Tail)):
			t := s.Size - int64(len(s.Tail))
			out = append(out, s.Tail[a-t:b-t]...)
		default:
			return nil, ErrPiecesIncomplete
		}
		q = s.Offset + b
	}
	return out, nil
}
