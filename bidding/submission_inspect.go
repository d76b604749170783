package bidding

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// Inspecting a part as its pieces stream in, in any order (EB1). Each
// piece goes through a sealed.PieceScanner on its way to the store, and
// its summary is saved in its own row (sealed_pieces), so pieces sent
// several at a time never wait for one another. Completing the part joins
// the summaries with sealed.JoinPieces, which refuses what sealed.Inspect
// refuses, but only when each summary is known to describe the bytes the
// store joins (streamedInfo: not by ETag alone, which is MD5). When they
// cannot decide (a piece that came before the first piece, a sender's
// broken SHA-256 chain, a piece sent twice at once, an attempt that died
// after the store may have kept it), the joined envelope is read back
// through sealed.Inspect: the verdict is the same either way, only the
// cost differs.

// SealedPiece is one piece's summary.
type SealedPiece struct {
	BidID    int64  `gorm:"column:bid_id;primaryKey"`
	Part     int    `gorm:"column:part;primaryKey"`
	N        int    `gorm:"column:n;primaryKey"`
	UploadID string `gorm:"column:upload_id"`
	// Attempt is the last attempt that claimed the piece; State is
	// PieceStreaming until that attempt's bytes are in the store and its
	// summary is written (PieceDone). Contended: some attempt at the piece
	// in this upload was claimed over while it was streaming.
	Attempt   int64   `gorm:"column:attempt"`
	State     string  `gorm:"column:state"`
	Contended bool    `gorm:"column:contended"`
	ETag      *string `gorm:"column:etag"`
	Scan      []byte  `gorm:"column:scan;type:jsonb"`
}

// The states of a piece's row.
const (
	PieceStreaming = "streaming"
	PieceDone      = "done"
)

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
	// Only a hint: JoinPieces checks the layout and the chain it gives.
	// Equivalent SQL: SELECT * FROM sealed_pieces WHERE bid_id = ? AND part = ? AND upload_id = ? AND state = 'done' AND n IN (1, n-1)
	if err := s.DB.WithContext(ctx).Where("bid_id = ? AND part = ? AND upload_id = ? AND state = ? AND n IN ?", p.BidID, p.Part, p.UploadID, PieceDone, []int{1, n - 1}).
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

// claimPiece claims piece n of p for a new attempt, in the transaction
// that holds the bid's lock (so never while CompletePart holds it), before
// the attempt sends a byte to the store: the row is the attempt's, its
// summary cleared. A row still streaming for the same upload means another
// attempt is in flight, or died after the store may have kept its bytes:
// the row is contended, for good in this upload.
func claimPiece(tx *gorm.DB, p *SealedPart, n int) (int64, error) {
	var attempt int64
	// The SET expressions read the row as it was before the claim.
	// Only on the part's current upload (belt and braces: restartPart
	// waits for the claim's lock on the bid, so p cannot be stale here).
	err := tx.Raw(`INSERT INTO sealed_pieces (bid_id, part, n, upload_id, attempt, state)
		SELECT sp.bid_id, sp.part, ?, sp.upload_id, nextval('sealed_piece_attempts'), 'streaming'
		FROM sealed_parts sp WHERE sp.bid_id = ? AND sp.part = ? AND sp.upload_id = ? AND sp.completed_at IS NULL
		ON CONFLICT (bid_id, part, n) DO UPDATE SET
			contended = sealed_pieces.upload_id = excluded.upload_id AND (sealed_pieces.contended OR sealed_pieces.state = 'streaming'),
			upload_id = excluded.upload_id, attempt = excluded.attempt, state = 'streaming', etag = NULL, scan = NULL
		RETURNING attempt`, n, p.BidID, p.Part, p.UploadID).Scan(&attempt).Error
	if err == nil && attempt == 0 {
		return 0, trading.Conflict("piece", "该部分已重新开始上传，请刷新后继续")
	}
	return attempt, err
}

// pieceScanned saves piece n's summary once the store has kept the piece
// (it returned etag), if the whole piece went through the scanner and the
// row is still this attempt's; otherwise the row stays streaming and the
// completion reads the envelope back.
func (s *Service) pieceScanned(ctx context.Context, p *SealedPart, n int, attempt int64, ps *sealed.PieceScanner, size int64, etag string) error {
	sc := ps.Scan()
	if sc.Size != size || etag == "" {
		return nil
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	// Equivalent SQL: UPDATE sealed_pieces SET state = 'done', etag = ?, scan = ?
	//   WHERE bid_id = ? AND part = ? AND n = ? AND attempt = ?
	return s.DB.WithContext(ctx).Model(&SealedPiece{}).Where("bid_id = ? AND part = ? AND n = ? AND attempt = ?", p.BidID, p.Part, n, attempt).
		Updates(map[string]any{"state": PieceDone, "etag": trimETag(etag), "scan": string(b)}).Error
}

// streamedInfo is the verdict from the summaries of the pieces the store
// is about to join; sealed.ErrPiecesIncomplete means read the joined
// envelope. It runs in CompletePart's transaction, which holds the bid
// FOR UPDATE from before this reads the rows until the store has joined
// the pieces.
//
// Why a summary used here describes the bytes the store joins, whatever
// their MD5: every attempt at piece n claims the row (claimPiece, under
// the bid's lock) before it sends a byte, and marks it done only on its
// own claim after the store returned, so a done row is the last claim's
// and its bytes are stored. Each earlier claim was claimed over; had it
// still been streaming then, the row would be contended, so it was done:
// its store write had returned before the next claim, hence before the
// last attempt's write began. So no write of piece n is in flight when
// the row is read, the last one to finish was the summary's, and none can
// start until the join (the lock): the store joins the summarised bytes.
// The ETag check is only a cross-check.
func (s *Service) streamedInfo(tx *gorm.DB, p *SealedPart, parts []minio.CompletePart) (*sealed.Info, error) {
	var rows []SealedPiece
	// Equivalent SQL: SELECT * FROM sealed_pieces WHERE bid_id = ? AND part = ? AND upload_id = ? ORDER BY n
	if err := tx.Where("bid_id = ? AND part = ? AND upload_id = ?", p.BidID, p.Part, p.UploadID).
		Order(clause.OrderByColumn{Column: clause.Column{Name: "n"}}).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) != len(parts) {
		return nil, sealed.ErrPiecesIncomplete
	}
	scans := make([]sealed.PieceScan, len(rows))
	for i, r := range rows {
		if r.State != PieceDone || r.Contended || r.ETag == nil || r.N != parts[i].PartNumber || *r.ETag != trimETag(parts[i].ETag) ||
			json.Unmarshal(r.Scan, &scans[i]) != nil {
			return nil, sealed.ErrPiecesIncomplete
		}
	}
	return sealed.JoinPieces(scans)
}

// SealedReadBacks counts the sealed parts this service inspected by
// reading the joined envelope back, because the pieces' summaries could
// not decide: what the browser's uploads should never need.
func (s *Service) SealedReadBacks() int64 { return s.readBacks.Load() }
