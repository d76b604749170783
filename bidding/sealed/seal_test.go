package sealed

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testKeyOnce sync.Once
	testKey     *BidKey
	testKeyFile []byte
)

// bidKey is one key for the package's tests: PBKDF2 at 600,000 iterations
// is slow on purpose, more so under -race.
func bidKey(t testing.TB) (*BidKey, []byte) {
	t.Helper()
	testKeyOnce.Do(func() {
		var err error
		testKey, testKeyFile, err = NewKeyFile("正确的口令 correct horse", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
		if err != nil {
			panic(err)
		}
	})
	return testKey, testKeyFile
}

func seal(t testing.TB, pub *ecdh.PublicKey, ck ContentKey, pt []byte, chunk int) ([]byte, *Sealed) {
	t.Helper()
	var env bytes.Buffer
	s, err := Seal(&env, bytes.NewReader(pt), pub, ck, SealOptions{Part: 1, Name: "投标文件.pdf", Type: "application/pdf", ChunkSize: chunk})
	if err != nil {
		t.Fatal(err)
	}
	return env.Bytes(), s
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// A plaintext of every interesting length seals and opens back, the
// commitment matches, and Inspect agrees with the sealer.
func TestRoundTrip(t *testing.T) {
	key, _ := bidKey(t)
	const chunk = MinChunkSize
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3*chunk + 17} {
		ck, err := NewContentKey("lot-7/bid-42")
		if err != nil {
			t.Fatal(err)
		}
		pt := randomBytes(n)
		env, s := seal(t, key.Public, ck, pt, chunk)

		info, err := Inspect(bytes.NewReader(env))
		if err != nil {
			t.Fatalf("%d bytes: inspect: %v", n, err)
		}
		sum := sha256.Sum256(env)
		if info.SHA256 != hex.EncodeToString(sum[:]) || info.Size != int64(len(env)) || info.ContentSize != int64(n) ||
			info.Commitment != hex.EncodeToString(s.Commitment[:]) || info.Header != s.Header {
			t.Fatalf("%d bytes: inspect says %+v, sealer %+v", n, info, s)
		}
		for _, piece := range []int{1, 5, 12, 33, chunk + 16, len(env) + 1} {
			got, err := inspectInPieces(t, env, piece)
			if err != nil || *got != *info {
				t.Fatalf("%d bytes in pieces of %d: inspector says %+v (%v), Inspect %+v", n, piece, got, err, info)
			}
		}
		wantChunks := uint64(1 + max(1, (n+chunk-1)/chunk))
		if info.Chunks != wantChunks {
			t.Errorf("%d bytes: %d chunks, want %d", n, info.Chunks, wantChunks)
		}

		// The bidder's side: unwrap with the private key.
		h, err := ReadHeader(bytes.NewReader(env))
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnwrapKey(h, key.Private)
		if err != nil || got != ck {
			t.Fatalf("%d bytes: unwrap: %v", n, err)
		}
		tok, err := ParseContentKey(got.String())
		if err != nil || tok != ck {
			t.Fatalf("token %q: %v", got.String(), err)
		}

		var out bytes.Buffer
		o, err := Open(bytes.NewReader(env), tok, &out)
		if err != nil {
			t.Fatalf("%d bytes: open: %v", n, err)
		}
		if !bytes.Equal(out.Bytes(), pt) || o.Name != "投标文件.pdf" || o.Type != "application/pdf" || o.Commitment != s.Commitment || o.Nonce != s.Nonce {
			t.Fatalf("%d bytes: opened %d bytes %+v", n, out.Len(), o)
		}
		out.Reset()
		oh, err := OpenHashing(bytes.NewReader(env), tok, &out)
		if err != nil || !bytes.Equal(out.Bytes(), pt) || oh.SHA256 != sha256.Sum256(pt) || oh.Commitment != s.Commitment {
			t.Fatalf("%d bytes: open hashing: %+v %v", n, oh, err)
		}
		if err := VerifyBackup(bytes.NewReader(pt), hex.EncodeToString(s.Nonce[:]), info.Commitment); err != nil {
			t.Errorf("%d bytes: backup: %v", n, err)
		}
		if n > 0 {
			bad := bytes.Clone(pt)
			bad[n/2] ^= 1
			if err := VerifyBackup(bytes.NewReader(bad), hex.EncodeToString(s.Nonce[:]), info.Commitment); !errors.Is(err, ErrCommitment) {
				t.Errorf("%d bytes: altered backup: %v, want ErrCommitment", n, err)
			}
		}
	}
}

// layout finds each chunk record of an envelope: [start, end) offsets.
func layout(t *testing.T, env []byte) (headerEnd int, recs [][2]int) {
	t.Helper()
	n := int(binary.BigEndian.Uint32(env[len(Magic):]))
	off := len(Magic) + 4 + n
	headerEnd = off
	for off < len(env) {
		l := int(binary.BigEndian.Uint32(env[off+1:]))
		end := off + 5 + l
		if env[off] == flagFinal {
			end += commitSize
		}
		recs = append(recs, [2]int{off, end})
		off = end
	}
	return headerEnd, recs
}

// Every way of tampering with an envelope is refused with its own error,
// and the key checks tell a wrong key from a key for another bid.
func TestTampering(t *testing.T) {
	key, _ := bidKey(t)
	ck, _ := NewContentKey("lot-7/bid-42")
	pt := randomBytes(4*MinChunkSize + 100)
	env, _ := seal(t, key.Public, ck, pt, MinChunkSize)
	headerEnd, recs := layout(t, env)
	if len(recs) != 6 {
		t.Fatalf("%d records, want manifest + 5 chunks", len(recs))
	}
	headerStart := len(Magic) + 4
	flip := func(at int) []byte { b := bytes.Clone(env); b[at] ^= 0x01; return b }
	replaceHeader := func(old, new string) []byte {
		h := strings.Replace(string(env[headerStart:headerEnd]), old, new, 1)
		if h == string(env[headerStart:headerEnd]) {
			t.Fatalf("header has no %q", old)
		}
		var b bytes.Buffer
		b.WriteString(Magic)
		binary.Write(&b, binary.BigEndian, uint32(len(h)))
		b.WriteString(h)
		b.Write(env[headerEnd:])
		return b.Bytes()
	}
	cut := func(parts ...[2]int) []byte {
		b := bytes.Clone(env[:headerEnd])
		for _, p := range parts {
			b = append(b, env[p[0]:p[1]]...)
		}
		return b
	}
	otherCK, _ := NewContentKey("lot-7/bid-43")
	otherEnv, _ := seal(t, key.Public, otherCK, pt, MinChunkSize)
	wrongKey := ck
	wrongKey.Key[0] ^= 1
	last := recs[5]
	saltAt := headerStart + bytes.Index(env[headerStart:headerEnd], []byte(`"salt":"`)) + len(`"salt":"`)
	aSalt, otherSalt := env[saltAt], byte('A')
	if aSalt == 'A' {
		otherSalt = 'B'
	}

	cases := []struct {
		name    string
		env     []byte
		key     ContentKey
		want    error
		inspect error // what Inspect says without a key (nil: well-formed)
	}{
		{"not an envelope (a PDF)", []byte("%PDF-1.7\n..."), ck, ErrNotEnvelope, ErrNotEnvelope},
		{"empty", nil, ck, ErrNotEnvelope, ErrNotEnvelope},
		{"flipped byte in header salt", replaceHeader(`"salt":"`+string(aSalt), `"salt":"`+string(otherSalt)), ck, ErrTampered, nil},
		{"flipped byte in header JSON", flip(headerStart), ck, ErrMalformed, ErrMalformed},
		{"suite downgrade", replaceHeader(SuiteP256, "P256-HKDF-SHA256-AES128GCM-v1"), ck, ErrUnsupportedSuite, ErrUnsupportedSuite},
		{"flipped byte in manifest", flip(recs[0][0] + 5 + 3), ck, ErrTampered, nil},
		{"flipped byte in chunk", flip(recs[2][0] + 5 + 100), ck, ErrTampered, nil},
		{"flipped byte in tag", flip(recs[2][1] - 1), ck, ErrTampered, nil},
		{"flipped byte in final commitment", flip(last[0] + 5), ck, ErrTampered, nil},
		{"flipped final flag", flip(last[0]), ck, ErrMalformed, ErrMalformed},
		{"flipped non-final flag", flip(recs[3][0]), ck, ErrMalformed, ErrMalformed},
		{"truncated last chunk", env[:len(env)-7], ck, ErrTruncated, ErrTruncated},
		{"dropped last chunk", cut(recs[:5]...), ck, ErrTruncated, ErrTruncated},
		{"dropped middle chunk", cut(recs[0], recs[1], recs[3], recs[4], recs[5]), ck, ErrTampered, nil},
		{"reordered chunks", cut(recs[0], recs[2], recs[1], recs[3], recs[4], recs[5]), ck, ErrTampered, nil},
		{"trailing data", append(bytes.Clone(env), 0), ck, ErrMalformed, ErrMalformed},
		{"chunk of another envelope", append(cut(recs[:5]...), otherEnv[len(otherEnv)-(last[1]-last[0]):]...), ck, ErrTampered, nil},
		{"wrong key", env, wrongKey, ErrWrongKey, nil},
		{"key for another bid", env, otherCK, ErrKeyForOtherBid, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Open(bytes.NewReader(c.env), c.key, &out)
			if !errors.Is(err, c.want) {
				t.Errorf("Open: %v, want %v", err, c.want)
			}
			_, err = Inspect(bytes.NewReader(c.env))
			if c.inspect == nil && err != nil || c.inspect != nil && !errors.Is(err, c.inspect) {
				t.Errorf("Inspect: %v, want %v", err, c.inspect)
			}
			// Fed in pieces with its state saved between them, the same verdict.
			_, err = inspectInPieces(t, c.env, 7)
			if c.inspect == nil && err != nil || c.inspect != nil && !errors.Is(err, c.inspect) {
				t.Errorf("Inspector: %v, want %v", err, c.inspect)
			}
		})
	}
}

