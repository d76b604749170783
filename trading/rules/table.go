package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/ggzy/ggzy/trading/calendar"
	"github.com/shopspring/decimal"
)

// RuleInfo is one line of the page 规则库.
type RuleInfo struct {
	ID         string
	Category   Category
	Text       string // the rule in Chinese, numbers rendered from Params
	Number     string // e.g. "≥ 20日", "≤ 2%"
	Source     string
	Confidence string // R 法规原文 / S 二手来源 / C 待核实 (RULES.md)
	// Unchecked says why the platform does not check the rule; "" when it
	// does. A rule listed but not checked must say so, not look in force.
	Unchecked string
	// Warning: the rule warns (shown to agent and supervisor), never refuses.
	Warning bool
	// WorkingDays: the rule counts working days, so a year without its
	// notice is counted by the provisional calendar (ProvisionalMark).
	WorkingDays bool
}

type ruleDef struct {
	id     string
	cat    Category
	source string
	conf   string
	text   func(p *Params) string
	number func(p *Params) string
}

// uncheckedRules: the rules listed but not checked, and why.
var uncheckedRules = map[string]string{"G2": g2Unchecked}

// warningRules warn and never refuse.
var warningRules = map[string]bool{RuleHoliday: true, RuleTextDate: true}

// g2Unchecked is why G2 is listed but not checked: its period needs an end
// the platform does not record.
const g2Unchecked = "平台暂不校验：采购公告没有“公告期限届满时间”字段（公告在平台上发布后持续公开，不设下线时间），" +
	"无从计算公告期限是否为5个工作日；公告期限及其届满日由代理机构在公告正文中载明。" +
	"招标文件提供期限（G3，不少于5个工作日）与投标截止（G1，不少于20日）照常校验。"

// warningDefs are the platform's warnings of every category: shown to the
// agent at submission and to the supervisor at review, never a refusal.
var warningDefs = []ruleDef{
	{RuleHoliday, "", "平台提示：法律未禁止在休息日或法定节假日截止、开标或拍卖；节假日依据《全国年节及纪念日放假办法》（2024年修订）与国务院办公厅当年节假日安排（未录入的年份按暂行日历）", "—",
		func(p *Params) string {
			return "投标截止（开标）时间，以及土地、产权的拍卖时间和挂牌截止时间落在周末或法定节假日的，提交和审核时提示代理机构与监督人员（警告，不拒绝）"
		},
		func(p *Params) string { return "警告" }},
	{RuleTextDate, "", "平台提示：开标应当在招标文件确定的时间公开进行（招标投标法第三十四条，E6；电子招标投标办法第二十九条，EB4），公告正文与时间安排应一致", "—",
		func(p *Params) string {
			return "公告正文中写明的日期（如“12月15日”“2026年12月15日9时30分”）与公告的任何结构化时间都不符的，提交和审核时提示代理机构与监督人员（警告，不拒绝：正文也会写立项、踏勘、答疑等其他日期）"
		},
		func(p *Params) string { return "警告" }},
}

const (
	srcBidLaw  = "招标投标法"
	srcBidReg  = "招标投标法实施条例"
	srcProcLaw = "政府采购法"
	srcProcReg = "政府采购法实施条例"
	srcOrder87 = "政府采购货物和服务招标投标管理办法（财政部令第87号）"
	srcOrder39 = "招标拍卖挂牌出让国有建设用地使用权规定（国土资源部令第39号）"
	srcOrder32 = "企业国有资产交易监督管理办法（国资委 财政部令第32号）"
)

