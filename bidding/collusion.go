package bidding

// Collusion signals (K1, K3), for supervisors only: bids from one network
// address or device, identical ciphertexts or plaintexts, identical
// document metadata, and patterned prices (equal steps, near-identical).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/trading"
)

// docMeta keeps the first 1 MiB of a decrypted file to read its document
// metadata: a PDF's /Producer and /Author, a docx's company and creator
// (docProps/app.xml, core.xml stored uncompressed are found too).
type docMeta struct{ head []byte }

const docMetaLimit = 1 << 20

func (d *docMeta) Write(p []byte) (int, error) {
	if room := docMetaLimit - len(d.head); room > 0 {
		d.head = append(d.head, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

var (
	pdfProducer = regexp.MustCompile(`/Producer\s*\(([^)]{1,200})\)`)
	pdfAuthor   = regexp.MustCompile(`/Author\s*\(([^)]{1,200})\)`)
	xmlCompany  = regexp.MustCompile(`<Company>([^<]{1,200})</Company>`)
	xmlCreator  = regexp.MustCompile(`<dc:creator>([^<]{1,200})</dc:creator>`)
)

func firstMatch(b []byte, res ...*regexp.Regexp) string {
	for _, re := range res {
		if m := re.FindSubmatch(b); m != nil {
			return string(bytes.TrimSpace(m[1]))
		}
	}
	return ""
}

func (d *docMeta) producer() string { return firstMatch(d.head, pdfProducer, xmlCompany) }
func (d *docMeta) author() string   { return firstMatch(d.head, pdfAuthor, xmlCreator) }

// Signal is one collusion signal of a lot.
type Signal struct {
	Rule   string   `json:"rule"` // K1 or K3
	Kind   string   `json:"kind"` // same_address, same_device, same_ciphertext, same_plaintext, same_metadata, price_steps, near_prices
	Title  string   `json:"title"`
	Names  []string `json:"bidders"`
	Detail string   `json:"detail,omitempty"`
}

// CollusionSignals lists the signals of a lot's bids, for supervisors only,
// once the deadline has passed (before it, even that bids exist is secret).
func (s *Service) CollusionSignals(ctx context.Context, a trading.Actor, lotID int64) ([]Signal, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("串通投标预警只对交易中心监督人员显示")
	}
	db := s.DB.WithContext(ctx)
	_, lot, err := lotLite(db, lotID)
	if err != nil {
		return nil, err
	}
	now, err := trading.DBNow(db)
	if err != nil {
		return nil, err
	}
	if lot.BidDeadline == nil || now.Before(*lot.BidDeadline) {
		return nil, trading.Forbidden("投标截止前不显示投标信息（K4/K5）")
	}
	return s.signals(ctx, lotID)
}

// signals computes a lot's signals (the caller checks who and when).
func (s *Service) signals(ctx context.Context, lotID int64) ([]Signal, error) {
	db := s.DB.WithContext(ctx)
	type row struct {
		BidID  int64           `gorm:"column:id"`
		Name   string          `gorm:"column:name"`
		IP     string          `gorm:"column:ip"`
		Device string          `gorm:"column:device"`
		Price  *string         `gorm:"column:price"`
		Parts  json.RawMessage `gorm:"column:parts"`
	}
	var rows []row
	// Equivalent SQL: the submitted bids with their bidder, address, device, and the opening's price and parts.
	if err := db.Raw(`SELECT sb.id, b.name, sb.ip, sb.device, ob.price::text AS price, ob.parts
		FROM sealed_bids sb JOIN bidders b ON b.account_id = sb.bidder_id
		LEFT JOIN opening_bids ob ON ob.bid_id = sb.id
		WHERE sb.lot_id = ? AND sb.status = 'submitted' ORDER BY sb.id`, lotID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	var out []Signal
	group := func(rule, kind, title string, key func(r row) []string) {
		by := map[string][]string{}
		for _, r := range rows {
			for _, k := range key(r) {
				if k != "" {
					by[k] = append(by[k], r.Name)
				}
			}
		}
		keys := make([]string, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if names := by[k]; len(names) > 1 {
				out = append(out, Signal{Rule: rule, Kind: kind, Title: title, Names: names, Detail: k})
			}
		}
	}
	group("K1", "same_address", "多家投标人从同一网络地址上传投标文件", func(r row) []string { return []string{r.IP} })
	group("K3", "same_device", "多家投标人的投标文件由同一台设备上传", func(r row) []string { return []string{r.Device} })
	var cipher []struct {
		BidID  int64
		SHA256 string
	}
	db.Raw(`SELECT bid_id, sha256 FROM sealed_parts WHERE bid_id IN (SELECT id FROM sealed_bids WHERE lot_id = ? AND status = 'submitted') AND part > 0`, lotID).Scan(&cipher)
	ct := map[int64][]string{}
	for _, c := range cipher {
		ct[c.BidID] = append(ct[c.BidID], c.SHA256)
	}
	group("K1", "same_ciphertext", "投标文件密文完全相同", func(r row) []string { return ct[r.BidID] })
	plain := func(f func(PartOpened) string) func(r row) []string {
		return func(r row) []string {
			var ps []PartOpened
			json.Unmarshal(r.Parts, &ps)
			var out []string
			for _, p := range ps {
				if p.Part > 0 {
					out = append(out, f(p))
				}
			}
			return out
		}
	}
	group("K1", "same_plaintext", "投标文件内容完全相同（解密后）", plain(func(p PartOpened) string { return p.SHA256 }))
	group("K1", "same_metadata", "投标文件的文档属性相同（制作软件/作者/单位）", plain(func(p PartOpened) string {
		if p.Producer == "" && p.Author == "" {
			return ""
		}
		return "制作：" + p.Producer + "；作者：" + p.Author
	}))
	// Price patterns over the decrypted prices.
	type priced struct {
		name  string
		price decimal.Decimal
	}
	var ps []priced
	for _, r := range rows {
		if r.Price != nil {
			if d, err := decimal.NewFromString(*r.Price); err == nil {
				ps = append(ps, priced{r.Name, d})
			}
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].price.LessThan(ps[j].price) })
	if len(ps) >= 3 {
		step := ps[1].price.Sub(ps[0].price)
		equal := step.IsPositive()
		for i := 2; i < len(ps) && equal; i++ {
			equal = ps[i].price.Sub(ps[i-1].price).Equal(step)
		}
		if equal {
			names := make([]string, len(ps))
			for i, p := range ps {
				names[i] = p.name
			}
			out = append(out, Signal{Rule: "K1", Kind: "price_steps", Title: "投标报价呈等差排列", Names: names,
				Detail: fmt.Sprintf("相邻报价相差 %s 元", step.StringFixed(2))})
		}
	}
	for i := 1; i < len(ps); i++ {
		a, b := ps[i-1], ps[i]
		// Within 0.1 % of each other: near-identical.
		if b.price.Sub(a.price).Mul(decimal.NewFromInt(1000)).LessThanOrEqual(b.price) {
			out = append(out, Signal{Rule: "K1", Kind: "near_prices", Title: "投标报价异常接近（相差不超过0.1%）", Names: []string{a.name, b.name},
				Detail: a.price.StringFixed(2) + " / " + b.price.StringFixed(2)})
		}
	}
	return out, nil
}

// SealedSource puts the collusion signals of opened lots on the
// supervisors' dashboard (K1/K3); the hall page shows them per lot.
type SealedSource struct{ Svc *Service }

var _ trading.SupervisionSource = SealedSource{}

// Alerts lists the signals of the lots opened in the hall, newest first.
func (src SealedSource) Alerts(ctx context.Context, now time.Time, limit int) ([]trading.Alert, error) {
	var lots []struct {
		LotID     int64            `gorm:"column:lot_id"`
		Seq       int              `gorm:"column:seq"`
		Code      string           `gorm:"column:code"`
		Title     string           `gorm:"column:title"`
		StartedAt time.Time        `gorm:"column:started_at"`
		Category  trading.Category `gorm:"column:category"`
	}
	// Equivalent SQL: the hall openings, newest first, with their project.
	if err := src.Svc.DB.WithContext(ctx).Raw(`SELECT o.lot_id, l.seq, p.code, p.title, o.started_at, p.category
		FROM openings o JOIN lots l ON l.id = o.lot_id JOIN projects p ON p.id = l.project_id
		ORDER BY o.started_at DESC LIMIT ?`, limit).Scan(&lots).Error; err != nil {
		return nil, err
	}
	var out []trading.Alert
	for _, l := range lots {
		sigs, err := src.Svc.signals(ctx, l.LotID)
		if err != nil {
			return nil, err
		}
		for _, sg := range sigs {
			out = append(out, trading.Alert{Kind: "k1_" + sg.Kind, Rule: sg.Rule, Title: fmt.Sprintf("%s %s%d：%s", l.Title, l.Category.LotNoun(), l.Seq, sg.Title),
				Detail: strings.Join(sg.Names, "、") + "；" + sg.Detail, ProjectCode: l.Code, At: l.StartedAt, Link: fmt.Sprintf("/lots/%d/hall", l.LotID)})
			if len(out) >= limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// Timeline adds nothing: the hall's steps are in the audit log.
func (src SealedSource) Timeline(ctx context.Context, projectID int64) ([]trading.TimelineEvent, error) {
	return nil, nil
}
