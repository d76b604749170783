package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Params holds every number of the rule book. RULES.md marks many of them S
// (secondary source) or C (from memory), so all are configurable; the
// defaults are those of RULES.md. Ratios are fractions (0.02 = 2 %), amounts
// are yuan.
type Params struct {
	E1MinDays        int // E1 招标文件发出→投标截止 ≥ 20日
	E2MinDays        int // E2 发售期 ≥ 5日
	E3MinDays        int // E3 停止发售→资格预审申请截止 ≥ 5日
	E4MinDays        int // E4 澄清修改距投标截止 ≥ 15日
	E4PrequalMinDays int // E4 澄清修改距资格预审申请截止 ≥ 3日

	D1MaxRatio  decimal.Decimal // D1 ≤ 2 % of the estimated price
	D3MaxAmount decimal.Decimal // D3 ≤ 800,000 yuan
	D4MaxRatio  decimal.Decimal // D4 ≤ 2 %
	D4MaxAmount decimal.Decimal // D4 ≤ 100,000 yuan

	G1MinDays        int             // G1 ≥ 20日
	G2WorkingDays    int             // G2 公告期限 5个工作日
	G3MinWorkingDays int             // G3 ≥ 5个工作日
	G4MinDays        int             // G4 ≥ 15日
	G5MaxRatio       decimal.Decimal // G5 ≤ 2 % of the budget

	L1MinDays     int             // L1 ≥ 20日
	L2MinDays     int             // L2 ≥ 10 (working) days
	L2WorkingDays bool            // L2 counts working days (RULES.md, S); false = calendar days
	L7MinRatio    decimal.Decimal // L7 ≥ 20 % of the starting price

	P1PreMinWorkingDays int             // P1 预披露 ≥ 20个工作日 (shown, not checked: no field)
	P1MinWorkingDays    int             // P1 正式披露 ≥ 20个工作日
	P2ApprovalRatio     decimal.Decimal // P2 below 90 % of appraisal needs approval

	// Results and refunds (bidding results, deposits).
	E7MinBidders     int // E7 少于3个投标人不得开标
	E11MaxCandidates int // E11 中标候选人不超过3个
	E12MinDays       int // E12 中标候选人公示期 ≥ 3日
	E14MaxDays       int // E14 中标通知书发出之日起30日内订立合同
	G10MinSuppliers  int // G10 合格供应商不足3家废标
	G13MaxDays       int // G13 中标通知书发出之日起30日内签订合同
	D5Days           int // D5 书面合同签订后5日内退还
	D6Days           int // D6 撤回通知后5日内退还
	G6WorkingDays    int // G6 中标通知书/合同后5个工作日内退还
	L5WorkingDays    int // L5 未竞得人保证金5个工作日内退还

	// Online bidding (bidding/auction), all S or C in RULES.md.
	L8MaxQuotesPerSecond int // L8 each bidder's quotes per second (abuse limit, issue 15 §10)
	L11CountdownSeconds  int // L11 限时竞价 countdown, restarted by every accepted quote
	L11LateSettleMillis  int // L11 an instance settling a countdown later than this freezes the lot instead
	L12LastHourSeconds   int // L12 no quotes in the listing's last hour
	L15CapPeriodSeconds  int // L15 the second criterion's sealed period once the cap is reached
	P7CountdownSeconds   int // P7 多次报价 timed period countdown
	P7PrioritySeconds    int // P7 优先购买权人 may buy at the final price within this after the bidding
	// The online opening (不见面开标).
	EB13Minutes int // EB13 解密时限，默认30分钟（项目可另行设定）
}

// DefaultParams returns the numbers of RULES.md.
func DefaultParams() Params {
	return Params{
		E1MinDays: 20, E2MinDays: 5, E3MinDays: 5, E4MinDays: 15, E4PrequalMinDays: 3,
		D1MaxRatio:  decimal.RequireFromString("0.02"),
		D3MaxAmount: decimal.NewFromInt(800000),
		D4MaxRatio:  decimal.RequireFromString("0.02"),
		D4MaxAmount: decimal.NewFromInt(100000),
		G1MinDays:   20, G2WorkingDays: 5, G3MinWorkingDays: 5, G4MinDays: 15,
		G5MaxRatio: decimal.RequireFromString("0.02"),
		L1MinDays:  20, L2MinDays: 10, L2WorkingDays: true,
		L7MinRatio:          decimal.RequireFromString("0.2"),
		P1PreMinWorkingDays: 20, P1MinWorkingDays: 20,
		P2ApprovalRatio: decimal.RequireFromString("0.9"),
		E7MinBidders:    3, E11MaxCandidates: 3, E12MinDays: 3, E14MaxDays: 30,
		G10MinSuppliers: 3, G13MaxDays: 30,
		D5Days: 5, D6Days: 5, G6WorkingDays: 5, L5WorkingDays: 5,
		L8MaxQuotesPerSecond: 5, L11CountdownSeconds: 240, L11LateSettleMillis: 2000, L12LastHourSeconds: 3600,
		L15CapPeriodSeconds: 600, P7CountdownSeconds: 300, P7PrioritySeconds: 1800,
		EB13Minutes: 30,
	}
}

var (
	ErrUnknownParam = errors.New("未知的规则参数 (unknown rule parameter)")
	ErrBadParam     = errors.New("规则参数值无效 (bad rule parameter value)")
)

type paramKind int

const (
	kindDays   paramKind = iota // non-negative integer
	kindRatio                   // decimal in [0, 1]
	kindAmount                  // non-negative decimal, at most 2 places
	kindBool
	kindCount // non-negative integer up to 1,000,000 (seconds, milliseconds, a rate)
)

