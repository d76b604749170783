package trading

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

// Storage.Get reads an object whole, by Read and by WriteTo, the latter
// socket to socket when it writes to a server's response over TCP; a
// missing object fails at once.
func TestStorageGet(t *testing.T) {
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
	body, err := st.Get(ctx, "test/get.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(readerOnly{body})
	body.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read: %d bytes, equal %v, %v", len(got), bytes.Equal(got, want), err)
	}
	// Through an HTTP server's response, as a download streams it.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := st.Get(r.Context(), "test/get.bin")
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
	if _, err := st.Get(ctx, "test/missing.bin"); err == nil {
		t.Fatal("a missing object opened")
	}
}

// readerOnly hides WriteTo, so io.ReadAll reads.
type readerOnly struct{ io.Reader }