// ruleDefs are the rules this book checks, in the order of RULES.md.
var ruleDefs = []ruleDef{
	{"E1", Engineering, srcBidLaw + "第二十四条", "R",
		func(p *Params) string {
			return fmt.Sprintf("依法必须招标的项目，自招标文件开始发出之日起至投标截止时间不得少于%d日", p.E1MinDays)
		},
		func(p *Params) string { return fmt.Sprintf("≥ %d日", p.E1MinDays) }},
	{"E2", Engineering, srcBidReg + "第十六条", "R",
		func(p *Params) string {
			return fmt.Sprintf("资格预审文件或者招标文件的发售期不得少于%d日", p.E2MinDays)
		},
		func(p *Params) string { return fmt.Sprintf("≥ %d日", p.E2MinDays) }},
	{"E3", Engineering, srcBidReg + "第十七条", "R",
		func(p *Params) string {
			return fmt.Sprintf("提交资格预审申请文件的时间，自资格预审文件停止发售之日起不得少于%d日", p.E3MinDays)
		},
		func(p *Params) string { return fmt.Sprintf("≥ %d日", p.E3MinDays) }},
	{"E4", Engineering, srcBidReg + "第二十一条", "R",
		func(p *Params) string {
			return fmt.Sprintf("澄清或者修改可能影响投标文件编制的，应在投标截止时间至少%d日前（资格预审申请截止时间至少%d日前）书面通知；不足的，应顺延截止时间",
				p.E4MinDays, p.E4PrequalMinDays)
		},
		func(p *Params) string {
			return fmt.Sprintf("≥ %d日（资格预审 ≥ %d日）", p.E4MinDays, p.E4PrequalMinDays)
		}},
	{"E7", Engineering, srcBidReg + "第四十四条", "R",
		func(p *Params) string {
			return fmt.Sprintf("投标人少于%d个的，不得开标，招标人应当重新招标", p.E7MinBidders)
		},
		func(p *Params) string { return fmt.Sprintf("< %d个即流标", p.E7MinBidders) }},
	{"E11", Engineering, srcBidReg + "第五十三条", "R",
		func(p *Params) string {
			return fmt.Sprintf("评标报告推荐的中标候选人应当不超过%d个，并标明排序", p.E11MaxCandidates)
		},
		func(p *Params) string { return fmt.Sprintf("≤ %d个", p.E11MaxCandidates) }},
	{"E12", Engineering, srcBidReg + "第五十四条", "R",
		func(p *Params) string {
			return fmt.Sprintf("依法必须招标的项目，中标候选人公示期不得少于%d日", p.E12MinDays)
		},
		func(p *Params) string { return fmt.Sprintf("≥ %d日", p.E12MinDays) }},
	{"E13", Engineering, srcBidReg + "第五十五条", "R",
		func(p *Params) string {
			return "国有资金占控股或者主导地位的依法必须招标的项目，应当确定排名第一的中标候选人为中标人；排名第一的放弃中标等情形的，方可依次确定其他中标候选人"
		},
		func(p *Params) string { return "第一名" }},
	{"E14", Engineering, srcBidLaw + "第四十六条", "R",
		func(p *Params) string {
			return fmt.Sprintf("自中标通知书发出之日起%d日内订立书面合同", p.E14MaxDays)
		},
		func(p *Params) string { return fmt.Sprintf("≤ %d日", p.E14MaxDays) }},
	{"D1", Engineering, srcBidReg + "第二十六条", "R",
		func(p *Params) string {
			return fmt.Sprintf("投标保证金不得超过招标项目估算价的%s（无估算价时按招标控制价计）", pct(p.D1MaxRatio))
		},
		func(p *Params) string { return "≤ " + pct(p.D1MaxRatio) }},
	{"D3", Engineering, "工程建设项目施工招标投标办法", "S",
		func(p *Params) string {
			return fmt.Sprintf("施工、货物招标的投标保证金最高不得超过%s", yuan(p.D3MaxAmount))
		},
		func(p *Params) string { return "≤ " + yuan(p.D3MaxAmount) }},
	{"D4", Engineering, "工程建设项目勘察设计招标投标办法", "S",
		func(p *Params) string {
			return fmt.Sprintf("勘察设计招标的投标保证金不得超过估算价的%s，且最高不得超过%s", pct(p.D4MaxRatio), yuan(p.D4MaxAmount))
		},
		func(p *Params) string {
			return fmt.Sprintf("≤ %s 且 ≤ %s", pct(p.D4MaxRatio), yuan(p.D4MaxAmount))
		}},
	{"D5", Engineering, srcBidReg + "第五十七条", "R",
		func(p *Params) string {
			return fmt.Sprintf("招标人最迟应当在书面合同签订后%d日内向中标人和未中标的投标人退还投标保证金及银行同期存款利息", p.D5Days)
		},
		func(p *Params) string { return fmt.Sprintf("≤ %d日", p.D5Days) }},
	{"D6", Engineering, srcBidReg + "第三十五条", "R",
		func(p *Params) string {
			return fmt.Sprintf("投标截止前撤回投标文件的，应当自收到书面撤回通知之日起%d日内退还投标保证金", p.D6Days)
		},
		func(p *Params) string { return fmt.Sprintf("≤ %d日", p.D6Days) }},
	{"G1", Procurement, srcProcLaw + "第三十五条", "R",
		func(p *Params) string {
			return fmt.Sprintf("自招标文件开始发出之日起至投标截止时间不得少于%d日", p.G1MinDays)
		},
		func(p *Params) string { return fmt.Sprintf("≥ %d日", p.G1MinDays) }},
	{"G2", Procurement, srcOrder87 + "第十六条", "S",
		func(p *Params) string {
			return fmt.Sprintf("招标公告的公告期限为%d个工作日", p.G2WorkingDays)
		},
		func(p *Params) string { return fmt.Sprintf("%d个工作日", p.G2WorkingDays) }},
	{"G3", Procurement, srcProcReg + "第三十一条", "R",
		func(p *Params) string {
			return fmt.Sprintf("招标文件的提供期限自招标文件开始发出之日起不得少于%d个工作日", p.G3MinWorkingDays)
		},
		func(p *Params) string { return fmt.Sprintf("≥ %d个工作日", p.G3MinWorkingDays) }},
	{"G4", Procurement, srcProcReg + "第三十一条", "R",
		func(p *Params) string {
			return fmt.Sprintf("澄清或者修改可能影响投标文件编制的，应在投标截止时间至少%d日前书面通知；不足%d日的，应顺延投标截止时间", p.G4MinDays, p.G4MinDays)
		},
		func(p *Params) string { return fmt.Sprintf("≥ %d日", p.G4MinDays) }},
	{"G5", Procurement, srcProcReg + "第三十三条", "R",
		func(p *Params) string {
			return fmt.Sprintf("投标保证金不得超过采购项目预算金额的%s", pct(p.G5MaxRatio))
		},
		func(p *Params) string { return "≤ " + pct(p.G5MaxRatio) }},
	{"G6", Procurement, srcProcReg + "第三十三条", "R",
		func(p *Params) string {
			return fmt.Sprintf("自中标通知书发出之日起%d个工作日内退还未中标供应商的投标保证金，自采购合同签订之日起%d个工作日内退还中标供应商的投标保证金",
				p.G6WorkingDays, p.G6WorkingDays)
		},
		func(p *Params) string { return fmt.Sprintf("≤ %d个工作日", p.G6WorkingDays) }},
	{"G10", Procurement, srcProcLaw + "第三十六条", "R",
		func(p *Params) string {
			return fmt.Sprintf("符合专业条件的供应商或者对招标文件作实质响应的供应商不足%d家的，应予废标", p.G10MinSuppliers)
		},
		func(p *Params) string { return fmt.Sprintf("< %d家即废标", p.G10MinSuppliers) }},
	{"G13", Procurement, srcProcLaw + "第四十六条", "R",
		func(p *Params) string {
			return fmt.Sprintf("自中标、成交通知书发出之日起%d日内签订政府采购合同", p.G13MaxDays)
		},
		func(p *Params) string { return fmt.Sprintf("≤ %d日", p.G13MaxDays) }},
	{"L1", Land, srcOrder39 + "第十条", "S",
		func(p *Params) string {
			return fmt.Sprintf("出让公告应当至少在投标、拍卖或者挂牌开始日前%d日发布", p.L1MinDays)
		},
		func(p *Params) string { return fmt.Sprintf("≥ %d日", p.L1MinDays) }},
	{"L2", Land, srcOrder39 + "第十九条", "S",
		func(p *Params) string { return fmt.Sprintf("挂牌时间不得少于%s", l2Unit(p, p.L2MinDays)) },
		func(p *Params) string { return "≥ " + l2Unit(p, p.L2MinDays) }},
	{"L3", Land, srcOrder39 + "第十九条", "S",
		func(p *Params) string {
			return "挂牌截止时：只有一个竞买人且报价不低于底价的成交；有两个以上的，出价最高者成交，报价相同的先提交者成交；报价均低于底价的不成交"
		},
		func(p *Params) string { return "≥ 底价" }},
	{"L5", Land, srcOrder39 + "第二十条、第二十一条", "S",
		func(p *Params) string {
			return fmt.Sprintf("竞得人的竞买保证金抵作土地出让价款；其他竞买人交纳的保证金应在%d个工作日内予以退还，不计利息", p.L5WorkingDays)
		},
		func(p *Params) string { return fmt.Sprintf("≤ %d个工作日", p.L5WorkingDays) }},
	{"L7", Land, "国土资发〔2010〕34号", "C",
		func(p *Params) string {
			return fmt.Sprintf("竞买保证金不得低于出让起始价的%s", pct(p.L7MinRatio))
		},
		func(p *Params) string { return "≥ " + pct(p.L7MinRatio) }},
	{"L8", Land, "福建省网上交易规则第30–31条；太仓市网上交易管理办法第19条", "S",
		func(p *Params) string {
			return fmt.Sprintf("首次报价不得低于起始价，此后每次报价不得低于当前最高报价加一个加价幅度；报价不可撤回；每名竞买人每秒至多%d次报价", p.L8MaxQuotesPerSecond)
		},
		func(p *Params) string { return "≥ 最高价 + 加价幅度" }},
	{"L9", Land, "福建省网上交易规则第32条；拍卖法第二十八条", "S",
		func(p *Params) string {
			return "底价保密，挂牌截止前设定后不得更改；任何拒绝或提示均不透露底价"
		},
		func(p *Params) string { return "—" }},
	{"L10", Land, srcOrder39 + "第十九条、第二十条", "S",
		func(p *Params) string {
			return "挂牌截止时：仅一人报价且不低于底价的成交；无人报价或最高报价低于底价的流拍；两名以上竞买人表示愿意继续竞价的转入限时竞价"
		},
		func(p *Params) string { return "—" }},
	{"L11", Land, "太仓市网上交易管理办法第23–24条；福建省网上交易规则第40–42条", "S",
		func(p *Params) string {
			return fmt.Sprintf("限时竞价从挂牌最高报价起，每次有效报价后倒计时重新计为%d秒；倒计时结束时最高报价者竞得（仍须不低于底价）；倒计时结束以数据库时钟为准", p.L11CountdownSeconds)
		},
		func(p *Params) string { return fmt.Sprintf("%d秒", p.L11CountdownSeconds) }},
	{"L12", Land, "太仓市网上交易平台", "S",
		func(p *Params) string {
			return fmt.Sprintf("挂牌截止前%d分钟内不接受挂牌报价（转入限时竞价）", p.L12LastHourSeconds/60)
		},
		func(p *Params) string { return fmt.Sprintf("%d分钟", p.L12LastHourSeconds/60) }},
	{"L13", Land, "福建省网上交易规则第54–58条；太仓市网上交易管理办法第26条", "S",
		func(p *Params) string {
			return "中止交易时时钟冻结；恢复后挂牌期顺延不少于冻结时长，限时竞价重新计时"
		},
		func(p *Params) string { return "—" }},
	{"L15", Land, "苏州市2016年土地出让规则", "S",
		func(p *Params) string {
			return fmt.Sprintf("报价达到最高限价后不再接受更高报价，转入第二标准：达到限价的竞买人在%d秒内各一次密封报出第二标准数值，最高者竞得", p.L15CapPeriodSeconds)
		},
		func(p *Params) string { return "每宗地" }},
	{"L16", Land, srcOrder39 + "第十九条", "S",
		func(p *Params) string {
			return "报价相同的，先提交（以平台数据库接收时间为准）者优先"
		},
		func(p *Params) string { return "—" }},
	{"P7", Property, srcOrder32 + "；产权交易机构网络竞价规则", "C",
		func(p *Params) string {
			return fmt.Sprintf("网络竞价：多次报价（自由报价期后进入限时报价期，倒计时%d秒，每次有效报价后重新计时）或一次报价（每人一次密封报价，截止后揭示）；公告载明优先购买权人的，竞价结束后该权利人可在%d分钟内以最终报价行使优先购买权", p.P7CountdownSeconds, p.P7PrioritySeconds/60)
		},
		func(p *Params) string { return fmt.Sprintf("%d秒", p.P7CountdownSeconds) }},
	{"P1", Property, srcOrder32 + "第十三条", "S",
		func(p *Params) string {
			return fmt.Sprintf("产权转让信息预披露不得少于%d个工作日，正式披露不得少于%d个工作日", p.P1PreMinWorkingDays, p.P1MinWorkingDays)
		},
		func(p *Params) string {
			return fmt.Sprintf("%d / %d个工作日", p.P1PreMinWorkingDays, p.P1MinWorkingDays)
		}},
	{"P2", Property, srcOrder32 + "第十二条、第十八条", "S",
		func(p *Params) string {
			return fmt.Sprintf("首次挂牌价不得低于评估值；重新披露时新的挂牌价低于评估值的%s，须经转让行为批准单位书面同意", pct(p.P2ApprovalRatio))
		},
		func(p *Params) string { return pct(p.P2ApprovalRatio) }},
}

