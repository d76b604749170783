package rules

import (
	"fmt"
	"time"
)

// Bidding modes of land and property lots (issue 15 §1; L8–L16, P4, P7).
const (
	ModeListing = "listing" // 土地 挂牌: online listing quotes, then 限时竞价 (L10, L11)
	ModeAuction = "auction" // 土地 拍卖: an online ascending auction from auction_at (L11)
	ModeMulti   = "multi"   // 产权 多次报价: a free-quote period, then a timed period (P7)
	ModeSealed  = "sealed"  // 产权 一次报价: one sealed quote each, revealed at the close (P7)
	ModeOffline = "offline" // 线下: sold off the platform, the agent enters the deal
)

// ValidMode tells whether mode is a bidding mode of category c.
func ValidMode(c Category, mode string) bool {
	switch c {
	case Land:
		return mode == ModeListing || mode == ModeAuction || mode == ModeOffline
	case Property:
		return mode == ModeMulti || mode == ModeSealed || mode == ModeOffline
	}
	return false
}

// ModeName is the Chinese name of a bidding mode.
func ModeName(mode string) string {
	return map[string]string{ModeListing: "网上挂牌（挂牌期满可转限时竞价）", ModeAuction: "网上拍卖",
		ModeMulti: "网络竞价·多次报价", ModeSealed: "网络竞价·一次报价", ModeOffline: "线下交易（场外成交，代理机构录入）"}[mode]
}

// Post-qualification (资格后审) of online lots: what the announcement says a
// failed check of the winner leads to.
const (
	PostQualNext   = "next"    // the next bidder (checked in turn)
	PostQualNoSale = "no_sale" // 流拍
)

// PostQualName is the Chinese name of a lot's qualification check ("" for
// an unknown value; 资格前审 for none).
func PostQualName(v string) string {
	return map[string]string{"": "资格前审（竞买申请审核通过后方可报价）",
		PostQualNext:   "资格后审（竞价结束后审查竞得人资格，不合格的由下一顺位竞买人递补）",
		PostQualNoSale: "资格后审（竞价结束后审查竞得人资格，不合格的流拍）"}[v]
}

// Online reports whether a lot of this mode is bid on the platform.
func Online(mode string) bool {
	return mode == ModeListing || mode == ModeAuction || mode == ModeMulti || mode == ModeSealed
}

// modes checks what online bidding needs of a lot: its times for the mode,
// an increment, a cap above the starting price (L15), and a listing
// longer than its last hour (L12).
func (c *checker) modes() {
	l := c.l
	if l.Category != Land && l.Category != Property || l.BiddingMode == "" {
		return
	}
	if !ValidMode(l.Category, l.BiddingMode) {
		c.add(RuleRequired, "bidding_mode", "竞价方式须为本类别的挂牌、拍卖、多次报价、一次报价或线下", fmt.Sprintf("实际为%q", l.BiddingMode))
		return
	}
	start := l.StartingPrice
	if l.Category == Property && start.IsZero() {
		start = l.ListingPrice
	}
	switch l.BiddingMode {
	case ModeAuction:
		if l.AuctionAt.IsZero() {
			c.add(RuleRequired, "auction_at", "网上拍卖须设定拍卖时间", "未设定")
		}
	case ModeListing, ModeMulti, ModeSealed:
		if l.ListingStart.IsZero() || l.ListingEnd.IsZero() {
			c.add(RuleRequired, "listing_start", ModeName(l.BiddingMode)+"须设定挂牌（报价）起止时间", "未设定")
		} else if l.BiddingMode == ModeListing {
			if last := time.Duration(c.b.L12LastHourSeconds) * time.Second; l.ListingEnd.Sub(l.ListingStart) <= last {
				c.add("L12", "listing_end", fmt.Sprintf("挂牌期须长于截止前不接受报价的%s", last),
					fmt.Sprintf("挂牌期自%s至%s", ts(l.ListingStart), ts(l.ListingEnd)))
			}
		}
	}
	if l.BiddingMode != ModeOffline && l.BiddingMode != ModeSealed && !l.Increment.IsPositive() {
		c.add(RuleRequired, "increment", "网上竞价须设定加价幅度（L8）", "未设定")
	}
	if l.PostQualification != "" && !Online(l.BiddingMode) {
		c.add(RuleRequired, "post_qualification", "资格后审只适用于网上竞价的标的", "竞价方式为"+ModeName(l.BiddingMode))
	}
	if l.PriorityHolder != "" && (l.Category != Property || !Online(l.BiddingMode)) {
		c.add("P7", "priority_holder", "优先购买权只适用于国有产权网络竞价的标的", "竞价方式为"+ModeName(l.BiddingMode))
	}
	if l.PriceCap.IsPositive() && start.IsPositive() && !l.PriceCap.GreaterThan(start) {
		c.add("L15", "price_cap", "最高限价须高于起始价", fmt.Sprintf("最高限价%s，起始价%s", yuan(l.PriceCap), yuan(start)))
	}
}
