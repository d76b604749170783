package bidding

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding/sealed"
)

// Inspecting a part as its pieces stream in, in any order (EB1). Each
// piece goes through a sealed.PieceScanner on its way to the store, and
// its summary is saved in its own row (sealed_pieces), so pieces sent
// several at a time never wait for one another. Completing the part joins
// the summaries of exactly the pieces the store holds (same upload, same
// ETags) with sealed.JoinPieces, which refuses what sealed.Inspect
// refuses. When they cannot decide (a piece that came before the first
// piece, a sender's broken SHA-256 chain, a summary lost between the store
// and the database), the joined envelope is read back through
// sealed.Inspect: the verdict is the same either way, only the cost
// differs.

// SealedPiece is one piece's summary.
type SealedPiece struct {
	BidID    int64  `gorm:"column:bid_id;primaryKey"`
	Part     int    `gorm:"column:part;primaryKey"`
	N        int    `gorm:"column:n;primaryKey"`
	UploadID string `gorm:"column:upload_id"`
	ETag     string `gorm:"column:etag"`
	Scan     []byte `gorm:"column:scan;type:jsonb"`
}

func (SealedPiece) TableName() string { return "sealed_pieces" }

// PieceClaims is what a sender states with a piece so that it can be
// inspected whatever order the pieces arrive in; JoinPieces checks both
// against the pieces themselves, so a wrong claim only costs a read back.
type PieceClaims struct {
	// Before is the SHA-256 chaining value of the envelope before the piece
	// (HeaderChainValue; sealed.ChainValues, or sealToBlob in the browser).
	// Without it a piece is hashed only when the piece before it was.
	Before []byte
	// Layout is the envelope's layout (HeaderLayout), for a piece that
	// comes before piece 1. Without it such a piece is not scanned.
	Layout *sealed.Layout
}

// HeaderChainValue and HeaderLayout are the request headers of the claims:
// base64 of the 32-byte chaining value, and "<base>/<chunk_size>" (where
// content record 1 starts, and the header's chunk_size).
const (
	HeaderChainValue = "X-Ggzy-Sha256-Before"
	HeaderLayout     = "X-Ggzy-Envelope-Layout"
)

// DecodeChainValue reads the chaining value header; anything else is nil.
func DecodeChainValue(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil
	}
	return b
}

// DecodeLayout reads the layout header; anything else is nil.
func DecodeLayout(s string) *sealed.Layout {
	b, c, ok := strings.Cut(s, "/")
	base, err1 := strconv.ParseInt(b, 10, 64)
	chunk, err2 := strconv.Atoi(c)
	if !ok || err1 != nil || err2 != nil {
		return nil
	}
	return sealed.ClaimedLayout(base, chunk)
}

func trimETag(s string) string { return strings.Trim(s, `"`) }

// pieceScanner is the scanner for piece n of p: the first piece reads its
// own layout; a later one takes the first piece's summary from this upload
// if it is there, else the sender's layout. Its starting hash is the
// sender's chaining value, or else the end of the piece before, if that
// one is summarised.
func (s *Service) pieceScanner(ctx context.Context, p *SealedPart, n int, claims PieceClaims) (*sealed.PieceScanner, error) {
	offset := int64(n-1) * PieceSize
	if n == 1 {
		return sealed.NewPieceScanner(0, nil, nil), nil
	}
	before, layout := claims.Before, claims.Layout
	var rows []SealedPiece
	// Equivalent SQL: SELECT * FROM sealed_pieces WHERE bid_id = ? AND part = ? AND upload_id = ? AND n IN (1, n-1)
	if err := s.DB.WithContext(ctx).Where("bid_id = ? AND part = ? AND upload_id = ? AND n IN ?", p.BidID, p.Part, p.UploadID, []int{1, n - 1}).
		Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		var sc sealed.PieceScan
		if json.Unmarshal(r.Scan, &sc) != nil {
			continue
		}
		if r.N == 1 && sc.Layout != nil {
			layout = sc.Layout
		}
		if r.N == n-1 && before == nil && len(sc.After) >= 36 {
			before = sc.After[4:36]
		}
	}
	return sealed.NewPieceScanner(offset, layout, before), nil
}

