package live

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// TopicFunc authorises the request and names the topic it streams, from
// the caller's route (a lot id, a hall id). An error is returned to Echo
// before anything is written, so the usual error handler answers it.
type TopicFunc func(c echo.Context) (string, error)

// catchUpPage is how many events one catch-up read returns.
const catchUpPage = 500

// writeTimeout bounds one write to a client: a client that stops reading
// is let go instead of holding its handler forever.
const writeTimeout = 30 * time.Second

// Stream returns the Echo handler of a topic's Server-Sent Events:
//
//	retry: <ms>               (with jitter, so a restart's reconnects spread)
//	event: clock              data: {"now": <server ms>}, PostgreSQL's clock
//	id: <seq>  event: <kind>  data: <json>   (one per event, flushed)
//	: hb                      (a heartbeat every 15 s)
//
// A client that sends Last-Event-ID (the header EventSource sends when it
// reconnects, or the last_event_id query parameter a page renders) first
// gets the events after it from the table, then the live ones, with neither
// gap nor repeat. Without one, the stream starts at the topic's present.
// The stream ends when the client goes, when it falls too far behind (it
// reconnects and catches up), and when the hub closes.
func (h *Hub) Stream(topic TopicFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		name, err := topic(c)
		if err != nil {
			return err
		}
		req := c.Request()
		ctx := req.Context()
		last := int64(-1)
		for _, v := range []string{req.Header.Get("Last-Event-ID"), c.QueryParam("last_event_id")} {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				last = n
				break
			}
		}
		sub, from, err := h.Subscribe(ctx, name)
		if err != nil {
			if errors.Is(err, ErrBadName) {
				return echo.NewHTTPError(http.StatusNotFound)
			}
			if ctx.Err() != nil {
				return nil
			}
			return echo.NewHTTPError(http.StatusServiceUnavailable, "实时推送暂不可用，请稍后重试")
		}
		defer sub.Close()

		w := c.Response()
		rc := http.NewResponseController(w)
		// The connection may serve other requests afterwards.
		defer rc.SetWriteDeadline(time.Time{})
		hd := w.Header()
		hd.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
		hd.Set(echo.HeaderCacheControl, "no-cache, no-store")
		hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		w.WriteHeader(http.StatusOK)

		buf := make([]byte, 0, 256)
		buf = append(buf, "retry: "...)
		buf = strconv.AppendInt(buf, int64(1000+rand.IntN(2000)), 10)
		buf = append(buf, "\n\nevent: clock\ndata: {\"now\":"...)
		buf = strconv.AppendInt(buf, h.Now().UnixMilli(), 10)
		buf = append(buf, "}\n\n"...)
		if !send(rc, w, buf) {
			return nil
		}

		sent := from // the last seq this client has
		if last >= 0 {
			if last < from {
				if sent, err = h.catchUp(ctx, rc, w, name, last, from); err != nil {
					return nil
				}
			} else {
				sent = last // it is ahead of this hub (another instance told it)
			}
		}

		hb := time.NewTicker(h.opt.Heartbeat)
		defer hb.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-hb.C:
				if !send(rc, w, []byte(": hb\n\n")) {
					return nil
				}
			case e, ok := <-sub.C:
				if !ok {
					return nil // dropped (too slow) or the hub closed
				}
				// Write what is queued, then flush once.
				for more := true; more; {
					if e.Seq > sent+1 {
						// A hole: read it from the table (never expected, see Publish).
						if sent, err = h.catchUp(ctx, rc, w, name, sent, e.Seq-1); err != nil {
							return nil
						}
					}
					if e.Seq == sent+1 {
						if !write(rc, w, e.frame) {
							return nil
						}
						sent = e.Seq
					}
					select {
					case e, more = <-sub.C:
						if !more {
							rc.Flush()
							return nil
						}
					default:
						more = false
					}
				}
				if rc.Flush() != nil {
					return nil
				}
			}
		}
	}
}

// catchUp sends topic's events in (after, upTo] from the table and returns
// the last seq sent. Events deleted by Prune are skipped: the client is
// told with an event "reset" (data: the first seq it gets), so the page
// can reload its state.
func (h *Hub) catchUp(ctx context.Context, rc *http.ResponseController, w http.ResponseWriter, topic string, after, upTo int64) (int64, error) {
	for after < upTo {
		evs, err := Since(ctx, h.db, topic, after, upTo, catchUpPage)
		if err != nil {
			return after, err
		}
		if len(evs) == 0 {
			return upTo, nil
		}
		if evs[0].Seq != after+1 {
			if !write(rc, w, []byte("event: reset\ndata: "+strconv.FormatInt(evs[0].Seq, 10)+"\n\n")) {
				return after, errGone
			}
		}
		for _, e := range evs {
			if !write(rc, w, e.frame) {
				return after, errGone
			}
			after = e.Seq
		}
		if rc.Flush() != nil {
			return after, errGone
		}
	}
	return after, nil
}

var errGone = errors.New("live: client gone")

func write(rc *http.ResponseController, w http.ResponseWriter, b []byte) bool {
	rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := w.Write(b)
	return err == nil
}

func send(rc *http.ResponseController, w http.ResponseWriter, b []byte) bool {
	return write(rc, w, b) && rc.Flush() == nil
}
