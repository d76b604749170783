package bidding

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/minio/minio-go/v7"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ggzy/ggzy/bidding/sealed"
	"github.com/ggzy/ggzy/trading"
)

// sealedAuditID is the audit object id of a sealed bid: its lot first, so
// trading.ListAudit can keep it hidden until the lot's deadline (K4/K5).
func sealedAuditID(lotID int64, ref string) string { return fmt.Sprintf("%d/%s", lotID, ref) }

func (s *Service) abortUpload(ctx context.Context, key, uploadID string) {
	if uploadID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := minio.Core{Client: s.Storage.Client}.AbortMultipartUpload(ctx, s.Storage.Bucket, key, uploadID)
	if err != nil && s.Log != nil {
		s.Log.Debug("abort sealed part upload", "key", key, "err", err)
	}
}

// ownBid loads a bid version of the bidder, locked; another bidder's is
// "not found" exactly like one that does not exist (K4/K5).
func ownBid(tx *gorm.DB, a trading.Actor, bidID int64) (*SealedBid, error) {
	return lockOwnBid(tx, a, bidID, "UPDATE")
}

// lockOwnBid is ownBid with the lock's strength: SHARE for a piece, which
// changes nothing of the bid, so the pieces sent together do not wait for
// one another; finalising and withdrawing take it for UPDATE.
func lockOwnBid(tx *gorm.DB, a trading.Actor, bidID int64, strength string) (*SealedBid, error) {
	var b SealedBid
	err := tx.Clauses(clause.Locking{Strength: strength}).Where("id = ? AND bidder_id = ?", bidID, a.AccountID).Take(&b).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, trading.NotFound("投标文件")
	}
	return &b, err
}

// uploadingPart checks that a part of one's own version may still take
// pieces: uploading, before the deadline, the part not yet complete.
func (s *Service) uploadingPart(tx *gorm.DB, a trading.Actor, bidID int64, part int) (*SealedBid, *SealedPart, error) {
	return s.lockUploadingPart(tx, a, bidID, part, "UPDATE")
}

// lockUploadingPart is uploadingPart with the bid's lock strength.
func (s *Service) lockUploadingPart(tx *gorm.DB, a trading.Actor, bidID int64, part int, strength string) (*SealedBid, *SealedPart, error) {
	b, err := lockOwnBid(tx, a, bidID, strength)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.admitBid(tx, a, b.LotID); err != nil {
		return nil, nil, err
	}
	if b.Status != BidUploading {
		return nil, nil, trading.Conflict("bid_id", "该版本投标文件%s，不能再上传", b.Status.Name())
	}
	var p SealedPart
	err = tx.Where("bid_id = ? AND part = ?", bidID, part).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, trading.NotFound("投标文件部分")
	}
	if err != nil {
		return nil, nil, err
	}
	if p.CompletedAt != nil {
		return nil, nil, trading.Conflict("part", "该部分已上传完成")
	}
	return b, &p, nil
}

// maxPieces is how many pieces a part may have: the size limit of a file
// (or of the price form) plus the envelope's framing (21 bytes a MiB).
func (s *Service) maxPieces(part int) int {
	if part == 0 {
		return 1
	}
	limit := s.MaxUpload + s.MaxUpload/1000 + 1<<20
	return int((limit + PieceSize - 1) / PieceSize)
}

// PutPiece stores piece n (1-based) of a part, streamed to the store with
// its declared length. A piece sent again replaces the one stored. Pieces
// may come several at a time and in any order.
func (s *Service) PutPiece(ctx context.Context, a trading.Actor, bidID int64, part, n int, body io.Reader, size int64) error {
	return s.PutPieceClaimed(ctx, a, bidID, part, n, body, size, PieceClaims{})
}

