package trading

import (
	"context"
	"fmt"

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
