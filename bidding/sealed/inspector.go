package sealed

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
)

// Phases of an Inspector: the field it is reading.
const (
	phasePrefix     = iota // magic and header length
	phaseHeader            // the header JSON
	phaseRecord            // a record's flag and length
	phaseCommitment        // the final record's commitment
	phaseBody              // a record's ciphertext, counted, not kept
	phaseDone              // after the final record: nothing may follow
)

// Inspector is [Inspect] fed piece by piece, as an envelope's pieces
// arrive over separate requests: the same framing rules, the same SHA-256,
// and a state that can be saved between pieces ([Inspector.State],
// [ResumeInspector]). It keeps at most the header (16 KiB) in memory.
type Inspector struct {
	st  inspectState
	h   hash.Hash
	err error
}

// inspectState is what is saved between pieces.
type inspectState struct {
	Phase       int    `json:"phase"`
	Field       []byte `json:"field,omitempty"` // bytes of the current fixed-size field so far
	Need        int    `json:"need"`            // its size, or the body bytes left
	Header      Header `json:"header"`
	Next        uint64 `json:"next"` // index of the current record
	Final       bool   `json:"final"`
	RecordLen   int    `json:"record_len"`
	Commitment  []byte `json:"commitment,omitempty"`
	Chunks      uint64 `json:"chunks"`
	ContentSize int64  `json:"content_size"`
	Size        int64  `json:"size"`
	Hash        []byte `json:"hash"` // the SHA-256 state (encoding.BinaryMarshaler)
}

// NewInspector starts inspecting an envelope from its first byte.
func NewInspector() *Inspector {
	return &Inspector{st: inspectState{Phase: phasePrefix, Need: len(Magic) + 4}, h: sha256.New()}
}

// ResumeInspector continues from a state [Inspector.State] saved.
func ResumeInspector(state []byte) (*Inspector, error) {
	in := &Inspector{h: sha256.New()}
	if err := json.Unmarshal(state, &in.st); err != nil {
		return nil, fmt.Errorf("sealed: inspector state: %w", err)
	}
	if err := in.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(in.st.Hash); err != nil {
		return nil, fmt.Errorf("sealed: inspector state: %w", err)
	}
	if in.st.Phase < phasePrefix || in.st.Phase > phaseDone || in.st.Need < 0 || len(in.st.Field) > in.st.Need {
		return nil, fmt.Errorf("sealed: inspector state out of range")
	}
	return in, nil
}

// State is the inspector's state after the bytes written so far, to be
// resumed with [ResumeInspector]. An inspector that has found the envelope
// malformed has no state: its Err says why.
func (in *Inspector) State() ([]byte, error) {
	if in.err != nil {
		return nil, in.err
	}
	h, err := in.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}
	st := in.st
	st.Hash = h
	return json.Marshal(st)
}

// Err is the first fault found in the bytes written so far, if any.
func (in *Inspector) Err() error { return in.err }

// Written is how many bytes of the envelope the inspector has seen.
func (in *Inspector) Written() int64 { return in.st.Size }

// Write inspects the next bytes of the envelope. It never fails (so it can
// sit beside an upload in an io.TeeReader); a fault is kept in Err.
func (in *Inspector) Write(p []byte) (int, error) {
	n := len(p)
	if in.err != nil {
		return n, nil
	}
	in.h.Write(p)
	in.st.Size += int64(n)
	for len(p) > 0 && in.err == nil {
		switch in.st.Phase {
		case phaseBody:
			k := min(len(p), in.st.Need)
			in.st.Need -= k
			p = p[k:]
			if in.st.Need == 0 {
				in.endRecord()
			}
		case phaseDone:
			in.err = malformed("data after the final chunk")
		default:
			k := min(len(p), in.st.Need-len(in.st.Field))
			in.st.Field = append(in.st.Field, p[:k]...)
			p = p[k:]
			if len(in.st.Field) == in.st.Need {
				in.field()
			}
		}
	}
	return n, nil
}

// field takes a complete fixed-size field.
func (in *Inspector) field() {
	f := in.st.Field
	in.st.Field = nil
	switch in.st.Phase {
	case phasePrefix:
		n, err := headerLength([len(Magic) + 4]byte(f))
		if err != nil {
			in.err = err
			return
		}
		in.st.Phase, in.st.Need = phaseHeader, n
	case phaseHeader:
		h, err := parseHeader(f)
		if err != nil {
			in.err = err
			return
		}
		in.st.Header = h.Header
		in.st.Phase, in.st.Need = phaseRecord, 5
	case phaseRecord:
		final, n, err := checkRecord(in.st.Next, [5]byte(f), in.st.Header.ChunkSize)
		if err != nil {
			in.err = err
			return
		}
		in.st.Final, in.st.RecordLen = final, n
		if final {
			in.st.Phase, in.st.Need = phaseCommitment, commitSize
		} else {
			in.st.Phase, in.st.Need = phaseBody, n
		}
	case phaseCommitment:
		in.st.Commitment = f
		in.st.Phase, in.st.Need = phaseBody, in.st.RecordLen
	}
}

func (in *Inspector) endRecord() {
	in.st.Chunks++
	if in.st.Next > 0 {
		in.st.ContentSize += int64(in.st.RecordLen - tagSize)
	}
	in.st.Next++
	if in.st.Final {
		in.st.Phase, in.st.Need = phaseDone, 0
		return
	}
	in.st.Phase, in.st.Need = phaseRecord, 5
}

// Info ends the inspection: what [Inspect] reports of the same bytes, or
// why they are not a well-formed envelope.
func (in *Inspector) Info() (*Info, error) {
	switch {
	case in.err != nil:
		return nil, in.err
	case in.st.Phase == phasePrefix:
		return nil, ErrNotEnvelope
	case in.st.Phase == phaseHeader:
		return nil, fmt.Errorf("%w: in the header", ErrTruncated)
	case in.st.Phase != phaseDone:
		return nil, fmt.Errorf("%w: chunk %d missing or cut short", ErrTruncated, in.st.Next)
	}
	return &Info{Header: in.st.Header, Chunks: in.st.Chunks, ContentSize: in.st.ContentSize, Size: in.st.Size,
		SHA256: hex.EncodeToString(in.h.Sum(nil)), Commitment: hex.EncodeToString(in.st.Commitment)}, nil
}