func findDef(id string) ruleDef {
	for _, d := range append(ruleDefs[:len(ruleDefs):len(ruleDefs)], warningDefs...) {
		if d.id == id {
			return d
		}
	}
	return ruleDef{id: id, text: func(*Params) string { return "" }}
}

func l2Unit(p *Params, n int) string {
	if p.L2WorkingDays {
		return fmt.Sprintf("%d个工作日", n)
	}
	return fmt.Sprintf("%d日", n)
}

// Table lists the rules the book checks, numbers rendered from its Params.
func (b *Book) Table() []RuleInfo { return b.table(ruleDefs) }

// Warnings lists the platform's warnings of every category (HOL); their
// Category is empty.
func (b *Book) Warnings() []RuleInfo { return b.table(warningDefs) }

func (b *Book) table(defs []ruleDef) []RuleInfo {
	out := make([]RuleInfo, 0, len(defs))
	for _, d := range defs {
		out = append(out, RuleInfo{
			ID: d.id, Category: d.cat, Text: d.text(&b.Params), Number: d.number(&b.Params),
			Source: d.source, Confidence: d.conf, Unchecked: uncheckedRules[d.id], Warning: warningRules[d.id],
			WorkingDays: d.id == "G2" || d.id == "G3" || d.id == "P1" || (d.id == "L2" && b.L2WorkingDays),
		})
	}
	return out
}

var hundred = decimal.NewFromInt(100)

// pct renders a ratio: 0.02 → "2%".
func pct(r decimal.Decimal) string { return r.Mul(hundred).String() + "%" }

// yuan renders an amount with thousands separators: "800,000.00元".
func yuan(d decimal.Decimal) string {
	s := d.StringFixed(2)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var sb strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(r)
	}
	return sign + sb.String() + "." + frac + "元"
}

// ts renders a moment in Asia/Shanghai.
func ts(t time.Time) string { return t.In(calendar.Shanghai).Format("2006-01-02 15:04") }
