package trading

import "strings"

// SubType is a project's sub-type (交易子类), what the provincial portals
// list and filter announcements by: the kind of works or goods of a tender, the
// way land or property is sold. Each category has its own (migration 00023
// checks the pair).
type SubType string

const (
	SubConstruction SubType = "construction" // 施工
	SubSupervision  SubType = "supervision"  // 监理
	SubSurvey       SubType = "survey"       // 勘察
	SubDesign       SubType = "design"       // 设计
	SubGoods        SubType = "goods"        // 货物
	SubServices     SubType = "services"     // 服务
	SubWorks        SubType = "works"        // 工程 (procurement of works)
	SubListing      SubType = "listing"      // 挂牌
	SubAuction      SubType = "auction"      // 拍卖
	SubTender       SubType = "tender"       // 招标
)

var subTypeNames = map[SubType]string{SubConstruction: "施工", SubSupervision: "监理", SubSurvey: "勘察", SubDesign: "设计",
	SubGoods: "货物", SubServices: "服务", SubWorks: "工程", SubListing: "挂牌", SubAuction: "拍卖", SubTender: "招标"}

// subTypesOf are each category's sub-types in display order; the first is
// the default of a project entered without one.
var subTypesOf = map[Category][]SubType{
	Engineering: {SubConstruction, SubSupervision, SubSurvey, SubDesign, SubGoods, SubServices},
	Procurement: {SubGoods, SubServices, SubWorks},
	Land:        {SubListing, SubAuction, SubTender},
	Property:    {SubListing, SubAuction, SubTender},
}

// Name is the Chinese name of the sub-type ("" for an unknown one).
func (t SubType) Name() string { return subTypeNames[t] }

// ValidFor tells whether t is a sub-type of the category.
func (t SubType) ValidFor(c Category) bool {
	for _, x := range subTypesOf[c] {
		if x == t {
			return true
		}
	}
	return false
}

// Valid tells whether t is a sub-type of some category.
func (t SubType) Valid() bool { return t.Name() != "" }

// SubTypeGroup is one category's sub-types, for a select with optgroups.
type SubTypeGroup struct {
	Category Category
	Name     string
	Options  []Option
}

// SubTypeGroups are the sub-types of every category, in category order.
func SubTypeGroups() []SubTypeGroup {
	var out []SubTypeGroup
	for _, c := range Categories() {
		g := SubTypeGroup{Category: c, Name: c.Name()}
		for _, t := range subTypesOf[c] {
			g.Options = append(g.Options, Option{Value: string(t), Name: t.Name()})
		}
		out = append(out, g)
	}
	return out
}

// subTypeChoices names the sub-types of a category for an error message.
func subTypeChoices(c Category) string {
	var names []string
	for _, t := range subTypesOf[c] {
		names = append(names, t.Name())
	}
	return strings.Join(names, "、")
}

// defaultSubType is the sub-type of a project entered without one: land
// sold by auction is 拍卖, anything else the category's first.
func defaultSubType(c Category, lots []LotInput) SubType {
	if c == Land {
		for _, l := range lots {
			if strings.TrimSpace(l.BiddingMode) == "auction" {
				return SubAuction
			}
		}
	}
	return subTypesOf[c][0]
}