// PutPieceClaimed is PutPiece with what the sender states of the envelope
// (its SHA-256 chaining value before this piece, its layout), so a piece
// that comes before the pieces preceding it is inspected all the same.
func (s *Service) PutPieceClaimed(ctx context.Context, a trading.Actor, bidID int64, part, n int, body io.Reader, size int64, claims PieceClaims) error {
	var p *SealedPart
	var attempt int64
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if _, p, err = s.lockUploadingPart(tx, a, bidID, part, "SHARE"); err != nil {
			return err
		}
		if n < 1 || n > s.maxPieces(part) {
			return trading.Invalid("piece", "分片序号应为1至%d（文件超过 %d MB 的上限）", s.maxPieces(part), s.MaxUpload>>20)
		}
		if size <= 0 || size > PieceSize || (part == 0 && size > maxPriceEnvelope) {
			return trading.Invalid("piece", "分片大小应为1至%d字节（须声明 Content-Length）", min(int64(PieceSize), map[bool]int64{true: maxPriceEnvelope, false: PieceSize}[part == 0]))
		}
		// Before any byte goes to the store (see streamedInfo).
		attempt, err = claimPiece(tx, p, n)
		return err
	})
	if err != nil {
		return err
	}
	ps, err := s.pieceScanner(ctx, p, n, claims)
	if err != nil {
		return err
	}
	body = io.TeeReader(body, ps) // EB1 as the bytes go by
	op, err := minio.Core{Client: s.Storage.Client}.PutObjectPart(ctx, s.Storage.Bucket, p.ObjectKey, p.UploadID, n, body, size, minio.PutObjectPartOptions{})
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, io.ErrUnexpectedEOF) {
			return interrupted(err)
		}
		var mr minio.ErrorResponse
		if errors.As(err, &mr) && mr.StatusCode < 500 && mr.Code != "NoSuchUpload" {
			return trading.Invalid("piece", "分片未保存：%s", mr.Message)
		}
		if errors.As(err, &mr) && mr.Code == "NoSuchUpload" {
			return trading.Conflict("bid_id", "该版本的上传已结束，请重新递交")
		}
		return interrupted(err)
	}
	return s.pieceScanned(ctx, p, n, attempt, ps, size, op.ETag)
}

// PieceInfo is a piece the store holds.
type PieceInfo struct {
	N    int   `json:"n"`
	Size int64 `json:"size"`
}

// PartStatus tells the bidder's browser which pieces of a part the store
// holds, so an upload broken off resumes from there.
func (s *Service) PartStatus(ctx context.Context, a trading.Actor, bidID int64, part int) ([]PieceInfo, bool, error) {
	var p SealedPart
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := ownBid(tx, a, bidID); err != nil {
			return err
		}
		err := tx.Where("bid_id = ? AND part = ?", bidID, part).Take(&p).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return trading.NotFound("投标文件部分")
		}
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if p.CompletedAt != nil {
		return nil, true, nil
	}
	pieces, err := s.listPieces(ctx, &p)
	return pieces, false, err
}

