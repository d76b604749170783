package sealed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ggzy/ggzy/templates"
)

// newChrome starts headless Chromium (Debian's) with the options of
// cmd/ggzy's journeys.
func newChrome(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv("GGZY_CHROMIUM")
	if path == "" {
		for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if found, err := exec.LookPath(p); err == nil {
				path = found
				break
			}
		}
	}
	if path == "" {
		t.Fatal("headless Chromium not found: run `make test`, which installs Debian's chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 300*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

// interopServer serves a page loading the embedded sealed.js under the
// platform's strict CSP, blobs for the browser to fetch, and a place for
// it to post envelopes.
type interopServer struct {
	*httptest.Server
	mu    sync.Mutex
	blobs map[string][]byte
}

func (s *interopServer) put(name string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobs[name] = b
}

func (s *interopServer) get(t *testing.T, name string) []byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blobs[name]
	if !ok {
		t.Fatalf("the browser posted no %s", name)
	}
	return b
}

func newInteropServer(t testing.TB) *interopServer {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &interopServer{blobs: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>sealed</title><script src="%s"></script></head><body>sealed</body></html>`, r.AssetPath("sealed.js"))
	})
	mux.HandleFunc("GET /static/{file}", func(w http.ResponseWriter, req *http.Request) { r.ServeStatic(w, req, req.PathValue("file")) })
	mux.HandleFunc("GET /blob/{name}", func(w http.ResponseWriter, req *http.Request) {
		s.mu.Lock()
		b, ok := s.blobs[req.PathValue("name")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Write(b)
	})
	mux.HandleFunc("POST /blob/{name}", func(w http.ResponseWriter, req *http.Request) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.put(req.PathValue("name"), b)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// js runs an async function body in the page and decodes its JSON result.
func js[T any](t testing.TB, ctx context.Context, body string, args ...any) T {
	t.Helper()
	var v T
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(async () => JSON.stringify(await (async () => { %s })()))()`, fmt.Sprintf(body, args...)), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("in the browser: %v", err)
	}
	if err := json.Unmarshal([]byte(res), &v); err != nil {
		t.Fatalf("browser said %s: %v", res, err)
	}
	return v
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func b64std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// The browser code and the Go code read each other's envelopes and key
// files, in real Chromium, both ways.
func TestBrowserInterop(t *testing.T) {
	srv := newInteropServer(t)
	ctx := newChrome(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if ok := js[bool](t, ctx, `return !!window.GgzySealed;`); !ok {
		t.Fatal("sealed.js did not load under the CSP")
	}

	t.Run("SHA-256 in JS agrees with WebCrypto", func(t *testing.T) {
		bad := js[[]int](t, ctx, `
			const bad = [];
			for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 1<<20]) {
				const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 255;
				const want = GgzySealed._hex(new Uint8Array(await crypto.subtle.digest("SHA-256", b)));
				if (GgzySealed._sha256(b) !== want) bad.push(n);
			}
			return bad;`)
		if len(bad) > 0 {
			t.Fatalf("JS SHA-256 differs from WebCrypto at lengths %v", bad)
		}
	})

	// The chaining values the browser sends with each upload piece are
	// Go's for the same envelope bytes (sealed records cut anywhere by the
	// piece boundaries), so the platform's hash chain closes; so is the
	// layout it states.
	t.Run("chaining values before each piece agree with Go", func(t *testing.T) {
		key, _ := bidKey(t)
		srv.put("chain-plain", randomBytes(300000))
		type chained struct {
			Chain  []string
			Layout string
		}
		for _, pieceSize := range []int{64, 257 * 64, 1 << 20} {
			c := js[chained](t, ctx, `
				const plain = await (await fetch("/blob/chain-plain")).blob();
				const s = await GgzySealed.sealToBlob(plain, {publicKey: %s, contentKey: GgzySealed.newContentKey("lot-1/bid-1"),
					part: 1, chunkSize: 4096, pieceSize: %d});
				await fetch("/blob/chain-env", {method: "POST", body: s.envelope});
				return {Chain: s.chain, Layout: s.layout};`, quote(b64std(MarshalPublicKey(key.Public))), pieceSize)
			env := srv.get(t, "chain-env")
			if l, err := ReadLayout(env[:min(len(env), LayoutBytes)]); err != nil || c.Layout != fmt.Sprintf("%d/%d", l.Base, l.Header.ChunkSize) {
				t.Fatalf("layout from the browser %q, Go %+v (%v)", c.Layout, l, err)
			}
			want := ChainValues(env, pieceSize)
			if len(c.Chain) < len(want) {
				t.Fatalf("piece size %d: %d chaining values from the browser, %d pieces", pieceSize, len(c.Chain), len(want))
			}
			for i, w := range want {
				if c.Chain[i] != b64std(w) {
					t.Fatalf("piece size %d: chaining value before piece %d: browser %s, Go %s", pieceSize, i+1, c.Chain[i], b64std(w))
				}
			}
		}
	})

	// Keys: one made in Go, one in the browser (600,000 PBKDF2 iterations).
	goKey, goKeyFile, err := NewKeyFile("Go 口令", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	srv.put("go-key", goKeyFile)
	type made struct {
		KeyFile, Fingerprint, PublicKey string
	}
	bk := js[made](t, ctx, `return await GgzySealed.generateKeyFile(%s);`, quote("浏览器口令"))
	browserKey, err := ReadKeyFile([]byte(bk.KeyFile), "浏览器口令")
	if err != nil {
		t.Fatalf("Go reads the browser's key file: %v", err)
	}
	if browserKey.Fingerprint != bk.Fingerprint {
		t.Fatalf("fingerprint %s in Go, %s in the browser", browserKey.Fingerprint, bk.Fingerprint)
	}
	if _, err := ReadKeyFile([]byte(bk.KeyFile), "wrong"); !errors.Is(err, ErrPassphrase) {
		t.Errorf("browser key file, wrong passphrase: %v", err)
	}
	srv.put("browser-key", []byte(bk.KeyFile))

	for _, size := range []int{0, 5, 3*MinChunkSize*16 + 12345} {
		t.Run(fmt.Sprintf("browser seals %d bytes, Go opens", size), func(t *testing.T) {
			pt := randomBytes(size)
			srv.put("plain", pt)
			type sealedJS struct {
				Commitment, Nonce, Token string
				ContentSize              int64
			}
			s := js[sealedJS](t, ctx, `
				const plain = await (await fetch("/blob/plain")).blob();
				const file = new File([plain], "投标文件.pdf", {type: "application/pdf"});
				const ck = GgzySealed.newContentKey("lot-7/bid-9");
				const s = await GgzySealed.sealToBlob(file, {publicKey: %s, contentKey: ck, part: 2, chunkSize: 65536});
				await fetch("/blob/from-browser", {method: "POST", body: s.envelope});
				const token = await GgzySealed.unwrapKey(s.envelope, (await (await fetch("/blob/browser-key")).text()), %s);
				if (token !== ck) throw new Error("unwrapped " + token + ", sealed with " + ck);
				return {Commitment: s.commitment, Nonce: s.nonce, Token: token, ContentSize: s.contentSize};`,
				quote(bk.PublicKey), quote("浏览器口令"))
			env := srv.get(t, "from-browser")
			info, err := Inspect(bytes.NewReader(env))
			if err != nil {
				t.Fatalf("Go inspects the browser's envelope: %v", err)
			}
			if info.Commitment != s.Commitment || info.ContentSize != int64(size) || info.Header.Part != 2 || info.Header.KeyFingerprint != bk.Fingerprint {
				t.Fatalf("inspect %+v, browser says %+v", info, s)
			}
			// The content key two ways: unwrapped in Go with the browser's
			// key file, and the token the browser unwrapped.
			h, _ := ReadHeader(bytes.NewReader(env))
			goCK, err := UnwrapKey(h, browserKey.Private)
			if err != nil || goCK.String() != s.Token {
				t.Fatalf("Go unwraps %v (%v), browser %s", goCK, err, s.Token)
			}
			tok, err := ParseContentKey(s.Token)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			o, err := Open(bytes.NewReader(env), tok, &out)
			if err != nil {
				t.Fatalf("Go opens the browser's envelope: %v", err)
			}
			if !bytes.Equal(out.Bytes(), pt) || o.Name != "投标文件.pdf" || o.Type != "application/pdf" {
				t.Fatalf("opened %d bytes named %q %q", out.Len(), o.Name, o.Type)
			}
			if err := VerifyBackup(bytes.NewReader(pt), s.Nonce, s.Commitment); err != nil {
				t.Errorf("backup against the browser's commitment: %v", err)
			}
		})
	}

	t.Run("Go seals, the browser unwraps and opens", func(t *testing.T) {
		pt := randomBytes(2*MinChunkSize*16 + 999)
		ck, _ := NewContentKey("lot-7/bid-10")
		var env bytes.Buffer
		s, err := Seal(&env, bytes.NewReader(pt), goKey.Public, ck, SealOptions{Part: 3, Name: "开标一览表.json", Type: "application/json", ChunkSize: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		srv.put("from-go", env.Bytes())
		tampered := bytes.Clone(env.Bytes())
		tampered[len(tampered)-100] ^= 0x80
		srv.put("from-go-tampered", tampered)
		type openedJS struct {
			Token, Name, Type, Commitment, Nonce, SHA256                            string
			Size                                                                    int
			Tampered, OtherBid, WrongPassphrase, WrongKeyFile, NotSealed, Truncated string
			Extractable                                                             bool
		}
		o := js[openedJS](t, ctx, `
			const env = await (await fetch("/blob/from-go")).blob();
			const goKey = await (await fetch("/blob/go-key")).text();
			const token = await GgzySealed.unwrapKey(env, goKey, %s);
			const o = await GgzySealed.open(env, token);
			const sum = GgzySealed._hex(new Uint8Array(await crypto.subtle.digest("SHA-256", await o.blob.arrayBuffer())));
			const code = async (f) => { try { await f(); return "no error"; } catch (e) { return e.code || String(e); } };
			const tampered = await (await fetch("/blob/from-go-tampered")).blob();
			return {Token: token, Name: o.name, Type: o.type, Commitment: o.commitment, Nonce: o.nonce, SHA256: sum, Size: o.contentSize,
				Tampered: await code(() => GgzySealed.open(tampered, token)),
				OtherBid: await code(() => GgzySealed.open(env, GgzySealed.newContentKey("lot-7/bid-11"))),
				WrongPassphrase: await code(() => GgzySealed.unwrapKey(env, goKey, "wrong")),
				WrongKeyFile: await code(async () => GgzySealed.unwrapKey(env, await (await fetch("/blob/browser-key")).text(), %s)),
				NotSealed: await code(() => GgzySealed.open(new Blob(["%%PDF-1.7"]), token)),
				Truncated: await code(() => GgzySealed.open(env.slice(0, env.size - 10), token)),
				Extractable: (await GgzySealed.readKeyFile(goKey, %s)).privateKey.extractable};`,
			quote("Go 口令"), quote("浏览器口令"), quote("Go 口令"))
		sum := sha256.Sum256(pt)
		if o.Token != ck.String() || o.Name != "开标一览表.json" || o.Type != "application/json" || o.Size != len(pt) ||
			o.SHA256 != hex.EncodeToString(sum[:]) || o.Commitment != hex.EncodeToString(s.Commitment[:]) {
			t.Fatalf("browser opened %+v", o)
		}
		for _, c := range [][3]string{{"tampered", o.Tampered, "ErrTampered"}, {"other bid", o.OtherBid, "ErrKeyForOtherBid"},
			{"wrong passphrase", o.WrongPassphrase, "ErrPassphrase"}, {"wrong key file", o.WrongKeyFile, "ErrWrongKey"}, {"not sealed", o.NotSealed, "ErrNotEnvelope"}, {"truncated", o.Truncated, "ErrTruncated"}} {
			if c[1] != c[2] {
				t.Errorf("browser, %s: %q, want %q", c[0], c[1], c[2])
			}
		}
		if o.Extractable {
			t.Error("the private key read from a key file is extractable in the browser")
		}
		if err := VerifyBackup(bytes.NewReader(pt), o.Nonce, o.Commitment); err != nil {
			t.Errorf("backup with the nonce the browser read: %v", err)
		}
		if !strings.HasPrefix(o.Token, "ck1.lot-7/bid-10.") {
			t.Errorf("token %q", o.Token)
		}
	})
}
