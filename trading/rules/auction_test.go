package rules

import (
	"testing"
	"time"
)

// The bidding modes (issue 15 §1) as the rule book checks them.
func TestBiddingModes(t *testing.T) {
	at := tm("2025-03-03 09:00")
	cases := []struct {
		name  string
		lot   func() Lot
		rule  string // "" : no violation
		field string
	}{
		{"land listing", func() Lot { l := land(); l.BiddingMode = ModeListing; return l }, "", ""},
		{"land offline", func() Lot { l := land(); l.BiddingMode = ModeOffline; return l }, "", ""},
		{"property sealed", func() Lot { l := property(); l.BiddingMode = ModeSealed; return l }, "", ""},
		{"land with a property mode", func() Lot { l := land(); l.BiddingMode = ModeMulti; return l }, RuleRequired, "bidding_mode"},
		{"auction without its time", func() Lot { l := land(); l.BiddingMode = ModeAuction; return l }, RuleRequired, "auction_at"},
		{"multi without an increment", func() Lot { l := property(); l.BiddingMode = ModeMulti; return l }, RuleRequired, "increment"},
		{"cap not above the start", func() Lot {
			l := land()
			l.BiddingMode, l.PriceCap = ModeListing, yuanOf("10000000")
			return l
		}, "L15", "price_cap"},
		{"listing within its last hour", func() Lot {
			l := land()
			l.BiddingMode = ModeListing
			l.ListingEnd = l.ListingStart.Add(30 * time.Minute)
			return l
		}, "L12", "listing_end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var found *Violation
			vs := book(t).CheckSchedule(c.lot(), at)
			for i, v := range vs {
				if v.Field == c.field && v.Rule == c.rule {
					found = &vs[i]
				}
			}
			if c.rule == "" {
				for _, v := range vs {
					if v.Field == "bidding_mode" || v.Field == "price_cap" || v.Rule == "L12" || v.Rule == "L15" {
						t.Fatalf("unexpected %v", v)
					}
				}
				return
			}
			if found == nil {
				t.Fatalf("want %s on %s, got %v", c.rule, c.field, vs)
			}
		})
	}
	if !ValidMode(Land, ModeAuction) || ValidMode(Engineering, ModeListing) || ValidMode(Property, ModeListing) {
		t.Fatal("ValidMode")
	}
}
