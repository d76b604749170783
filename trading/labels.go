package trading

import (
	"fmt"
	"html/template"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/ggzy/ggzy/templates"
)

// Labels: the one table of the Chinese names of the codes the platform
// stores and the API speaks (audit actions, roles, refund reasons, inflow
// sources, categories, statuses, object types, alert kinds, the fields of
// error messages). Pages show the label; the API keeps the code. A code
// without a label is shown as is, and TestEveryAuditActionHasALabel fails
// when the code writes an audit action this table does not name.

// Label kinds.
const (
	LabelAction        = "action"
	LabelRole          = "role"
	LabelRefundReason  = "refund_reason"
	LabelSource        = "source"
	LabelCategory      = "category"
	LabelProjectStatus = "project_status"
	LabelRefundStatus  = "refund_status"
	LabelInflowStatus  = "inflow_status"
	LabelObject        = "object"
	LabelAlert         = "alert"
	LabelField         = "field"
)

var labels = map[string]map[string]string{
	LabelAction: {
		"session.login":             "登录",
		"session.logout":            "退出登录",
		"account.signup":            "投标人注册",
		"account.create":            "创建账号",
		"account.disable":           "停用账号",
		"account.enable":            "启用账号",
		"calendar.save":             "保存工作日历",
		"calendar.recheck":          "正式日历导入后复核排期",
		"deposit.duplicate":         "交易流水号重复但内容不同",
		"refund.cancel":             "撤销未出批的退款（重新报名）",
		"letter.issue":              "生成中标/成交文书",
		"auction.freeze":            "冻结网上竞价（结算延迟）",
		"auction.identities":        "查看竞买人身份",
		"auction.qualifying":        "竞价结束，待资格后审",
		"auction.candidate_view":    "查看竞得候选人身份（资格后审）",
		"auction.qualified":         "资格后审合格",
		"auction.disqualified":      "资格后审不合格",
		"auction.priority":          "等待优先购买权人行使权利",
		"auction.priority_exercise": "行使优先购买权",
		"auction.priority_waive":    "放弃优先购买权",
		"auction.priority_lapse":    "优先购买权行使期限届满",
		"auction.quote":             "网上报价",
		"auction.record":            "保存竞价记录",
		"auction.resume":            "恢复网上竞价",
		"auction.settle":            "竞价结算",
		"auction.suspend":           "中止网上竞价",
		"auction.timed":             "进入限时竞价",
		"auction.wants_timed":       "申请参加限时竞价",
		"bidkey.register":           "登记投标密钥",
		"bidkey.revoke":             "吊销投标密钥",
		"hall.answer":               "开标大厅答复异议",
		"hall.confirmed":            "开标大厅确认记录",
		"hall.decrypted":            "开标大厅解密",
		"hall.objection":            "开标大厅提出异议",
		"hall.opened":               "开标大厅开启",
		"hall.paused":               "开标大厅暂停",
		"hall.signin":               "开标大厅签到",
		"lot.paper_bids":            "标段/包改为纸质投标",
		"opening.answer":            "答复开标异议",
		"opening.attribute":         "认定解密失败责任",
		"opening.backup_part":       "提交备用副本",
		"opening.backup_refused":    "备用副本不符",
		"opening.confirm":           "确认开标记录",
		"opening.decrypt":           "投标文件解密",
		"opening.decrypt_failed":    "投标文件解密失败",
		"opening.objection":         "提出开标异议",
		"opening.open":              "网上开标",
		"opening.pause":             "暂停/延长开标",
		"opening.record":            "生成开标记录",
		"opening.reveal":            "唱标",
		"opening.signin":            "开标签到",
		"sealed_bid.part":           "上传投标文件分段",
		"sealed_bid.start":          "开始递交投标文件",
		"sealed_bid.submit":         "递交投标文件",
		"sealed_bid.withdraw":       "撤回投标文件",
		"project.create":            "创建项目",
		"project.update":            "修改项目",
		"project.delete":            "删除草稿项目",
		"project.suspend":           "暂停项目",
		"project.resume":            "恢复项目",
		"announcement.draft":        "起草公告",
		"announcement.update":       "修改公告",
		"announcement.submit":       "提交公告审核",
		"announcement.withdraw":     "撤回公告",
		"announcement.approve":      "审核通过公告",
		"announcement.reject":       "退回公告",
		"announcement.publish":      "发布公告",
		"registration.create":       "报名",
		"registration.withdraw":     "撤回报名",
		"registration.approve":      "竞买申请审核通过",
		"registration.reject":       "竞买申请未通过",
		"registration.view":         "查看报名名单",
		"document.upload":           "上传文件",
		"document.download":         "下载文件",
		"result.opening":            "录入开标记录",
		"result.failed":             "流标/流拍",
		"result.candidates":         "公示中标候选人",
		"result.award":              "确定中标人",
		"result.deal":               "确认成交",
		"result.contract":           "登记合同",
		"deposit.inflow":            "保证金到账入账",
		"deposit.convert":           "保证金转为成交价款",
		"deposit.sheet":             "导出保证金台账",
		"deposit.return":            "待查款项退回付款人",
		"deposit.forfeit":           "没收保证金",
		"refund.batch":              "生成退款批次",
		"refund.failed":             "退款失败",
		"refund.fee_restore":        "撤销供应商原因迟延的记录（G7）",
		"refund.fee_waive":          "记录供应商原因迟延期间（不计资金占用费，G7）",
		"refund.paid":               "退款成功",
		"guarantee.submit":          "提交保函",
		"guarantee.verify":          "保函核验通过",
		"guarantee.reject":          "保函未通过",
		"guarantee.list":            "查看保函名单",
		"guarantee.release":         "释放保函",
		"supervision.view":          "查看现场监督",
		"audit.view":                "查看审计日志",

		// the opening-record announcement after the hall (bidding/hall_announcement.go)
		"opening.announcement_refused":    "开标记录公告未能生成",
		"opening.announcement_regenerate": "重新生成开标记录公告",
	},
	LabelRole: {
		string(RoleBidder): RoleBidder.Name(), string(RoleAgent): RoleAgent.Name(),
		string(RoleSupervisor): RoleSupervisor.Name(), string(RoleAdmin): RoleAdmin.Name(),
		"system": "系统", "anonymous": "未登录访客",
	},
	LabelRefundReason: {
		"INVALID":  "缴纳无效（逾期或非投标人账户），原路退回",
		"SUSPENSE": "待查款项（无对应子账号），退回付款人",
	},
	LabelSource: {"statement": "银行对账单", "webhook": "银行到账通知", "manual": "人工录入"},
	LabelCategory: {
		"engineering": "工程建设招标", "procurement": "政府采购", "land": "土地矿权出让", "property": "国有产权交易",
	},
	// Statuses, one kind per thing: the same code means different things
	// ("pending" is 待审核 for a registration, 待退 for a refund).
	LabelProjectStatus: {
		"draft": "草稿", "active": "进行中", "completed": "已完成", "terminated": "已终止",
	},
	LabelRefundStatus: {"pending": "待退", "sent": "已发银行", "paid": "已退还", "failed": "退款失败（待重发）"},
	LabelInflowStatus: {
		"held": "有效", "late": "逾期到账（无效，待退）", "third_party": "非本单位账户缴纳（无效，退回付款人）",
		"suspense": "待查（无对应子账号）", "refunded": "已退还", "forfeited": "已没收", "converted": "已转为成交价款",
		"returned": "已退回付款人",
	},
	LabelObject: {
		"account": "账号", "project": "项目", "lot": "标段/包/地块/标的", "announcement": "公告", "registration": "报名",
		"document": "文件", "guarantee": "保函", "inflow": "到账", "inflow_batch": "到账批次", "refund": "退款",
		"refund_batch": "退款批次", "virtual_account": "虚拟子账号", "calendar_year": "工作日历",
		"supervision": "现场监督", "audit": "审计日志",
	},
	LabelAlert: {
		"k1": "疑似串通投标（K1）", "K1": "疑似串通投标（K1）", "deposit_suspense": "待查款项", "deposit_late": "逾期到账",
		"deposit_third_party": "非投标人账户缴纳", "refund_overdue": "退款逾期", "contract_late": "合同逾期未签",
		"DUPLICATE": "交易流水号重复但内容不同", "calendar_recheck": "正式日历导入后不再满足规则",
	},
	LabelField: {
		// projects and lots
		"lots": "标段", "changes": "变更", "bids": "投标记录", "id_numbers": "身份证号", "declarations": "声明",
		"title": "项目名称", "category": "交易类别", "sub_type": "交易子类", "region": "行政区划", "region_code": "行政区划",
		"owner_name": "招标人/采购人", "owner_contact": "联系方式", "name": "名称", "lot_id": "标段", "lot": "标段",
		"lot_count": "标段数", "control_price": "招标控制价", "estimated_price": "估算价", "budget": "采购预算",
		"starting_price": "起始价", "reserve_price": "底价", "appraised_value": "评估值", "listing_price": "挂牌价",
		"increment": "加价幅度", "price_cap": "最高限价", "bidding_mode": "竞价方式", "increment_multiple": "按加价幅度整数倍报价", "post_qualification": "资格审查方式", "priority_holder": "优先购买权人", "deposit": "保证金", "announcement_at": "公告发布时间", "announcement_end": "公告截止时间",
		"doc_issue_start": "文件发售开始时间", "doc_issue_end": "文件发售截止时间", "registration_end": "报名截止时间",
		"bid_deadline": "投标截止时间", "listing_start": "挂牌开始时间", "listing_end": "挂牌截止时间",
		"auction_at": "拍卖时间", "opening_place": "开标地点", "publicity_end": "公示截止时间",
		"state_funded": "国有资金投资", "survey_design": "勘察设计", "prequalification": "资格预审",
		// announcements
		"type": "公告类型", "body": "正文", "amends_id": "被变更的公告", "replaces_id": "被替换的公告",
		"change_lot": "变更的标段", "publish_at": "发布时间",
		// accounts
		"username": "用户名", "password": "密码", "role": "角色", "id_number": "身份证号/统一社会信用代码",
		"contact_name": "联系人", "contact_phone": "联系电话", "phone": "电话", "email": "电子邮箱",
		// results
		"price": "报价", "rejected_reason": "否决理由", "winner": "中标人", "stage": "环节", "declined": "放弃",
		"declined_reason": "放弃理由", "award_reason": "确定理由", "contract_amount": "合同金额",
		"contract_date": "合同签订日期", "result": "结果",
		// deposits
		"amount": "金额", "virtual_account": "虚拟子账号", "txn_id": "银行交易流水号", "value_time": "到账时间",
		"payer_name": "付款人名称", "payer_account": "付款人账号", "payer_bank": "付款行", "currency": "币种",
		"refunds": "退款", "issuer": "出具机构", "number": "编号", "valid_from": "有效期起", "valid_until": "有效期止",
		"kind": "种类", "rule": "规则", "reason": "理由", "note": "说明", "file": "文件", "csv": "文件内容",
		"rows": "行", "document_id": "文件", "confirm": "确认",
		// queries
		"id": "编号", "status": "状态", "project": "项目", "date": "日期", "from": "开始日期", "to": "截止日期",
		"year": "年份", "month": "月份", "quarter": "季度", "page": "页码", "limit": "每页条数", "before": "翻页位置",
		"after": "翻页位置", "cursor": "翻页位置", "q": "关键词", "approve": "审核结果",
	},
}

