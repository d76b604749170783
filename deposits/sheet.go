package deposits

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"github.com/ggzy/ggzy/bidding"
	"github.com/ggzy/ggzy/trading"
)

// SheetRow is one virtual account of a project's deposit sheet: the same
// positions as the bidder's page (position.go).
type SheetRow struct {
	VirtualAccountID int64            `gorm:"column:va_id"`
	Category         trading.Category `gorm:"column:category"` // names the lot: 标段, 包, 地块, 标的
	LotSeq           int              `gorm:"column:lot_seq"`
	LotName          string           `gorm:"column:lot_name"`
	Bidder           string           `gorm:"column:bidder"`
	IDNumber         string           `gorm:"column:id_number"`
	Account          string           `gorm:"column:account"`
	Required         decimal.Decimal  `gorm:"column:required"`
	Deadline         time.Time        `gorm:"column:deadline"`
	Registered       string           `gorm:"column:registration_status"`
	Position         `gorm:"-"`
	State            string `gorm:"-"`
}

// DepositSheet lists a project's virtual accounts with what each received
// (supervisors; it names the bidders, so each look is audited, K4/K5).
func (s *Service) DepositSheet(ctx context.Context, a trading.Actor, projectCode string) ([]SheetRow, error) {
	if a.Role != trading.RoleSupervisor {
		return nil, trading.Forbidden("只有交易中心监督可以导出保证金台账")
	}
	var rows []SheetRow
	err := trading.Transact(ctx, s.DB, func(tx *gorm.DB) error {
		var projectID int64
		if err := tx.Raw("SELECT id FROM projects WHERE code = ?", projectCode).Scan(&projectID).Error; err != nil {
			return err
		}
		if projectID == 0 {
			return trading.NotFound("交易项目")
		}
		// Equivalent SQL: one row per virtual account of the project's lots,
		// with its inflows summed by what became of them.
		if err := tx.Raw(`SELECT va.id AS va_id, p.category, l.seq AS lot_seq, l.name AS lot_name, b.name AS bidder, b.id_number, va.number AS account,
				va.required, va.deadline, r.status AS registration_status
			FROM virtual_accounts va JOIN lots l ON l.id = va.lot_id JOIN projects p ON p.id = l.project_id JOIN bidders b ON b.account_id = va.bidder_id
			JOIN registrations r ON r.id = va.registration_id
			WHERE l.project_id = ?
			GROUP BY p.category, l.seq, l.name, b.name, b.id_number, va.number, va.required, r.status, va.id
			ORDER BY l.seq, va.created_at, va.id`, projectID).Scan(&rows).Error; err != nil {
			return err
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.VirtualAccountID
		}
		positions, err := positionsOf(tx, ids)
		if err != nil {
			return err
		}
		now := s.now()
		for i := range rows {
			r := &rows[i]
			r.Position = positions[r.VirtualAccountID]
			r.State = r.Position.State(r.Required, r.Deadline, r.Registered == string(bidding.StatusWithdrawn), now)
		}
		return trading.Audit(tx, s.now(), a, "deposit.sheet", "project", projectCode, fmt.Sprintf("导出保证金台账（%d个子账号）", len(rows)))
	})
	return rows, err
}

// WriteDepositSheet writes the sheet as .xlsx with Chinese headers and
// amounts as numbers formatted to the fen.
func WriteDepositSheet(w io.Writer, projectCode string, rows []SheetRow) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "保证金台账"
	f.SetSheetName("Sheet1", sheet)
	noun, bidder := trading.AnyLot, "投标人（竞买人）"
	if len(rows) > 0 {
		noun, bidder = rows[0].Category.LotNoun(), rows[0].Category.BidderRole()
	}
	headers := []string{noun, noun + "名称", bidder, "统一社会信用代码/身份证号", "虚拟子账号", "报名状态", "应缴金额（元）", "有效缴纳（元）",
		"无效到账（元）", "已退还（元）", "已没收（元）", "退还中（元）", "已转为成交价款（元）", "在账有效（元）", "差额（元）", "保证金状态"}
	for i, h := range headers {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		f.SetCellValue(sheet, cell, h)
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	f.SetRowStyle(sheet, 1, 1, bold)
	for r, row := range rows {
		n := r + 2
		// The registration's status in Chinese (已报名, 已撤回, …), not its code.
		values := []any{row.LotSeq, row.LotName, row.Bidder, row.IDNumber, row.Account, bidding.RegistrationStatus(row.Registered).Name()}
		for i, v := range values {
			cell, _ := excelize.CoordinatesToCellName(i+1, n)
			f.SetCellValue(sheet, cell, v)
		}
		for i, d := range []decimal.Decimal{row.Required, row.Paid, row.Invalid, row.Refunded, row.Forfeited, row.Refunding, row.Converted,
			row.Held, row.Shortfall(row.Required)} {
			cell, _ := excelize.CoordinatesToCellName(7+i, n)
			// An exact decimal goes in as the number it is; the cell's
			// format shows it to the fen.
			if err := f.SetCellValue(sheet, cell, d.InexactFloat64()); err != nil {
				return err
			}
			f.SetCellStyle(sheet, cell, cell, money)
		}
		cell, _ := excelize.CoordinatesToCellName(16, n)
		f.SetCellValue(sheet, cell, row.State)
	}
	f.SetColWidth(sheet, "B", "E", 22)
	f.SetColWidth(sheet, "G", "O", 16)
	f.SetColWidth(sheet, "P", "P", 30)
	f.SetDocProps(&excelize.DocProperties{Title: "保证金台账 " + projectCode, Creator: "ggzy"})
	return f.Write(w)
}

func (h *Handler) depositSheet(c echo.Context) error {
	code := c.Param("code")
	rows, err := h.Svc.DepositSheet(c.Request().Context(), trading.ActorOf(c), code)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="deposits-%s.xlsx"; filename*=UTF-8''%%E4%%BF%%9D%%E8%%AF%%81%%E9%%87%%91%%E5%%8F%%B0%%E8%%B4%%A6-%s.xlsx`, code, code))
	c.Response().WriteHeader(http.StatusOK)
	return WriteDepositSheet(c.Response(), code, rows)
}