// A sealer that committed to other bytes than it sealed is caught at the
// opening: a failed check is a failed decryption, never a silent skip.
func TestLyingCommitment(t *testing.T) {
	key, _ := bidKey(t)
	ck, _ := NewContentKey("lot-7/bid-44")
	env := resealWithCommitment(t, key.Public, ck, randomBytes(MinChunkSize+5), sha256.Sum256([]byte("not the plaintext")))
	if _, err := Inspect(bytes.NewReader(env)); err != nil {
		t.Fatalf("Inspect: %v (the framing is sound)", err)
	}
	if _, err := Open(bytes.NewReader(env), ck, io.Discard); !errors.Is(err, ErrCommitment) {
		t.Fatalf("Open: %v, want ErrCommitment", err)
	}
}

// resealWithCommitment writes an envelope whose chunks authenticate but
// whose commitment is not SHA-256(nonce || plaintext).
func resealWithCommitment(t *testing.T, pub *ecdh.PublicKey, ck ContentKey, pt []byte, commitment [32]byte) []byte {
	t.Helper()
	env, _ := seal(t, pub, ck, pt, MinChunkSize)
	h, err := readHeader(bytes.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	_, recs := layout(t, env)
	last := recs[len(recs)-1]
	aead, base := payloadCipher(&ck.Key, h.salt)
	i := uint64(len(recs) - 1)
	ct := env[last[0]+5+commitSize : last[1]]
	plain, err := aead.Open(nil, chunkNonce(nil, base, i), ct, chunkAAD(nil, &h.hash, i, true, env[last[0]+5:last[0]+5+commitSize]))
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Clone(env[:last[0]+5])
	out = append(out, commitment[:]...)
	out = append(out, aead.Seal(nil, chunkNonce(nil, base, i), plain, chunkAAD(nil, &h.hash, i, true, commitment[:]))...)
	return out
}

func TestContentKeyToken(t *testing.T) {
	for _, bad := range []string{"", "ck1.", "ck1.bid", "ck2.bid.AAAA", "ck1.b d." + strings.Repeat("A", 43), "ck1.bid." + strings.Repeat("A", 42)} {
		if _, err := ParseContentKey(bad); !errors.Is(err, ErrWrongKey) {
			t.Errorf("%q: %v, want ErrWrongKey", bad, err)
		}
	}
	if _, err := NewContentKey("bid with space"); err == nil {
		t.Error("a bid reference with a space is accepted")
	}
}

// Garbage never panics the parser, and whatever Inspect accepts Open reads
// with the same framing verdict.
func FuzzInspect(f *testing.F) {
	key, _ := bidKey(f)
	ck, _ := NewContentKey("fuzz")
	for _, n := range []int{0, 10, MinChunkSize + 1} {
		env, _ := seal(f, key.Public, ck, randomBytes(n), MinChunkSize)
		f.Add(env)
	}
	f.Add([]byte(Magic + "\x00\x00\x00\x02{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Inspect(bytes.NewReader(data))
		if err == nil {
			if info.Size != int64(len(data)) || info.Header.Suite != SuiteP256 {
				t.Fatalf("accepted %d bytes as %+v", len(data), info)
			}
		}
		_, oerr := Open(bytes.NewReader(data), ck, io.Discard)
		if err != nil && oerr == nil {
			t.Fatalf("Inspect refuses (%v) what Open accepts", err)
		}
		for _, piece := range []int{3, 4096} {
			pinfo, perr := inspectInPieces(t, data, piece)
			if (perr == nil) != (err == nil) || err == nil && *pinfo != *info {
				t.Fatalf("in pieces of %d the inspector says %+v (%v), Inspect %+v (%v)", piece, pinfo, perr, info, err)
			}
		}
	})
}

// A header with the same values in another encoding (spaces, other key
// case, a duplicate key) is refused: one header, one byte string.
func TestHeaderIsCanonical(t *testing.T) {
	key, _ := bidKey(t)
	ck, _ := NewContentKey("lot-7/bid-45")
	env, _ := seal(t, key.Public, ck, randomBytes(10), MinChunkSize)
	n := int(binary.BigEndian.Uint32(env[len(Magic):]))
	raw := string(env[len(Magic)+4 : len(Magic)+4+n])
	for _, h := range []string{
		strings.Replace(raw, `"v":1,`, `"v": 1,`, 1),
		strings.Replace(raw, `"suite":`, `"Suite":`, 1),
		strings.Replace(raw, `"v":1,`, `"v":1,"part":0,`, 1),
	} {
		var b bytes.Buffer
		b.WriteString(Magic)
		binary.Write(&b, binary.BigEndian, uint32(len(h)))
		b.WriteString(h)
		b.Write(env[len(Magic)+4+n:])
		if _, err := Inspect(&b); !errors.Is(err, ErrMalformed) {
			t.Errorf("header %s: %v, want ErrMalformed", h, err)
		}
	}
	if rule, msg := Explain(fmt.Errorf("wrapped: %w", ErrNotEnvelope)); rule != "EB1" || !strings.Contains(msg, "未加密") {
		t.Errorf("Explain(ErrNotEnvelope) = %s %s", rule, msg)
	}
}

// inspectInPieces feeds env to an Inspector piece bytes at a time, saving
// and resuming its state between pieces, as the upload does between
// requests.
func inspectInPieces(t testing.TB, env []byte, piece int) (*Info, error) {
	t.Helper()
	in := NewInspector()
	for off := 0; off < len(env); off += piece {
		in.Write(env[off:min(off+piece, len(env))])
		st, err := in.State()
		if err != nil {
			if in.Err() == nil {
				t.Fatalf("State: %v with no fault", err)
			}
			return nil, err
		}
		if in, err = ResumeInspector(st); err != nil {
			t.Fatal(err)
		}
	}
	return in.Info()
}