// Label is the Chinese name of a code of the given kind, or the code itself
// when the table has none.
func Label(kind, code string) string {
	if l, ok := labels[kind][code]; ok {
		return l
	}
	return code
}

// LabelOrEmpty is the label, or "" when the table has none (for callers
// that validate a code by its name).
func LabelOrEmpty(kind, code string) string { return labels[kind][code] }

// HasLabel reports whether the table names the code.
func HasLabel(kind, code string) bool { _, ok := labels[kind][code]; return ok }

// AuditActions lists every labelled audit action, sorted by code, for the
// audit page's filter.
func AuditActions() []Option { return LabelOptions(LabelAction) }

// LabelOptions lists the codes of a kind with their labels, sorted by code.
func LabelOptions(kind string) []Option {
	out := make([]Option, 0, len(labels[kind]))
	for code, name := range labels[kind] {
		out = append(out, Option{Value: code, Name: name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

// projectStatusOptions are the project list's status filter: the column's
// statuses and 已完成 (running projects whose lots all have an outcome).
func projectStatusOptions() []Option {
	var out []Option
	for _, s := range []ProjectStatus{ProjectDraft, ProjectActive, ProjectCompleted, ProjectTerminated} {
		out = append(out, Option{Value: string(s), Name: Label(LabelProjectStatus, string(s))})
	}
	return out
}

// CategoryChoices names the four categories for a message people read:
// "工程建设招标、政府采购、土地矿权出让或国有产权交易" (the API's field and
// code say which input was wrong; its values are in the OpenAPI document).
func CategoryChoices() string {
	cats := []Category{"engineering", "procurement", "land", "property"}
	names := make([]string, len(cats))
	for i, c := range cats {
		names[i] = Label(LabelCategory, string(c))
	}
	return strings.Join(names[:len(names)-1], "、") + "或" + names[len(names)-1]
}

// Option is one choice of a <select>.
type Option struct {
	Value string
	Name  string
}

var fieldSegment = regexp.MustCompile(`^([a-z_]+)(?:\[(\d+)\])?$`)

// lotSegments are the field names that are a lot: their label says 标段,
// which FieldLabelIn replaces with the category's word.
var lotSegments = map[string]bool{"lots": true, "lot": true, "lot_id": true, "lot_count": true, "change_lot": true}

// fieldCategories are the categories a lot's field applies to, where not
// all four: it names the lot when the project's category is not known
// ("lots[0].control_price" can only be an engineering 标段).
var fieldCategories = func() map[string][]Category {
	out := map[string][]Category{
		"doc_issue_start": {Engineering, Procurement}, "doc_issue_end": {Engineering, Procurement},
		"bid_deadline": {Engineering, Procurement}, "prequalification": {Engineering}, "survey_design": {Engineering},
		"listing_start": {Land, Property}, "listing_end": {Land, Property}, "bidding_mode": {Land, Property},
		"increment_multiple": {Land, Property}, "priority_holder": {Property},
	}
	for _, m := range moneyFields {
		out[m.field] = m.cats
	}
	return out
}()

// AnyLot names a lot whose category is not known where it is named (a lot
// that does not exist, or that a person may not see): each category's word,
// engineering's first ("标段（包、地块、标的）不存在").
const AnyLot = "标段（包、地块、标的）"

// LotNounOf is what a text calls a lot of the category: the category's
// word, or AnyLot when the category is not (yet) valid.
func LotNounOf(c Category) string {
	if c.Valid() {
		return c.LotNoun()
	}
	return AnyLot
}

// SQLLotNoun is Category.LotNoun in SQL, of the column col holding a
// project's category, for texts that SQL writes (a sweep's notifications):
// "(CASE p.category WHEN 'procurement' THEN '包' … ELSE '标段' END)".
func SQLLotNoun(col string) string {
	var b strings.Builder
	b.WriteString("(CASE " + col)
	for _, c := range Categories() {
		if c != Engineering {
			b.WriteString(" WHEN '" + string(c) + "' THEN '" + c.LotNoun() + "'")
		}
	}
	b.WriteString(" ELSE '" + Engineering.LotNoun() + "' END)")
	return b.String()
}

// lotNoun is what a field path calls a lot: the category's word (地块)
// when the category is known, else the words of the categories the
// field applies to ("标段/包" for a bid deadline), else all four.
func lotNoun(cat Category, path string) string {
	if cat.Valid() {
		return cat.LotNoun()
	}
	leaf := path[strings.LastIndex(path, ".")+1:]
	if m := fieldSegment.FindStringSubmatch(leaf); m != nil {
		leaf = m[1]
	}
	cats, ok := fieldCategories[leaf]
	if !ok {
		cats = Categories()
	}
	nouns := make([]string, len(cats))
	for i, c := range cats {
		nouns[i] = c.LotNoun()
	}
	return strings.Join(nouns, "/")
}

// FieldLabel names a field path of an error message in Chinese when the
// project's category is not known: "lots[0].control_price" is
// "第1个标段的招标控制价", "lots[0].bid_deadline" "第1个标段/包的投标截止时间".
// A segment the table does not name is kept, so nothing is lost.
func FieldLabel(path string) string { return FieldLabelIn("", path) }

// FieldLabelIn names a field path of an error about a project of the
// category: "lots[0].starting_price" of a land project is
// "第1个地块的起始价". An empty category names lots as FieldLabel does.
func FieldLabelIn(cat Category, path string) string {
	if path == "" {
		return ""
	}
	parts := strings.Split(path, ".")
	names := make([]string, 0, len(parts))
	for _, p := range parts {
		m := fieldSegment.FindStringSubmatch(p)
		if m == nil {
			names = append(names, p)
			continue
		}
		name := Label(LabelField, m[1])
		if lotSegments[m[1]] {
			name = strings.ReplaceAll(name, "标段", lotNoun(cat, path))
		}
		if m[2] != "" {
			n, _ := strconv.Atoi(m[2])
			unit := "个"
			if m[1] == "bids" || m[1] == "id_numbers" || m[1] == "rows" {
				unit = "行"
				name = strings.TrimSuffix(name, "行")
			}
			if unit == "行" {
				name = "第" + strconv.Itoa(n+1) + "行" + name
			} else {
				name = "第" + strconv.Itoa(n+1) + unit + name
			}
		}
		names = append(names, name)
	}
	return strings.Join(names, "的")
}

// Yuan writes an amount as people read it: "2,246,380.96" (thousands
// grouped, two decimals). Pages and the announcement texts the platform writes
// use it; the API and bank files keep FormatYuan's "2246380.96".
func Yuan(d decimal.Decimal) string { return templates.Yuan(d) }

// TemplateFuncs are the page functions backed by this table: label,
// field and actions (the audit filter's choices).
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"label":   func(kind string, code any) string { return Label(kind, toString(code)) },
		"field":   FieldLabel,
		"fieldIn": func(cat Category, path string) string { return FieldLabelIn(cat, path) },
		"actions": AuditActions,
		// fieldAnchor and violationHref link an error to its input (form_links.go).
		"fieldAnchor":   FieldAnchor,
		"violationHref": func(code string, t AnnouncementType, field string) string { return ViolationHref(code, t, field) },
	}
}

func toString(v any) string {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return rv.String() // named string types: Role, Category…
	}
	return fmt.Sprint(v)
}

// errorHeadings name the error page after what happened (the error's code),
// so "报名尚未开始" is headed 不在办理时间内, not a generic 操作冲突.
var errorHeadings = map[string]string{
	"closed": "不在办理时间内", "suspended": "项目已暂停", "already_registered": "已经报名",
	"rule_broken": "不符合交易规则", "csrf": "表单已过期",
	"too_large": "内容过大", "interrupted": "上传未完成", "invalid": "填写有误",
	// not_found, forbidden, unauthorized, internal: the status says it.
}

// statusHeadings are the fallback by HTTP status.
var statusHeadings = map[int]string{400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在",
	409: "与当前状态不符", 413: "内容过大", 422: "不符合交易规则", 429: "请求过于频繁"}

// ErrorHeading is the heading of the error page for e.
func ErrorHeading(e *Error) string {
	if h, ok := errorHeadings[e.Code]; ok {
		return h
	}
	if h, ok := statusHeadings[e.Status()]; ok {
		return h
	}
	return "出错了"
}
