package trading

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// publishLockKey serialises the moment of publication so that
// published_seq grows in commit order ("ggzypub").
const publishLockKey = 0x67677a79707562

// publish makes an announcement public inside tx: the rule book runs at this
// moment, an amendment's changes reach the lots, the project's status
// follows, and published_seq is taken under a lock held until commit.
func (s *Service) publish(ctx context.Context, tx *gorm.DB, a Actor, n *Announcement, p *Project, now time.Time) error {
	// The project may have moved on since the announcement was drafted (another
	// opening announcement, a termination): check again under the project's lock.
	var fresh Project
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select("id", "code", "status", "opened_at", "suspended_at", "suspend_reason").
		First(&fresh, p.ID).Error; err != nil {
		return err
	}
	p.Status, p.OpenedAt = fresh.Status, fresh.OpenedAt
	// A suspended project publishes nothing but its termination: results,
	// candidates and amendments wait until a supervisor resumes it.
	if n.Type != AnnouncementTermination {
		if err := fresh.CheckRunning(); err != nil {
			return err
		}
	}
	if err := s.checkTypeAllowed(tx, p, &AnnouncementInput{Type: n.Type, AmendsID: derefID(n.AmendsID)}); err != nil {
		return err
	}
	if res, err := s.checkRules(ctx, tx, p, n, now); err != nil {
		return err
	} else if len(res.Violations) > 0 {
		return RuleViolations("发布公告", res.Violations).InCategory(p.Category)
	}
	if n.Type == AnnouncementAmendment && n.Changes != nil {
		for _, ch := range n.Changes.Lots {
			for i := range p.Lots {
				if p.Lots[i].ID == ch.LotID {
					l := ch.apply(p.Lots[i])
					if err := tx.Select("doc_issue_end", "registration_end", "bid_deadline", "listing_end", "auction_at", "opening_place").
						Save(&l).Error; err != nil {
						return err
					}
					p.Lots[i] = l
				}
			}
		}
	}
	status := p.Status
	switch {
	case n.Type.IsOpening():
		status = ProjectActive
	case n.Type == AnnouncementTermination:
		status = ProjectTerminated
	}
	if status != p.Status {
		changes := map[string]any{"status": status, "updated_at": now}
		if n.Type.IsOpening() {
			changes["opened_at"] = now
			p.OpenedAt = &now
		}
		if err := tx.Model(&Project{}).Where("id = ?", p.ID).Updates(changes).Error; err != nil {
			return err
		}
		p.Status = status
	}
	if n.Type == AnnouncementTermination {
		// Lots without a result are cancelled: counted apart in the
		// savings report, never in a rate.
		if err := tx.Exec(`INSERT INTO lot_outcomes (lot_id, project_id, category, region_code, status, reason, decided_on, updated_at)
			SELECT l.id, p.id, p.category, p.region_code, 'cancelled', '项目终止', (?::timestamptz AT TIME ZONE 'Asia/Shanghai')::date, ?
			FROM lots l JOIN projects p ON p.id = l.project_id WHERE p.id = ?
			ON CONFLICT (lot_id) DO NOTHING`, now, now, p.ID).Error; err != nil {
			return err
		}
		// Nothing else of a terminated project may still go out.
		if err := tx.Model(&Announcement{}).Where("project_id = ? AND id <> ? AND status IN ?", p.ID, n.ID,
			[]AnnouncementStatus{AnnouncementSubmitted, AnnouncementScheduled}).
			Updates(map[string]any{"status": AnnouncementRejected, "reject_reason": "项目已终止", "publish_at": nil, "updated_at": now}).Error; err != nil {
			return err
		}
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", publishLockKey).Error; err != nil {
		return err
	}
	var seq int64
	if err := tx.Raw("SELECT nextval('announcements_published_seq')").Scan(&seq).Error; err != nil {
		return err
	}
	n.Status, n.PublishedAt, n.PublishedSeq, n.UpdatedAt = AnnouncementPublished, &now, &seq, now
	if err := tx.Omit(clause.Associations).Save(n).Error; err != nil {
		return err
	}
	for _, hook := range s.OnPublish {
		if err := hook(ctx, tx, n, p); err != nil {
			return err
		}
	}
	return Audit(tx, now, a, "announcement.publish", "announcement", fmt.Sprint(n.ID),
		fmt.Sprintf("发布%s“%s”（项目 %s）", n.Type.Name(), n.Title, p.Code))
}

// PublishDue publishes the scheduled announcements whose time has come; several
// instances may run it at once (SKIP LOCKED). An announcement that now breaks a
// rule is returned to the agent with the violations as the reason.
func (s *Service) PublishDue(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	published := 0
	for {
		var done bool
		err := Transact(ctx, s.DB, func(tx *gorm.DB) error {
			var n Announcement
			found, err := Lookup(tx.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).
				Where("status = ? AND publish_at <= ?", AnnouncementScheduled, now).Order("publish_at, id"), &n)
			if err != nil {
				return err
			}
			if !found {
				done = true
				return nil
			}
			p, err := LoadProject(tx, "id = ?", n.ProjectID)
			if err != nil {
				return err
			}
			err = s.publish(ctx, tx.SavePoint("publish"), SystemActor, &n, p, now)
			var de *Error
			if errors.As(err, &de) && de.Status() < 500 {
				if err := tx.RollbackTo("publish").Error; err != nil {
					return err
				}
				n.Status, n.RejectReason, n.PublishAt, n.UpdatedAt = AnnouncementRejected, "定时发布时"+de.Message, nil, now
				if err := tx.Omit(clause.Associations).Save(&n).Error; err != nil {
					return err
				}
				if err := Notify(tx, now, Message{Title: "公告未能定时发布，已退回", Link: agentAnnouncementLink(p),
					Body: fmt.Sprintf("项目 %s 的%s《%s》%s", p.Code, n.Type.Name(), n.Title, n.RejectReason)}, p.AgentID); err != nil {
					return err
				}
				return Audit(tx, now, SystemActor, "announcement.reject", "announcement", fmt.Sprint(n.ID), n.RejectReason)
			}
			if err == nil {
				published++
			}
			return err
		})
		if err != nil || done {
			return published, err
		}
	}
}

// RunPublisher publishes due announcements every interval until ctx ends.
func (s *Service) RunPublisher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.PublishDue(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("scheduled publishing", "err", err)
		} else if n > 0 {
			s.Log.Info("published scheduled announcements", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