// pieceScanned saves piece n's summary, if the whole piece went through
// the scanner and the part is still on the same upload; otherwise the
// completion does without it.
func (s *Service) pieceScanned(ctx context.Context, p *SealedPart, n int, ps *sealed.PieceScanner, size int64, etag string) error {
	sc := ps.Scan()
	if sc.Size != size || etag == "" {
		return nil
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	// Equivalent SQL: INSERT INTO sealed_pieces (bid_id, part, n, upload_id, etag, scan)
	//   SELECT bid_id, part, n, upload_id, ?, ? FROM sealed_parts WHERE bid_id = ? AND part = ? AND upload_id = ? AND completed_at IS NULL
	//   ON CONFLICT (bid_id, part, n) DO UPDATE SET upload_id = excluded.upload_id, etag = excluded.etag, scan = excluded.scan
	return s.DB.WithContext(ctx).Exec(`INSERT INTO sealed_pieces (bid_id, part, n, upload_id, etag, scan)
		SELECT bid_id, part, ?, upload_id, ?, ? FROM sealed_parts WHERE bid_id = ? AND part = ? AND upload_id = ? AND completed_at IS NULL
		ON CONFLICT (bid_id, part, n) DO UPDATE SET upload_id = excluded.upload_id, etag = excluded.etag, scan = excluded.scan`,
		n, trimETag(etag), string(b), p.BidID, p.Part, p.UploadID).Error
}

// dropPieces forgets the summaries of a part (joined, or started over).
func (s *Service) dropPieces(ctx context.Context, bidID int64, part int) error {
	return s.DB.WithContext(ctx).Where("bid_id = ? AND part = ?", bidID, part).Delete(&SealedPiece{}).Error
}

// streamedInfo is the verdict from the summaries of the pieces the store
// joins; sealed.ErrPiecesIncomplete means read the joined envelope.
func (s *Service) streamedInfo(ctx context.Context, p *SealedPart, parts []minio.CompletePart) (*sealed.Info, error) {
	var rows []SealedPiece
	// Equivalent SQL: SELECT * FROM sealed_pieces WHERE bid_id = ? AND part = ? AND upload_id = ? ORDER BY n
	if err := s.DB.WithContext(ctx).Where("bid_id = ? AND part = ? AND upload_id = ?", p.BidID, p.Part, p.UploadID).
		Order(clause.OrderByColumn{Column: clause.Column{Name: "n"}}).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) != len(parts) {
		return nil, sealed.ErrPiecesIncomplete
	}
	scans := make([]sealed.PieceScan, len(rows))
	for i, r := range rows {
		if r.N != parts[i].PartNumber || r.ETag != trimETag(parts[i].ETag) || json.Unmarshal(r.Scan, &scans[i]) != nil {
			return nil, sealed.ErrPiecesIncomplete
		}
	}
	return sealed.JoinPieces(scans)
}

// partInfo is the envelope's inspection: from the pieces' summaries, or
// else read back whole.
func (s *Service) partInfo(ctx context.Context, p *SealedPart, parts []minio.CompletePart) (*sealed.Info, error) {
	info, err := s.streamedInfo(ctx, p, parts)
	if errors.Is(err, sealed.ErrPiecesIncomplete) {
		s.readBacks.Add(1)
		return s.inspectPart(ctx, p)
	}
	return info, err
}

// SealedReadBacks counts the sealed parts this service inspected by
// reading the joined envelope back, because the pieces' summaries could
// not decide: what the browser's uploads should never need.
func (s *Service) SealedReadBacks() int64 { return s.readBacks.Load() }
