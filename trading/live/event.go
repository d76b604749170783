package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Channel is the PostgreSQL NOTIFY channel every instance listens on.
const Channel = "ggzy_live"

// Event is one durable live event: the seq-th of its topic.
type Event struct {
	Topic string          `json:"topic"`
	Seq   int64           `json:"seq"`
	Kind  string          `json:"kind"`
	Data  json.RawMessage `json:"data"`
	At    time.Time       `json:"at"` // PostgreSQL's clock when it was published

	frame []byte // the SSE frame, encoded once for every watcher
}

var (
	topicRe = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,200}$`)
	kindRe  = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
)

// ErrBadName is the refusal of a topic or kind outside the allowed
// characters (they travel in NOTIFY payloads and SSE field lines).
var ErrBadName = errors.New("live: bad topic or kind")

// ValidTopic reports whether topic may be used: 1-200 of A-Z a-z 0-9 _ . : / -.
func ValidTopic(topic string) bool { return topicRe.MatchString(topic) }

// Publish appends an event to topic in the caller's transaction tx and
// returns its sequence number. Numbers are gap-free and, per topic, in
// commit order: Publish locks the topic's counter row until tx ends, so
// publish as late in the transaction as possible, and when one transaction
// publishes on several topics, always in the same order (else two such
// transactions can deadlock; Transact retries them). Every instance's hub
// is notified when tx commits (with the topic and number only); if tx rolls
// back, nothing was published. data is marshalled to JSON.
//
// Equivalent SQL:
//
//	WITH s AS (INSERT INTO live_topics AS t (topic, last_seq) VALUES ($1, 1)
//	           ON CONFLICT (topic) DO UPDATE SET last_seq = t.last_seq + 1 RETURNING last_seq)
//	INSERT INTO live_events (topic, seq, kind, data) SELECT $1, last_seq, $2, $3 FROM s RETURNING seq
//
// (the insert's trigger sends NOTIFY ggzy_live, 'topic seq').
func Publish(ctx context.Context, tx *gorm.DB, topic, kind string, data any) (int64, error) {
	if !topicRe.MatchString(topic) || !kindRe.MatchString(kind) {
		return 0, fmt.Errorf("publish %q/%q: %w", topic, kind, ErrBadName)
	}
	b, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("publish %s: %w", topic, err)
	}
	var seq int64
	err = tx.WithContext(ctx).Raw(`WITH s AS (
		INSERT INTO live_topics AS t (topic, last_seq) VALUES (?, 1)
		ON CONFLICT (topic) DO UPDATE SET last_seq = t.last_seq + 1 RETURNING last_seq)
	INSERT INTO live_events (topic, seq, kind, data, created_at)
	SELECT ?, last_seq, ?, ?::jsonb, clock_timestamp() FROM s RETURNING seq`, topic, topic, kind, string(b)).Row().Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("publish %s: %w", topic, err)
	}
	return seq, nil
}

// Last is the topic's last committed sequence number (0 if none). A page
// renders its state and Last together (in one transaction or snapshot) and
// passes Last to live.js, which asks the stream for what came after.
func Last(ctx context.Context, db *gorm.DB, topic string) (int64, error) {
	var seq int64
	err := db.WithContext(ctx).Raw(`SELECT COALESCE((SELECT last_seq FROM live_topics WHERE topic = ?), 0)`, topic).Row().Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("live: last of %s: %w", topic, err)
	}
	return seq, nil
}

// Since reads up to limit events of topic with after < seq <= upTo (upTo
// 0: no bound), in order. It is how clients catch up, and how a
// replay (a bidding record) reads a topic's whole history.
func Since(ctx context.Context, db *gorm.DB, topic string, after, upTo int64, limit int) ([]*Event, error) {
	if upTo <= 0 {
		upTo = 1<<63 - 1
	}
	rows, err := db.WithContext(ctx).Raw(`SELECT seq, kind, data, created_at FROM live_events
		WHERE topic = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, topic, after, upTo, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("live: read %s: %w", topic, err)
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e := &Event{Topic: topic}
		var data []byte
		if err := rows.Scan(&e.Seq, &e.Kind, &data, &e.At); err != nil {
			return nil, fmt.Errorf("live: read %s: %w", topic, err)
		}
		e.Data = data
		e.encode()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("live: read %s: %w", topic, err)
	}
	return out, nil
}

// encode builds the SSE frame. Kinds are one token and jsonb's text never
// holds a raw newline, so each field is one line.
func (e *Event) encode() {
	b := make([]byte, 0, len(e.Data)+len(e.Kind)+32)
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, "\nevent: "...)
	b = append(b, e.Kind...)
	b = append(b, "\ndata: "...)
	b = append(b, e.Data...)
	b = append(b, "\n\n"...)
	e.frame = b
}
