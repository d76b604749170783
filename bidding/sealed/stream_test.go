package sealed

import (
	"bytes"
	"crypto/sha256"
	"io"
	"runtime"
	"testing"
)

// patternReader yields n deterministic bytes and samples the live heap
// every sampleEvery bytes.
type patternReader struct {
	n, off, sampleEvery, nextSample int64
	state                           uint64
	maxLive                         uint64
	samples                         int
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n-p.off {
		b = b[:p.n-p.off]
	}
	for i := range b {
		p.state = p.state*6364136223846793005 + 1442695040888963407
		b[i] = byte(p.state >> 56)
	}
	p.off += int64(len(b))
	if p.off >= p.nextSample {
		p.nextSample += p.sampleEvery
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		p.maxLive = max(p.maxLive, m.HeapAlloc)
		p.samples++
	}
	return len(b), nil
}

// Sealing, inspecting and opening 200 MB at once keeps the live heap
// flat: a few chunks, not the file.
func TestStreamingMemoryIsFlat(t *testing.T) {
	// 200 MB through the race detector takes minutes: under -race (CI) 64 MB,
	// still four times the growth allowed below, sampled every 4 MB.
	size, every := int64(200<<20), int64(16<<20)
	if raceEnabled {
		size, every = 64<<20, 4<<20
	}
	key, _ := bidKey(t)
	ck, _ := NewContentKey("lot-1/bid-big")

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	src := &patternReader{n: size, sampleEvery: every, nextSample: every}
	want := sha256.New()
	toOpen, sealedW := io.Pipe()
	toInspect, inspectW := io.Pipe()
	sealErr := make(chan error, 1)
	go func() {
		_, err := Seal(io.MultiWriter(sealedW, inspectW), io.TeeReader(src, want), key.Public, ck, SealOptions{Name: "big.zip"})
		sealedW.CloseWithError(err)
		inspectW.CloseWithError(err)
		sealErr <- err
	}()
	type inspected struct {
		info *Info
		err  error
	}
	insp := make(chan inspected, 1)
	go func() {
		info, err := Inspect(toInspect)
		io.Copy(io.Discard, toInspect)
		insp <- inspected{info, err}
	}()
	got := sha256.New()
	o, err := Open(toOpen, ck, got)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	io.Copy(io.Discard, toOpen)
	if err := <-sealErr; err != nil {
		t.Fatalf("seal: %v", err)
	}
	in := <-insp
	if in.err != nil {
		t.Fatalf("inspect: %v", in.err)
	}
	if o.ContentSize != size || in.info.ContentSize != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("opened %d bytes (inspect %d), hash match %v", o.ContentSize, in.info.ContentSize, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
	if src.samples < 10 {
		t.Fatalf("only %d heap samples", src.samples)
	}
	grown := int64(src.maxLive) - int64(base.HeapAlloc)
	t.Logf("%d MB sealed, inspected and opened; live heap at most %.1f MB above the start (%d samples)", size>>20, float64(grown)/(1<<20), src.samples)
	if grown > 16<<20 {
		t.Errorf("live heap grew by %d bytes while streaming %d: not flat", grown, size)
	}
}