type param struct {
	name string
	kind paramKind
	i    *int
	d    *decimal.Decimal
	b    *bool
}

// params names every field for Set, as "<rule id>.<key>".
func (p *Params) params() []param {
	return []param{
		{name: "E1.min_days", kind: kindDays, i: &p.E1MinDays},
		{name: "E2.min_days", kind: kindDays, i: &p.E2MinDays},
		{name: "E3.min_days", kind: kindDays, i: &p.E3MinDays},
		{name: "E4.min_days", kind: kindDays, i: &p.E4MinDays},
		{name: "E4.prequal_min_days", kind: kindDays, i: &p.E4PrequalMinDays},
		{name: "D1.max_ratio", kind: kindRatio, d: &p.D1MaxRatio},
		{name: "D3.max_amount", kind: kindAmount, d: &p.D3MaxAmount},
		{name: "D4.max_ratio", kind: kindRatio, d: &p.D4MaxRatio},
		{name: "D4.max_amount", kind: kindAmount, d: &p.D4MaxAmount},
		{name: "G1.min_days", kind: kindDays, i: &p.G1MinDays},
		{name: "G2.working_days", kind: kindDays, i: &p.G2WorkingDays},
		{name: "G3.min_working_days", kind: kindDays, i: &p.G3MinWorkingDays},
		{name: "G4.min_days", kind: kindDays, i: &p.G4MinDays},
		{name: "G5.max_ratio", kind: kindRatio, d: &p.G5MaxRatio},
		{name: "L1.min_days", kind: kindDays, i: &p.L1MinDays},
		{name: "L2.min_days", kind: kindDays, i: &p.L2MinDays},
		{name: "L2.working_days", kind: kindBool, b: &p.L2WorkingDays},
		{name: "L7.min_ratio", kind: kindRatio, d: &p.L7MinRatio},
		{name: "P1.pre_min_working_days", kind: kindDays, i: &p.P1PreMinWorkingDays},
		{name: "P1.min_working_days", kind: kindDays, i: &p.P1MinWorkingDays},
		{name: "P2.approval_ratio", kind: kindRatio, d: &p.P2ApprovalRatio},
		{name: "E7.min_bidders", kind: kindDays, i: &p.E7MinBidders},
		{name: "E11.max_candidates", kind: kindDays, i: &p.E11MaxCandidates},
		{name: "E12.min_days", kind: kindDays, i: &p.E12MinDays},
		{name: "E14.max_days", kind: kindDays, i: &p.E14MaxDays},
		{name: "G10.min_suppliers", kind: kindDays, i: &p.G10MinSuppliers},
		{name: "G13.max_days", kind: kindDays, i: &p.G13MaxDays},
		{name: "D5.days", kind: kindDays, i: &p.D5Days},
		{name: "D6.days", kind: kindDays, i: &p.D6Days},
		{name: "G6.working_days", kind: kindDays, i: &p.G6WorkingDays},
		{name: "L5.working_days", kind: kindDays, i: &p.L5WorkingDays},
		{name: "L8.max_quotes_per_second", kind: kindCount, i: &p.L8MaxQuotesPerSecond},
		{name: "L11.countdown_seconds", kind: kindCount, i: &p.L11CountdownSeconds},
		{name: "L11.late_settle_ms", kind: kindCount, i: &p.L11LateSettleMillis},
		{name: "L12.last_hour_seconds", kind: kindCount, i: &p.L12LastHourSeconds},
		{name: "L15.cap_period_seconds", kind: kindCount, i: &p.L15CapPeriodSeconds},
		{name: "P7.countdown_seconds", kind: kindCount, i: &p.P7CountdownSeconds},
		{name: "P7.priority_seconds", kind: kindCount, i: &p.P7PrioritySeconds},
		{name: "EB13.minutes", kind: kindDays, i: &p.EB13Minutes},
	}
}

// ParamNames lists the names Set accepts.
func ParamNames() []string {
	var p Params
	var names []string
	for _, f := range p.params() {
		names = append(names, f.name)
	}
	return names
}

// Set changes one parameter by name, e.g. Set("L7.min_ratio", "0.2"). On
// error p is unchanged.
func (p *Params) Set(name, value string) error {
	value = strings.TrimSpace(value)
	for _, f := range p.params() {
		if f.name != strings.TrimSpace(name) {
			continue
		}
		bad := fmt.Errorf("%s=%q: %w", f.name, value, ErrBadParam)
		switch f.kind {
		case kindDays:
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || n > 3650 {
				return bad
			}
			*f.i = n
		case kindCount:
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || n > 1000000 {
				return bad
			}
			*f.i = n
		case kindBool:
			b, err := strconv.ParseBool(value)
			if err != nil {
				return bad
			}
			*f.b = b
		case kindRatio, kindAmount:
			d, err := decimal.NewFromString(value)
			if err != nil || d.IsNegative() ||
				(f.kind == kindRatio && d.GreaterThan(decimal.NewFromInt(1))) ||
				(f.kind == kindAmount && !d.Equal(d.Round(2))) {
				return bad
			}
			*f.d = d
		}
		return nil
	}
	return fmt.Errorf("%q: %w", name, ErrUnknownParam)
}

// Apply sets one "name=value" configuration string, e.g. "L7.min_ratio=0.2".
func (p *Params) Apply(setting string) error {
	name, value, ok := strings.Cut(setting, "=")
	if !ok {
		return fmt.Errorf("%q: %w", setting, ErrBadParam)
	}
	return p.Set(name, value)
}
