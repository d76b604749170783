// Package live is the one live mechanism of the platform (land and property
// bidding, the bid-opening hall, the supervisors' dashboard): durable events
// with a gap-free sequence number per topic, shared by every instance through
// PostgreSQL LISTEN/NOTIFY, streamed to browsers as Server-Sent Events.
//
// Usage:
//
//	// in the transaction that changes the state (a quote is accepted):
//	seq, err := live.Publish(ctx, tx, "lot/42", "quote", QuoteJSON{...})
//	// once per instance (cmd/ggzy does it: App.Live):
//	hub := live.NewHub(db, databaseURL, live.Options{}); hub.Start(ctx); defer hub.Close()
//	// a route; the func authorises and names the topic:
//	e.GET("/lots/:id/live", hub.Stream(func(c echo.Context) (string, error) { return "lot/" + c.Param("id"), nil }))
//	// the page renders its state with live.Last(ctx, db, "lot/42") and loads live.js:
//	//   <div data-live-src="/lots/42/live" data-live-last="{{.Seq}}">…
//
// Events are rows of live_events (topic, seq, kind, data, created_at). A
// NOTIFY carries only "topic seq"; each instance's Hub reads the new rows
// once and hands them to its subscribers in order. A client that reconnects,
// to any instance, sends its last seq and catches up from the table. Topics
// are public to whoever the TopicFunc lets in: put in an event only what
// every watcher of the topic may see (codes, never names), and use another
// topic for what only supervisors may see.
package live
