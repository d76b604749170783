package bidding

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ggzy/ggzy/trading"
)

// RegistrationSource is what registration and documents show on a
// project's supervision timeline (统一现场监督): how many registered per
// lot, and every document uploaded. Only supervisors see the timeline, and
// trading audits each of their looks before a deadline (K4/K5). platform.Wire
// puts it into trading.Service.Supervision.
type RegistrationSource struct{ Svc *Service }

var _ trading.SupervisionSource = RegistrationSource{}

// Alerts: registration raises none of its own.
func (RegistrationSource) Alerts(context.Context, time.Time, int) ([]trading.Alert, error) {
	return nil, nil
}

// Timeline lists, per lot, the registration count by status (at the time of
// the latest registration) and each document uploaded or released.
func (src RegistrationSource) Timeline(ctx context.Context, projectID int64) ([]trading.TimelineEvent, error) {
	db := src.Svc.DB.WithContext(ctx)
	var cat trading.Category // names the lots: 标段, 包, 地块, 标的
	if err := db.Raw("SELECT category FROM projects WHERE id = ?", projectID).Scan(&cat).Error; err != nil {
		return nil, err
	}
	noun := cat.LotNoun()
	var counts []struct {
		LotID  int64              `gorm:"column:lot_id"`
		Seq    int                `gorm:"column:seq"`
		Kind   RegistrationKind   `gorm:"column:kind"`
		Status RegistrationStatus `gorm:"column:status"`
		N      int                `gorm:"column:n"`
		Last   time.Time          `gorm:"column:last"`
	}
	// updated_at is left out: GORM's Save stamps it with the wall clock, not
	// the service's. Equivalent SQL: SELECT r.lot_id, l.seq, r.kind, r.status,
	//   count(*), max(greatest(created_at, reviewed_at, withdrawn_at))
	//   FROM registrations r JOIN lots l … WHERE l.project_id = ? GROUP BY 1, 2, 3, 4
	if err := db.Table("registrations r").Select("r.lot_id, l.seq, r.kind, r.status, count(*) AS n, max(greatest(r.created_at, r.reviewed_at, r.withdrawn_at)) AS last").
		Joins("JOIN lots l ON l.id = r.lot_id").Where("l.project_id = ?", projectID).
		Group("r.lot_id, l.seq, r.kind, r.status").Order("l.seq, r.status").Scan(&counts).Error; err != nil {
		return nil, err
	}
	type lotCount struct {
		seq   int
		kind  RegistrationKind
		live  int
		parts []string
		last  time.Time
	}
	var order []int64
	byLot := map[int64]*lotCount{}
	for _, c := range counts {
		lc := byLot[c.LotID]
		if lc == nil {
			lc = &lotCount{seq: c.Seq, kind: c.Kind}
			byLot[c.LotID] = lc
			order = append(order, c.LotID)
		}
		if c.Status.Live() {
			lc.live += c.N
		}
		lc.parts = append(lc.parts, fmt.Sprintf("%s %d", c.Status.Name(), c.N))
		if c.Last.After(lc.last) {
			lc.last = c.Last
		}
	}
	var out []trading.TimelineEvent
	for _, id := range order {
		lc := byLot[id]
		out = append(out, trading.TimelineEvent{At: lc.last, Kind: "registration",
			Title:  fmt.Sprintf("%s%d %s：有效 %d 家", noun, lc.seq, lc.kind.Name(), lc.live),
			Detail: strings.Join(lc.parts, "，") + "（截至最近一次变动）", Link: fmt.Sprintf("/supervisor/lots/%d/registrations", id)})
	}

	var docs []struct {
		Document
		Seq int `gorm:"column:seq"`
	}
	if err := db.Table("documents d").Select("d.*, l.seq").Joins("JOIN lots l ON l.id = d.lot_id").
		Where("l.project_id = ?", projectID).Order("d.created_at DESC, d.id DESC").Limit(500).Scan(&docs).Error; err != nil {
		return nil, err
	}
	for _, d := range docs {
		out = append(out, trading.TimelineEvent{At: d.CreatedAt, Kind: "document",
			Title:  fmt.Sprintf("上传%s《%s》第%d版（%s%d）", d.Kind.Name(), d.Filename, d.Version, noun, d.Seq),
			Detail: fmt.Sprintf("%d 字节，SHA-256 %s", d.Size, d.SHA256), Link: fmt.Sprintf("/supervisor/lots/%d/registrations", d.LotID)})
		if d.ReleasedAt != nil && d.Kind != DocMaterial {
			out = append(out, trading.TimelineEvent{At: *d.ReleasedAt, Kind: "document",
				Title: fmt.Sprintf("发布%s《%s》第%d版（%s%d）", d.Kind.Name(), d.Filename, d.Version, noun, d.Seq)})
		}
	}
	return out, nil
}
