package sealed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/chromedp/chromedp"
)

const benchSize = 64 << 20

func benchEnvelope(b *testing.B) ([]byte, []byte, ContentKey) {
	key, _ := bidKey(b)
	ck, _ := NewContentKey("bench")
	pt := randomBytes(benchSize)
	env, _ := seal(b, key.Public, ck, pt, DefaultChunkSize)
	return pt, env, ck
}

// go test -run XXX -bench . ./bidding/sealed
func BenchmarkSeal(b *testing.B) {
	key, _ := bidKey(b)
	ck, _ := NewContentKey("bench")
	pt := randomBytes(benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := Seal(io.Discard, bytes.NewReader(pt), key.Public, ck, SealOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInspect(b *testing.B) {
	_, env, _ := benchEnvelope(b)
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := Inspect(bytes.NewReader(env)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	_, env, ck := benchEnvelope(b)
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := Open(bytes.NewReader(env), ck, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlainSHA256 is the floor Open is compared with: hashing the
// same bytes once.
func BenchmarkPlainSHA256(b *testing.B) {
	_, env, _ := benchEnvelope(b)
	b.SetBytes(benchSize)
	for b.Loop() {
		h := sha256.New()
		io.Copy(h, bytes.NewReader(env))
	}
}

// BenchmarkBrowserSeal seals 64 MB in Chromium with sealed.js, pieces
// counted and dropped as an upload would send them; reports MB/s.
func BenchmarkBrowserSeal(b *testing.B) {
	srv := newInteropServer(b)
	ctx := newChrome(b)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		b.Fatal(err)
	}
	key, _ := bidKey(b)
	pub := quote(b64std(MarshalPublicKey(key.Public)))
	for b.Loop() {
		ms := browserSeal(b, ctx, pub)
		b.ReportMetric(float64(benchSize>>20)/(ms/1000), "MB/s")
	}
}

func browserSeal(b *testing.B, ctx context.Context, pub string) float64 {
	return js[float64](b, ctx, `
		const one = crypto.getRandomValues(new Uint8Array(65536)), parts = [];
		for (let i = 0; i < %d; i++) parts.push(one);
		const blob = new Blob(parts);
		const t0 = performance.now();
		let n = 0;
		await GgzySealed.seal(blob, {publicKey: %s, contentKey: GgzySealed.newContentKey("bench"), part: 1}, (p) => { n += p.length; });
		if (n < %d) throw new Error("sealed only " + n);
		return performance.now() - t0;`, benchSize/65536, pub, benchSize)
}
