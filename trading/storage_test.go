package trading

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

// Storage.Get reads an object whole, by Read and by WriteTo, the latter
// socket to socket when it writes to a server's response over TCP; a
// missing object fails at once.
func TestStorageGet(t *testing.T) {
	t.Parallel()
	s3 := testenv.Storage(t)
	st, err := NewStorage(StorageConfig{Endpoint: s3.Endpoint, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Bucket: s3.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 3<<20+12345) // more than one read and one buffer
	rand.Read(want)
	if _, err := st.Client.PutObject(ctx, st.Bucket, "test/get.bin", bytes.NewReader(want), int64(len(want)),
		minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	body, size, err := st.Get(ctx, "test/get.bin")
	if err != nil || size != int64(len(want)) {
		t.Fatalf("get: %d bytes, %v", size, err)
	}
	got, err := io.ReadAll(readerOnly{body})
	body.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read: %d bytes, equal %v, %v", len(got), bytes.Equal(got, want), err)
	}
	// Through an HTTP server's response, as a download streams it.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _, err := st.Get(r.Context(), "test/get.bin")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer body.Close()
		w.Header().Set("Content-Length", strconv.Itoa(len(want)))
		io.Copy(w, body)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	resp, err := http.Get("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("served: %d bytes, equal %v, %v", len(got), bytes.Equal(got, want), err)
	}
	if _, _, err := st.Get(ctx, "test/missing.bin"); err == nil {
		t.Fatal("a missing object opened")
	}
}

// A store that takes the connection and never answers fails the read when
// the wait is over, instead of holding it forever; an endpoint on port 80
// is dialled on port 80 (minio-go leaves it out of its URLs).
func TestStorageGetSilentStoreAndDefaultPort(t *testing.T) {
	// Not parallel: sets the package-level storageHeaderWait, which every storage read uses.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepted, never answered
		}
	}()
	st, err := NewStorage(StorageConfig{Endpoint: ln.Addr().String(), AccessKey: "k", SecretKey: "secretsecret", Bucket: "silent"})
	if err != nil {
		t.Fatal(err)
	}
	// The region is known, so presigning asks the silent store nothing.
	st.Client, _ = minio.New(ln.Addr().String(), &minio.Options{Creds: credentials.NewStaticV4("k", "secretsecret", ""), Region: "us-east-1"})
	defer func(d time.Duration) { storageHeaderWait = d }(storageHeaderWait)
	storageHeaderWait = 200 * time.Millisecond
	var ne net.Error
	if _, _, err := st.Get(context.Background(), "x"); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("a silent store: %v, want a timeout", err)
	}
	for _, c := range []struct{ url, want string }{
		{"http://minio.internal/b/x?X-Amz-Signature=s", "minio.internal:80"},
		{"http://10.0.0.5:9000/b/x", "10.0.0.5:9000"},
		{"http://[fd00::5]/b/x", "[fd00::5]:80"},
	} {
		u, _ := url.Parse(c.url)
		if got := dialAddress(u); got != c.want {
			t.Fatalf("dialAddress(%s) = %s, want %s", c.url, got, c.want)
		}
	}
}

// readerOnly hides WriteTo, so io.ReadAll reads.
type readerOnly struct{ io.Reader }