func (s *Service) listPieces(ctx context.Context, p *SealedPart) ([]PieceInfo, error) {
	core := minio.Core{Client: s.Storage.Client}
	var out []PieceInfo
	marker := 0
	for {
		res, err := core.ListObjectParts(ctx, s.Storage.Bucket, p.ObjectKey, p.UploadID, marker, 1000)
		if err != nil {
			return nil, fmt.Errorf("list pieces of %s: %w", p.ObjectKey, err)
		}
		for _, op := range res.ObjectParts {
			out = append(out, PieceInfo{N: op.PartNumber, Size: op.Size})
		}
		if !res.IsTruncated {
			break
		}
		marker = res.NextPartNumberMarker
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}

// CompletePart joins a part's pieces in the store and inspects the
// envelope without any key, streaming (EB1): magic, header, suite, the
// framing of every chunk; its bid reference, part index and key must be
// this version's. A refused envelope is deleted and the part starts over.
func (s *Service) CompletePart(ctx context.Context, a trading.Actor, bidID int64, part int) (*SealedPart, error) {
	// Once the pieces are joined, the completion goes to its end (the
	// part's new state, or its restart) even if the bidder's connection
	// drops: cut short after the join, the database would still name an
	// upload the store has finished, and the version could take no more.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Minute)
	defer cancel()
	var b *SealedBid
	var p *SealedPart
	var fp string
	var info *sealed.Info
	var ierr error
	// The bid stays locked FOR UPDATE from reading the pieces' summaries
	// until the store has joined the pieces: no attempt at a piece can be
	// claimed in between, which streamedInfo's argument needs.
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if b, p, err = s.uploadingPart(tx, a, bidID, part); err != nil {
			return err
		}
		if err := tx.Model(&BidKey{}).Where("id = ?", b.KeyID).Select("fingerprint").Scan(&fp).Error; err != nil {
			return err
		}
		pieces, err := s.listPieces(ctx, p)
		if err != nil {
			return err
		}
		if len(pieces) == 0 {
			return trading.Invalid("part", "该部分尚未上传任何内容")
		}
		for i, pc := range pieces {
			if pc.N != i+1 {
				return trading.Invalid("part", "缺少第%d个分片，请继续上传", i+1)
			}
			if i < len(pieces)-1 && pc.Size != PieceSize {
				return trading.Invalid("part", "第%d个分片大小应为 %d 字节", pc.N, PieceSize)
			}
		}
		res, err := minio.Core{Client: s.Storage.Client}.ListObjectParts(ctx, s.Storage.Bucket, p.ObjectKey, p.UploadID, 0, 10000)
		if err != nil {
			return err
		}
		cps := make([]minio.CompletePart, len(pieces))
		for i, op := range res.ObjectParts {
			if i < len(cps) {
				cps[i] = minio.CompletePart{PartNumber: op.PartNumber, ETag: op.ETag}
			}
		}
		// Inspected as the pieces streamed in, if the summaries decide (EB1).
		info, ierr = s.streamedInfo(tx, p, cps)
		if ierr != nil && !errors.Is(ierr, sealed.ErrPiecesIncomplete) && !isSealedError(ierr) {
			return ierr // the database's, not a verdict: nothing joined, nothing deleted
		}
		if _, err := (minio.Core{Client: s.Storage.Client}).CompleteMultipartUpload(ctx, s.Storage.Bucket, p.ObjectKey, p.UploadID, cps, minio.PutObjectOptions{}); err != nil {
			return fmt.Errorf("join the pieces of %s: %w", p.ObjectKey, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if errors.Is(ierr, sealed.ErrPiecesIncomplete) {
		// Or else read back whole (EB1).
		s.readBacks.Add(1)
		info, ierr = s.inspectPart(ctx, p)
	}
	if ierr == nil {
		switch {
		case info.Header.Bid != b.Ref:
			ierr = fmt.Errorf("%w: the envelope is of bid %q", sealed.ErrMalformed, info.Header.Bid)
		case info.Header.Part != part:
			ierr = fmt.Errorf("%w: the envelope is part %d", sealed.ErrMalformed, info.Header.Part)
		case info.Header.KeyFingerprint != fp:
			ierr = fmt.Errorf("%w: the envelope is sealed to another key", sealed.ErrMalformed)
		case part == 0 && info.Size > maxPriceEnvelope:
			ierr = fmt.Errorf("%w: price form too large", sealed.ErrMalformed)
		}
	}
	if ierr != nil {
		// Start the part over: the refused envelope goes, a new upload opens.
		s.removeObject(ctx, p.ObjectKey, true)
		var refused *trading.Error
		if errors.As(ierr, &refused) {
			return nil, refused
		}
		if !isSealedError(ierr) {
			return nil, ierr
		}
		up, err := minio.Core{Client: s.Storage.Client}.NewMultipartUpload(ctx, s.Storage.Bucket, p.ObjectKey, minio.PutObjectOptions{ContentType: "application/octet-stream"})
		if err == nil {
			err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return restartPart(tx, bidID, part, up) })
		}
		if err != nil {
			return nil, err
		}
		return nil, sealedRefusal(fmt.Sprintf("parts[%d]", part), ierr)
	}
	err = trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		b, p2, err := s.uploadingPart(tx, a, bidID, part)
		if err != nil {
			return err
		}
		now := s.Clock.Now()
		p2.Size, p2.SHA256, p2.Commitment, p2.CompletedAt, p2.UploadID = &info.Size, &info.SHA256, &info.Commitment, &now, ""
		// Equivalent SQL: UPDATE sealed_parts SET size = ?, sha256 = ?, commitment = ?, completed_at = ?, upload_id = ''
		//   WHERE bid_id = ? AND part = ?
		if err := tx.Model(&SealedPart{}).Where("bid_id = ? AND part = ?", bidID, part).Updates(map[string]any{"size": info.Size,
			"sha256": info.SHA256, "commitment": info.Commitment, "completed_at": now, "upload_id": ""}).Error; err != nil {
			return err
		}
		// Equivalent SQL: DELETE FROM sealed_pieces WHERE bid_id = ? AND part = ?
		if err := tx.Where("bid_id = ? AND part = ?", bidID, part).Delete(&SealedPiece{}).Error; err != nil {
			return err
		}
		p = p2
		return trading.Audit(tx, now, a, "sealed_bid.part", "sealed_bid", sealedAuditID(b.LotID, b.Ref),
			fmt.Sprintf("第%d版第%d部分上传完成：%d 字节，密文 SHA-256 %s，承诺值 %s", b.Version, part, info.Size, info.SHA256, info.Commitment))
	})
	if err != nil {
		var de *trading.Error
		if errors.As(err, &de) && de.Err == ErrBidDeadline {
			s.removeObject(ctx, p.ObjectKey, true)
		}
		return nil, err
	}
	return p, nil
}

