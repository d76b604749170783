package bidding

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/ggzy/ggzy/bidding/sealed"
)

// Inspecting a part as it streams in (EB1). Each piece that arrives in
// turn goes through a sealed.Inspector on its way to the store, and the
// inspector's state is saved with the part between requests, so
// completing the part need not read the whole envelope back. A piece sent
// again, two requests racing for one piece, or a saved state that does not
// match what the store holds (its pieces' ETags) make the completion fall
// back to reading the joined envelope through sealed.Inspect: the verdict
// is the same either way, only the cost differs.

// pieceInspection is what sealed_parts.inspection holds: the inspector's
// state and the ETag the store gave each piece it inspected.
type pieceInspection struct {
	State []byte   `json:"state"`
	ETags []string `json:"etags"`
}

func trimETag(s string) string { return strings.Trim(s, `"`) }

// pieceInspector is the inspector for piece n of p, or nil when n is not
// the next piece in turn. A piece already inspected that comes again (a
// resume, a retry) gives up the streamed inspection before it is stored.
func (s *Service) pieceInspector(ctx context.Context, p *SealedPart, n int) (*sealed.Inspector, *pieceInspection, error) {
	switch {
	case p.InspectedPieces < 0:
		return nil, nil, nil
	case n <= p.InspectedPieces:
		return nil, nil, s.giveUpInspection(ctx, p)
	case n > p.InspectedPieces+1:
		return nil, nil, nil // out of turn: the count will not reach the pieces
	case n == 1:
		return sealed.NewInspector(), &pieceInspection{}, nil
	}
	var pi pieceInspection
	if err := json.Unmarshal(p.Inspection, &pi); err != nil || len(pi.ETags) != p.InspectedPieces {
		return nil, nil, s.giveUpInspection(ctx, p)
	}
	in, err := sealed.ResumeInspector(pi.State)
	if err != nil {
		return nil, nil, s.giveUpInspection(ctx, p)
	}
	return in, &pi, nil
}

// giveUpInspection marks the part for inspection at completion.
func (s *Service) giveUpInspection(ctx context.Context, p *SealedPart) error {
	// Equivalent SQL: UPDATE sealed_parts SET inspected_pieces = -1, inspection = NULL
	//   WHERE bid_id = ? AND part = ? AND upload_id = ? AND completed_at IS NULL
	return s.DB.WithContext(ctx).Model(&SealedPart{}).
		Where("bid_id = ? AND part = ? AND upload_id = ? AND completed_at IS NULL", p.BidID, p.Part, p.UploadID).
		Updates(map[string]any{"inspected_pieces": -1, "inspection": nil}).Error
}

// pieceInspected saves the state after piece n, if no other request moved
// the part's inspection meanwhile; otherwise, or when the piece was not
// read whole or the envelope is already malformed, the completion inspects
// the joined envelope (and refuses it with Inspect's own words).
func (s *Service) pieceInspected(ctx context.Context, p *SealedPart, n int, in *sealed.Inspector, pi *pieceInspection, start, size int64, etag string) error {
	st, err := in.State()
	if err != nil || in.Written()-start != size || etag == "" {
		return s.giveUpInspection(ctx, p)
	}
	pi.State, pi.ETags = st, append(pi.ETags, trimETag(etag))
	b, err := json.Marshal(pi)
	if err != nil {
		return err
	}
	// Equivalent SQL: UPDATE sealed_parts SET inspected_pieces = n, inspection = ?
	//   WHERE bid_id = ? AND part = ? AND upload_id = ? AND completed_at IS NULL AND inspected_pieces = n - 1
	res := s.DB.WithContext(ctx).Model(&SealedPart{}).
		Where("bid_id = ? AND part = ? AND upload_id = ? AND completed_at IS NULL AND inspected_pieces = ?", p.BidID, p.Part, p.UploadID, n-1).
		Updates(map[string]any{"inspected_pieces": n, "inspection": b})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return s.giveUpInspection(ctx, p)
	}
	return nil
}

// streamedInfo is the envelope's inspection from its pieces as they
// streamed in, when it covers exactly the pieces the store joins; nil
// means read the joined envelope.
func streamedInfo(p *SealedPart, parts []minio.CompletePart) *sealed.Info {
	if p.InspectedPieces != len(parts) {
		return nil
	}
	var pi pieceInspection
	if err := json.Unmarshal(p.Inspection, &pi); err != nil || len(pi.ETags) != len(parts) {
		return nil
	}
	for i, cp := range parts {
		if cp.PartNumber != i+1 || trimETag(cp.ETag) != pi.ETags[i] {
			return nil
		}
	}
	in, err := sealed.ResumeInspector(pi.State)
	if err != nil {
		return nil
	}
	info, err := in.Info()
	if err != nil {
		return nil
	}
	return info
}
