package bidding

import (
	"context"

	"github.com/ggzy/ggzy/trading"
)

// AnnouncementDocuments lists the documents that go out with an announcement, for the
// supervisor's review page (trading.Service.AnnouncementDocuments): an opening
// announcement releases every lot's original documents (version 1), an amendment
// the clarifications (later versions). Bidders' application materials
// never go out. Supervisors download them at /documents/:id.
func (s *Service) AnnouncementDocuments(ctx context.Context, p *trading.Project, n *trading.Announcement) ([]trading.AnnouncementDocument, error) {
	var version string
	switch {
	case n.Type.IsOpening():
		version = "d.version = 1"
	case n.Type == trading.AnnouncementAmendment:
		version = "d.version > 1"
	default:
		return nil, nil
	}
	var rows []struct {
		Document
		LotSeq int `gorm:"column:lot_seq"`
	}
	// Equivalent SQL: the project's documents of those versions, by lot.
	err := s.DB.WithContext(ctx).Table("documents d").Select("d.*, l.seq AS lot_seq").Joins("JOIN lots l ON l.id = d.lot_id").
		Where("l.project_id = ? AND d.kind <> ? AND "+version, p.ID, DocMaterial).
		Order("l.seq, d.version, d.created_at, d.id").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]trading.AnnouncementDocument, len(rows))
	for i, r := range rows {
		v := DocumentView{Document: r.Document}
		out[i] = trading.AnnouncementDocument{ID: r.ID, LotSeq: r.LotSeq, Filename: r.Filename, Kind: r.Kind.Name(), Version: r.Version,
			Size: v.SizeText(), SHA256: r.SHA256, Released: r.ReleasedAt != nil}
	}
	return out, nil
}