// restartPart puts a refused part on its new upload and forgets the
// summaries of the old one, in one transaction; a piece claimed on the new
// upload meanwhile keeps its row.
func restartPart(tx *gorm.DB, bidID int64, part int, up string) error {
	// The bid's row FOR UPDATE first, as CompletePart takes it: a piece's
	// claim holds it FOR SHARE from reading the part's upload until its
	// commit, so no claim can write a row for the old upload after the
	// restart (which would reset the new upload's contended flag).
	// Equivalent SQL: SELECT id FROM sealed_bids WHERE id = ? FOR UPDATE
	var locked []int64
	if err := tx.Model(&SealedBid{}).Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", bidID).Pluck("id", &locked).Error; err != nil {
		return err
	}
	// Equivalent SQL: UPDATE sealed_parts SET upload_id = ? WHERE bid_id = ? AND part = ? AND completed_at IS NULL
	if err := tx.Model(&SealedPart{}).Where("bid_id = ? AND part = ? AND completed_at IS NULL", bidID, part).Update("upload_id", up).Error; err != nil {
		return err
	}
	// Equivalent SQL: DELETE FROM sealed_pieces WHERE bid_id = ? AND part = ? AND upload_id <> ?
	return tx.Where("bid_id = ? AND part = ? AND upload_id <> ?", bidID, part, up).Delete(&SealedPiece{}).Error
}

func isSealedError(err error) bool {
	for _, e := range []error{sealed.ErrNotEnvelope, sealed.ErrUnsupportedSuite, sealed.ErrMalformed, sealed.ErrTruncated, sealed.ErrTampered} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// inspectPart streams a stored part through sealed.Inspect.
func (s *Service) inspectPart(ctx context.Context, p *SealedPart) (*sealed.Info, error) {
	r, _, err := s.Storage.Get(ctx, p.ObjectKey)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p.ObjectKey, err)
	}
	defer r.Close()
	return sealed.Inspect(r)
}
