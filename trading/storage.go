package trading

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// StorageConfig locates the S3-compatible object store (MinIO) that keeps
// tender documents, bid files and guarantee scans.
type StorageConfig struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	UseSSL    bool
}

// Storage is the bucket of the platform.
type Storage struct {
	Client *minio.Client
	Bucket string
}

// NewStorage connects to the object store (no request is made yet).
func NewStorage(cfg StorageConfig) (*Storage, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, fmt.Errorf("storage: endpoint and bucket are required")
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseSSL,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &Storage{Client: c, Bucket: cfg.Bucket}, nil
}

// EnsureBucket creates the bucket if it does not exist yet.
func (s *Storage) EnsureBucket(ctx context.Context) error {
	ok, err := s.Client.BucketExists(ctx, s.Bucket)
	if err != nil {
		return fmt.Errorf("storage: check bucket %s: %w", s.Bucket, err)
	}
	if ok {
		return nil
	}
	if err := s.Client.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{}); err != nil {
		// Another instance may have created it in the meantime.
		if ok, err2 := s.Client.BucketExists(ctx, s.Bucket); err2 == nil && ok {
			return nil
		}
		return fmt.Errorf("storage: create bucket %s: %w", s.Bucket, err)
	}
	return nil
}

// Ping checks that the store answers and the bucket is there.
func (s *Storage) Ping(ctx context.Context) error {
	ok, err := s.Client.BucketExists(ctx, s.Bucket)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("bucket %s does not exist", s.Bucket)
	}
	return nil
}

// Get opens an object for reading and gives its length, failing at once
// (not mid-stream) if it cannot be read. Over plain HTTP (the embedded
// store, or a store on the centre's private network) it is a GET by
// presigned URL on a connection of its own, whose body the returned reader
// can hand to the kernel (WriteTo): copied to a client's connection, it
// goes socket to socket and never through the platform's memory. Over TLS
// it is minio-go's plain GET.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	if s.Client.EndpointURL().Scheme != "http" {
		body, info, _, err := minio.Core{Client: s.Client}.GetObject(ctx, s.Bucket, key, minio.GetObjectOptions{})
		return body, info.Size, err
	}
	// The URL never leaves the platform; the long expiry only tolerates a
	// store whose clock is ahead of ours, as signed requests do (15 min).
	u, err := s.Client.PresignedGetObject(ctx, s.Bucket, key, 15*time.Minute, nil)
	if err != nil {
		return nil, 0, err
	}
	d := net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", dialAddress(u))
	if err != nil {
		return nil, 0, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // a caller gone ends the read
	fail := func(err error) (io.ReadCloser, int64, error) {
		stop()
		conn.Close()
		return nil, 0, err
	}
	// A store that takes the connection and says nothing: as long as
	// minio-go's own transport would wait for the headers.
	conn.SetDeadline(time.Now().Add(storageHeaderWait))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(err)
	}
	req.Close = true
	if err := req.Write(conn); err != nil {
		return fail(err)
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail(err)
	}
	conn.SetDeadline(time.Time{})
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return fail(fmt.Errorf("storage: GET %s: %s %s", key, resp.Status, msg))
	}
	if resp.ContentLength < 0 || len(resp.TransferEncoding) > 0 { // no length: read it as HTTP says
		return &rawObject{body: resp.Body, conn: conn, stop: stop}, -1, nil
	}
	// The headers are read; what the buffer holds beyond them is the start
	// of the body, and the rest is on the connection.
	prefix, _ := br.Peek(min(br.Buffered(), int(resp.ContentLength)))
	return &rawObject{prefix: append([]byte(nil), prefix...),
		rest: &io.LimitedReader{R: conn, N: resp.ContentLength - int64(len(prefix))}, conn: conn, stop: stop}, resp.ContentLength, nil
}

// storageHeaderWait bounds the wait for a store's answer (a variable: the
// tests wait less).
var storageHeaderWait = time.Minute

// dialAddress is host:port of a URL; minio-go leaves the default port out.
func dialAddress(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// rawObject is an object's body on a connection of its own.
type rawObject struct {
	body   io.ReadCloser     // a body without a length, read through HTTP
	prefix []byte            // else: the part read with the headers,
	rest   *io.LimitedReader // and the rest, straight from the connection
	conn   net.Conn
	stop   func() bool
}

func (o *rawObject) Read(p []byte) (int, error) {
	if o.body != nil {
		return o.body.Read(p)
	}
	if len(o.prefix) > 0 {
		n := copy(p, o.prefix)
		o.prefix = o.prefix[n:]
		return n, nil
	}
	n, err := o.rest.Read(p)
	if err == io.EOF && o.rest.N > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// WriteTo copies the body to w; when w is a client's connection (an
// http.ResponseWriter over TCP) the kernel splices the rest socket to
// socket.
func (o *rawObject) WriteTo(w io.Writer) (int64, error) {
	if o.body != nil {
		return io.Copy(w, o.body)
	}
	n, err := w.Write(o.prefix)
	o.prefix = nil
	if err != nil {
		return int64(n), err
	}
	m, err := io.Copy(w, o.rest)
	if err == nil && o.rest.N > 0 {
		err = io.ErrUnexpectedEOF
	}
	return int64(n) + m, err
}

func (o *rawObject) Close() error {
	o.stop()
	return o.conn.Close()
}
